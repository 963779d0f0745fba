import numpy as np
import pytest

import melody_audio as ma
from melody_audio import AudioError

pytestmark = pytest.mark.usefixtures("ffmpeg")
SR = 44100


@pytest.fixture(autouse=True)
def _helpers(synth):
    global tone, write_audio
    tone, write_audio = synth.tone, synth.write_audio


@pytest.mark.parametrize(
    "name,args",
    [
        ("a.wav", []),
        ("a.mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("a.m4a", ["-c:a", "aac"]),
        ("a.ogg", ["-c:a", "libvorbis"]),
        ("a.opus", ["-c:a", "libopus"]),
        ("a.webm", ["-c:a", "libopus"]),
        ("a.flac", ["-c:a", "flac"]),
    ],
)
def test_decodes_common_formats(tmp_path, name, args):
    path = write_audio(tmp_path / name, tone(seconds=2.0), codec_args=args)
    audio = ma.decode(path)
    assert audio.sample_rate == SR
    assert audio.channels == 2 and audio.samples.dtype == np.float32
    assert abs(audio.duration_s - 2.0) < 0.1
    assert 0.3 < np.abs(audio.samples).max() < 0.7


def test_mono_stays_mono(tmp_path):
    audio = ma.decode(write_audio(tmp_path / "m.wav", tone(channels=1)))
    assert audio.channels == 1 and audio.source_channels == 1


def test_multichannel_is_downmixed_to_stereo(tmp_path):
    x = tone(channels=6, amp=0.3)
    audio = ma.decode(write_audio(tmp_path / "six.flac", x, codec_args=["-c:a", "flac"]))
    assert audio.channels == 2 and audio.source_channels == 6


@pytest.mark.parametrize("rate", [8000, 22050, 96000])
def test_odd_sample_rates_are_resampled(tmp_path, rate):
    audio = ma.decode(write_audio(tmp_path / "r.wav", tone(seconds=1.0, sr=rate), sr=rate))
    assert audio.sample_rate == SR and audio.source_sample_rate == rate
    assert abs(audio.n_samples - SR) < 200
    # the 440 Hz tone survives resampling
    spec = np.abs(np.fft.rfft(audio.samples[0]))
    assert abs(np.argmax(spec) * SR / audio.n_samples - 440) < 3


def test_decode_bytes_and_custom_rate(tmp_path, wav_tone):
    audio = ma.decode(wav_tone.read_bytes(), sample_rate=22050, filename_hint="x.wav")
    assert audio.sample_rate == 22050 and abs(audio.duration_s - 2.0) < 0.05


def _code(source, **kw):
    with pytest.raises(AudioError) as exc:
        ma.decode(source, **kw)
    return exc.value.code


def test_not_audio_text(tmp_path):
    p = tmp_path / "notes.mp3"
    p.write_text("this is not audio at all\n" * 50)
    assert _code(p) == "not_audio"


def test_not_audio_image_without_audio_stream(tmp_path):
    import subprocess

    p = tmp_path / "pic.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-frames:v", "1", str(p)],
                   check=True)
    assert _code(p) == "not_audio"


def test_random_bytes_are_not_audio():
    assert _code(np.random.default_rng(1).bytes(5000)) == "not_audio"


@pytest.mark.parametrize("name,args", [("t.wav", []), ("t.flac", ["-c:a", "flac"]),
                                       ("t.mp3", ["-c:a", "libmp3lame"]), ("t.m4a", ["-c:a", "aac"])])
def test_truncated_files_are_corrupt(tmp_path, name, args):
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal((2, SR * 2)) * 0.2).astype(np.float32)  # noise: does not compress away
    full = write_audio(tmp_path / name, noise, codec_args=args)
    cut = tmp_path / ("cut_" + name)
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    assert _code(cut) == "corrupt_audio"


def test_zero_byte_file_is_empty(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    assert _code(p) == "empty_audio"
    assert _code(b"") == "empty_audio"


def test_wav_with_no_samples_is_empty(tmp_path):
    import wave

    p = tmp_path / "nothing.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(b"")
    assert _code(p) == "empty_audio"


def test_silence(tmp_path):
    p = write_audio(tmp_path / "silence.wav", np.zeros((2, SR), dtype=np.float32))
    assert _code(p) == "silent_audio"
    assert ma.decode(p, allow_silence=True).n_samples == SR


def test_too_long_with_small_limit(tmp_path):
    p = write_audio(tmp_path / "long.wav", tone(seconds=3.0))
    with pytest.raises(AudioError) as exc:
        ma.decode(p, max_duration_s=2.0)
    assert exc.value.code == "too_long" and exc.value.details["limit_s"] == 2.0
    assert ma.decode(p, max_duration_s=5.0).n_samples == 3 * SR


def test_missing_file(tmp_path):
    assert _code(tmp_path / "nope.wav") == "file_not_found"


def test_error_has_code_and_message():
    err = AudioError("not_audio", "nope")
    assert err.code == "not_audio" and err.message == "nope" and isinstance(err, Exception)
    assert err.to_dict()["code"] == "not_audio"


def test_content_hash(tmp_path, wav_tone):
    import hashlib

    assert ma.content_hash(wav_tone) == hashlib.sha256(wav_tone.read_bytes()).hexdigest()
    assert ma.content_hash(b"abc") == hashlib.sha256(b"abc").hexdigest()
