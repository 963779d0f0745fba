"""The renditions steps over fakes, with the real audio engine (ffmpeg encodes and decodes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from melody.renditions.models import Rendition, rendition_id_for
from melody.renditions.steps import RenditionSteps
from tests.unit.auth.fakes import FakeClock
from tests.unit.renditions.fakes import FakeStorage, MemoryRenditions, MemoryResults, result

SR = 44100


def _tone_m4a(tmp_path, hz: float, seconds: float = 3.0) -> bytes:
    import melody_audio

    t = np.arange(int(SR * seconds)) / SR
    x = np.stack([0.3 * np.sin(2 * np.pi * hz * t), 0.2 * np.sin(2 * np.pi * hz * t)]).astype(np.float32)
    path = melody_audio.encode(x, SR, str(tmp_path / f"tone{hz}.m4a"), "m4a")
    return path.read_bytes()


def _peak_hz(samples: np.ndarray) -> float:
    mono = samples.mean(axis=0)[SR // 2 : -SR // 2]
    size = 1 << 19
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size), size))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / size


@pytest.fixture()
def world(tmp_path):
    storage = FakeStorage()
    res = result("h1#dsp")
    storage.objects[("media", res.instrumental_key)] = _tone_m4a(tmp_path, 440.0)
    storage.objects[("media", res.vocals_key)] = _tone_m4a(tmp_path, 330.0)
    store = MemoryRenditions()
    rid = rendition_id_for("h1#dsp", -2, 0.8)
    store.create(Rendition(rendition_id=rid, result_key="h1#dsp", semitones=-2, tempo=0.8, status="queued", created_at=0, updated_at=0))
    events: list[tuple[str, str]] = []
    steps = RenditionSteps(store, MemoryResults(res), storage, FakeClock(), media_bucket="media",
                           work_dir=tmp_path / "work", on_step=lambda s, o, _t: events.append((s, o)))  # fmt: skip
    return steps, store, storage, rid, events


def test_prepare_render_persist_make_both_stems_at_the_new_key_and_length(world, tmp_path):
    import melody_audio

    steps, store, storage, rid, events = world
    state = {"rendition_id": rid, "result_key": "h1#dsp", "semitones": -2, "tempo": 0.8, "attempt": 0}
    steps.prepare(state)
    record = store.get(rid)
    assert record.status == "processing" and record.analysis["key"]["tonic"] == "G"
    assert record.analysis["tempo"]["bpm"] == 80.0
    keys = {stem: steps.render({"rendition_id": rid, "stem": stem})["key"] for stem in ("instrumental", "vocals")}
    assert keys["vocals"] == "renditions/h1/dsp/-2_0.80/vocals.m4a"
    steps.persist({**state, "stems": {"instrumental_key": keys["instrumental"], "vocals_key": keys["vocals"]}})
    record = store.get(rid)
    assert (record.status, record.progress, record.instrumental_key) == ("succeeded", 100, keys["instrumental"])
    for stem, hz in (("instrumental", 440.0), ("vocals", 330.0)):
        out = tmp_path / f"{stem}.m4a"
        out.write_bytes(storage.objects[("media", keys[stem])])
        audio = melody_audio.decode(str(out))
        assert audio.channels == 2
        assert abs(audio.duration_s - 3.0 / 0.8) < 0.06  # AAC priming/padding: a few ms
        cents = 1200 * np.log2(_peak_hz(audio.samples) / (hz * 2 ** (-2 / 12)))
        assert abs(cents) < 5
        # The stereo image is kept: the left/right level ratio of the tone (0.3 : 0.2).
        left, right = (float(np.sqrt(np.mean(c[SR:-SR] ** 2))) for c in audio.samples)
        assert abs(left / right - 1.5) < 0.05
    assert ("rendition_render_instrumental", "succeeded") in events


def test_a_failure_is_recorded_with_its_reason_and_counted_once(world):
    steps, store, _, rid, events = world
    error = {"Error": "AudioRejected", "Cause": json.dumps({"errorMessage": "stems_missing: The song's stems are gone."})}
    assert steps.mark_failed({"rendition_id": rid, "error": error})["code"] == "stems_missing"
    steps.mark_failed({"rendition_id": rid, "error": error})
    record = store.get(rid)
    assert record.status == "failed" and record.error.code == "stems_missing"
    assert events.count(("renditions", "failed")) == 1


def test_missing_stems_are_an_input_style_failure_not_a_crash(world):
    from melody.conversions.steps import AudioRejected

    steps, store, storage, rid, _ = world
    steps._results.items.clear()  # the song's last job was deleted with its stems
    with pytest.raises(AudioRejected, match="stems_missing"):
        steps.prepare({"rendition_id": rid})
    assert store.get(rid).status == "queued"


def test_a_wav_export_is_the_stem_as_it_is_in_16_bit_pcm(world, tmp_path):
    import melody_audio

    steps, store, storage, _, _ = world
    rid = rendition_id_for("h1#dsp", 0, 1.0, "wav")
    assert rid != rendition_id_for("h1#dsp", 0, 1.0)
    store.create(Rendition(rendition_id=rid, result_key="h1#dsp", semitones=0, tempo=1.0, format="wav",
                           status="queued", created_at=0, updated_at=0))  # fmt: skip
    steps.prepare({"rendition_id": rid})
    key = steps.render({"rendition_id": rid, "stem": "vocals"})["key"]
    assert key == "renditions/h1/dsp/+0_1.00/vocals.wav"
    data = storage.objects[("media", key)]
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    path = tmp_path / "export.wav"
    path.write_bytes(data)
    audio = melody_audio.decode(str(path), max_duration_s=None)
    assert abs(audio.samples.shape[-1] / audio.sample_rate - 3.0) < 0.05  # not stretched
    assert abs(_peak_hz(audio.samples) - 330.0) < 0.5  # not transposed
