"""The key's note evidence (analysis/notes_key.py) and the calibrated key confidence."""

from __future__ import annotations

import numpy as np
import pytest

from melody_audio.analysis import _fitted, fitting, notes_key
from melody_audio.analysis import key as keymod

SR = 22050

needs_model = pytest.mark.skipif(not notes_key.available(), reason="onnxruntime / note model not installed")


def _tones(midis, cents: float = 0.0, seconds: float = 8.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = np.zeros(t.size)
    for m in midis:
        f = 440.0 * 2 ** ((m - 69 + cents / 100) / 12)
        for h in range(1, 6):  # harmonics: the 3rd of a C is a G, the 5th an E
            x += np.sin(2 * np.pi * f * h * t) / h ** 1.2
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def test_retune_moves_a_detuned_a_to_440():
    sharp = 440.0 * 2 ** (0.3 / 12)  # A4 30 cents sharp
    t = np.arange(SR * 2) / SR
    y = notes_key.retune(np.sin(2 * np.pi * sharp * t).astype(np.float32), 0.3)
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    peak = np.argmax(spec) * SR / y.size
    assert abs(peak - 440.0) < 1.0
    assert np.array_equal(notes_key.retune(y, 0.0), y)


def test_sample_chunks_keeps_every_third_chunk():
    x = np.repeat(np.arange(10.0), 4)  # ten chunks of four samples
    part = notes_key.sample_chunks(x, 4, 3)
    assert np.array_equal(np.unique(part), [0.0, 3.0, 6.0, 9.0]) and part.size == 16
    assert notes_key.sample_chunks(x[:8], 4, 3).size == 8  # shorter than `every` chunks: all of it


@needs_model
def test_note_histogram_of_a_c_major_triad_peaks_at_c_e_g():
    h = notes_key.note_histograms(_tones([60, 64, 67]), SR, 0.0)
    assert h is not None
    top3 = set(np.argsort(h["gn"])[::-1][:3].tolist())
    assert top3 == {0, 4, 7}
    # the bass histogram (below G3) may hold a sub-octave ghost of the root, never another class
    assert set(np.nonzero(h["gnb"])[0].tolist()) <= {0, 4, 7}


@needs_model
@pytest.mark.parametrize("cents", [-30.0, 30.0])
def test_detuned_a_reads_a_after_tuning_compensation(cents):
    from melody_audio._dsp import resample

    x = _tones([57, 69], cents)  # A3 + A4, detuned
    _, _, _, tuning = keymod.frame_chroma_tuning(resample(x, SR, keymod.SR), keymod.SR)
    assert abs(100 * tuning - cents) < 5
    h = notes_key.note_histograms(x, SR, tuning)
    assert h is not None and int(np.argmax(h["gn"])) == 9


def test_fitted_note_model_matches_its_term_layout():
    k = _fitted.KEY_NOTES
    assert tuple(k["terms"]) == keymod.KEY_TERMS + keymod.NOTE_TERMS
    assert len(k["weights"]) == len(k["terms"])
    for field in ("profiles", "bass", "notes", "notes_bass"):
        assert np.asarray(k[field]).shape == (2, 12)
    assert tuple(_fitted.KEY["terms"]) == keymod.KEY_TERMS


def _terms(rng, tonic: int, minor: bool, strength: float) -> dict:
    prof = np.roll(keymod.MINOR if minor else keymod.MAJOR, tonic)
    g = 5 + strength * prof + rng.standard_normal(12)
    return {"g": g.tolist(), "gb": (g + rng.standard_normal(12)).tolist(), "chords": [0.0] * 24,
            "open_triad": [0.0] * 24, "open_bass": [0.0] * 24,
            "gn": (5 + strength * prof + rng.standard_normal(12)).tolist(), "gnb": g.tolist()}


def test_model_picks_the_note_parameters_only_when_notes_are_present():
    rng = np.random.default_rng(0)
    t = _terms(rng, 2, False, 3.0)
    assert keymod.default_params(t) is _fitted.KEY_NOTES
    chroma_only = {k: v for k, v in t.items() if k not in ("gn", "gnb")}
    assert keymod.default_params(chroma_only) is _fitted.KEY
    for terms in (t, chroma_only):
        p = keymod.key_probs(terms)
        assert p.shape == (24,) and abs(p.sum() - 1) < 1e-9


def test_key_confidence_is_fitted_to_the_hit_rate_not_the_posterior():
    # clips of mixed clarity: the calibrated confidence must beat a constant (Brier) on held-out
    # clips and stay near the hit rate, whatever the raw posteriors' scale
    rng = np.random.default_rng(1)

    def clips(n):
        out = []
        for _ in range(n):
            tonic, minor = int(rng.integers(12)), bool(rng.random() < 0.5)
            out.append((_terms(rng, tonic, minor, float(rng.uniform(0.0, 2.5))), tonic + 12 * minor))
        return out

    train, test = clips(120), clips(200)
    params = fitting.fit_key_params([t for t, _ in train], [i for _, i in train],
                                    names=keymod.KEY_TERMS + keymod.NOTE_TERMS)
    conf, ok = [], []
    for t, i in test:
        q = keymod.key_probs(t, params)
        conf.append(keymod.calibrated_confidence(q, params["platt"]))
        ok.append(float(int(np.argmax(q)) == i))
    c, o = np.array(conf), np.array(ok)
    assert np.all((c > 0) & (c < 1))
    assert abs(c.mean() - o.mean()) < 0.1
    assert np.mean((c - o) ** 2) < np.mean((o.mean() - o) ** 2)
