import json
import struct
import subprocess

import numpy as np
import pytest

import melody_audio as ma
from melody_audio import AudioError
from melody_audio.audio import Audio

SR = 44100


def test_waveform_bbc_format(synth):
    x = synth.tone(440, seconds=3.0, amp=0.5)
    w = ma.waveform(Audio(x, SR))
    assert {k: w[k] for k in ("version", "channels", "bits", "sample_rate")} == {
        "version": 2, "channels": 1, "bits": 8, "sample_rate": SR}
    assert w["samples_per_pixel"] == int(np.ceil(3 * SR / 1000))
    assert 990 <= w["length"] <= 1000
    assert len(w["data"]) == 2 * w["length"]
    mins, maxs = np.array(w["data"][0::2]), np.array(w["data"][1::2])
    assert np.all(mins <= maxs) and mins.min() >= -128 and maxs.max() <= 127
    assert abs(maxs.max() - 64) <= 1 and abs(mins.min() + 64) <= 1
    assert all(isinstance(v, int) for v in w["data"][:10])
    json.dumps(w)


def test_waveform_short_signal_and_custom_resolution():
    w = ma.waveform(np.zeros(10, dtype=np.float32), 8000)
    assert w["samples_per_pixel"] == 1 and w["length"] == 10
    w = ma.waveform(np.ones((2, 1000), dtype=np.float32) * 0.25, SR, samples_per_pixel=256)
    assert w["length"] == 4 and w["data"][:2] == [32, 32]


def _top_level_atoms(path):
    atoms = []
    with open(path, "rb") as fh:
        while True:
            hdr = fh.read(8)
            if len(hdr) < 8:
                return atoms
            size, kind = struct.unpack(">I4s", hdr)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, 1)
            else:
                fh.seek(size - 8, 1)
            atoms.append(kind.decode("latin-1"))
            if size == 0:
                return atoms


def _probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
                          "-of", "json", str(path)], capture_output=True, check=True, text=True).stdout
    return json.loads(out)["streams"][0]


@pytest.mark.usefixtures("ffmpeg")
def test_encode_m4a_is_aac_with_fast_start(tmp_path, synth):
    path = ma.encode(synth.tone(seconds=2.0), SR, tmp_path / "out.m4a", "m4a")
    info = _probe(path)
    assert info["codec_name"] == "aac" and info["channels"] == 2
    atoms = _top_level_atoms(path)
    assert "moov" in atoms and "mdat" in atoms and atoms.index("moov") < atoms.index("mdat")
    back = ma.decode(path)
    assert abs(back.duration_s - 2.0) < 0.1


@pytest.mark.usefixtures("ffmpeg")
def test_encode_wav_and_mono(tmp_path, synth):
    path = ma.encode(synth.tone(seconds=1.0, channels=1)[0], SR, tmp_path / "out.wav", "wav")
    info = _probe(path)
    assert info["codec_name"] == "pcm_s16le" and info["channels"] == 1


@pytest.mark.usefixtures("ffmpeg")
def test_encode_rejects_bad_format_and_shape(tmp_path):
    with pytest.raises(AudioError) as exc:
        ma.encode(np.zeros((2, 100), np.float32), SR, tmp_path / "x.mp3", "mp3")
    assert exc.value.code == "invalid_argument"
    with pytest.raises(AudioError) as exc:
        ma.encode(np.zeros((5, 100), np.float32), SR, tmp_path / "x.wav", "wav")
    assert exc.value.code == "invalid_argument"
