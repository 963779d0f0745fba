import numpy as np
import pytest

import melody_audio as ma
from melody_audio import AudioError
from melody_audio.audio import Audio, Stems
from melody_audio.separate import SeparationEngine, get_engine, register_engine

SR = 44100


def _voice_and_band(seconds=6.0, pan=0.1):
    """A vibrato 'voice' (harmonic, moving pitch) over steady chords panned wide and clicks."""
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    notes = 220 * 2 ** (np.array([0, 2, 4, 5, 7, 5, 4, 2]) / 12)
    f0 = np.repeat(notes, int(np.ceil(n / len(notes))))[:n]
    f0 = np.convolve(f0, np.ones(800) / 800, mode="same")
    f0 *= 2 ** (0.4 / 12 * np.sin(2 * np.pi * 5.5 * t))
    ph = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(h * ph) / h for h in range(1, 25))
    a = (pan + 1) * np.pi / 4
    vox = np.stack([np.cos(a) * voice, np.sin(a) * voice]) * 0.15
    chord = sum(np.sin(2 * np.pi * 130.81 * r * h * t) / h ** 1.5 for r in (1, 1.26, 1.5) for h in range(1, 8))
    band = np.stack([0.9 * chord, 0.3 * chord]) * 0.08
    clicks = np.zeros(n)
    for i in range(0, n - 2000, SR // 2):
        clicks[i:i + 2000] += rng.standard_normal(2000) * np.exp(-np.arange(2000) / 200)
    band = band + 0.2 * np.stack([clicks, clicks])
    return vox.astype(np.float32), band.astype(np.float32)


def _sdr(ref, est):
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - est) ** 2))


def test_dsp_engine_separates_voice_from_band():
    vox, band = _voice_and_band()
    mix = vox + band
    stems = ma.separate(Audio(mix, SR), engine="dsp")
    assert isinstance(stems, Stems) and stems.engine == "dsp" and stems.engine_version
    assert stems.vocals.shape == mix.shape == stems.instrumental.shape
    assert stems.vocals.dtype == np.float32
    np.testing.assert_allclose(stems.vocals + stems.instrumental, mix, atol=1e-5)
    # both stems are clearly better than returning the mixture
    assert _sdr(vox, stems.vocals) > _sdr(vox, mix) + 6
    assert _sdr(band, stems.instrumental) > _sdr(band, mix) + 6


def test_dsp_engine_mono_and_long_input_in_blocks():
    vox, band = _voice_and_band(seconds=6.0)
    mono = (vox + band).mean(axis=0)
    eng = get_engine("dsp", block_s=2.5, overlap_s=0.5)  # force several blocks
    stems = eng.separate(Audio(mono, SR))
    assert stems.vocals.shape == (1, mono.size)
    assert _sdr(vox.mean(axis=0), stems.vocals[0]) > _sdr(vox.mean(axis=0), mono) + 4


def test_dsp_engine_on_noise_does_not_fail():
    x = (np.random.default_rng(1).standard_normal((2, SR)) * 1e-3).astype(np.float32)
    stems = ma.separate(Audio(x, SR))
    assert np.all(np.isfinite(stems.vocals))


def test_registry_and_protocol():
    eng = get_engine("dsp")
    assert isinstance(eng, SeparationEngine) and eng.name == "dsp"
    with pytest.raises(AudioError) as exc:
        get_engine("nope")
    assert exc.value.code == "engine_unknown"

    class Silence:
        name, version = "silence", "0"

        def separate(self, audio):
            z = np.zeros_like(audio.samples)
            return Stems(audio.samples.copy(), z, audio.sample_rate, self.name, self.version)

    register_engine("silence", lambda **cfg: Silence())
    assert "silence" in ma.engine_names()
    out = ma.separate(Audio(np.ones((2, 100), np.float32), SR), engine="silence")
    assert out.engine == "silence" and not out.vocals.any()


def test_the_neural_engine_and_its_former_name_need_weights(tmp_path, monkeypatch):
    # the engine itself is tested on real (tiny) models in test_neural_engine.py
    monkeypatch.delenv("MELODY_NEURAL_WEIGHTS", raising=False)
    audio = Audio(np.ones((2, 100), np.float32), SR)
    for name in ("neural", "demucs"):
        with pytest.raises(AudioError) as exc:
            get_engine(name).separate(audio)
        assert exc.value.code == "model_missing"
    with pytest.raises(AudioError) as exc:
        get_engine("demucs", weights_path=str(tmp_path / "missing.onnx")).separate(audio)
    assert exc.value.code == "model_missing"
