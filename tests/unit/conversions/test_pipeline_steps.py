"""``PipelineSteps`` with in-memory stores and the real audio engine (ffmpeg): the configured
duration limit, an unknown duration, the analysis' engine, and the failure metric's kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from melody.conversions.steps import AudioRejected, PipelineSteps, _duration_s
from tests.support.songs import song_wav
from tests.unit.auth.fakes import FakeClock

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="ffmpeg/ffprobe not installed"
)


class FakeJobs:
    def __init__(self, job=None):
        self.changes: list[tuple[str, dict]] = []
        self.job = job

    def get(self, job_id):
        return self.job if self.job is not None and self.job.job_id == job_id else None

    def transition(self, job_id, *, allowed_from, changes):
        self.changes.append((job_id, changes))
        return True

    def advance(self, job_id, *, stage, progress, now):
        return True

    def record_timing(self, job_id, stage, seconds):
        pass


class FakeResults:
    def get(self, result_key):
        return None

    def put_if_absent(self, result):
        return True


class FakeStorage:
    def __init__(self, objects: dict[tuple[str, str], bytes]):
        self.objects = objects
        self.json: dict[tuple[str, str], object] = {}
        self.uploaded: dict[tuple[str, str], int] = {}

    def download(self, bucket, key, path):
        Path(path).write_bytes(self.objects[(bucket, key)])

    def upload(self, path, bucket, key, *, content_type):
        self.uploaded[(bucket, key)] = Path(path).stat().st_size

    def put_json(self, bucket, key, document):
        self.json[(bucket, key)] = json.loads(json.dumps(document))


def make_steps(tmp_path, body: bytes = b"", *, max_duration_s: float = 15 * 60, **kwargs):
    storage = FakeStorage({("up", "uploads/usr_1/job_1/song.wav"): body})
    jobs = FakeJobs()
    steps = PipelineSteps(
        jobs, FakeResults(), storage, FakeClock(),
        media_bucket="media", work_dir=tmp_path, max_upload_bytes=10**9, max_duration_s=max_duration_s, **kwargs,
    )  # fmt: skip
    return steps, jobs, storage


def state(engine: str = "dsp", **extra) -> dict:
    return {"bucket": "up", "key": "uploads/usr_1/job_1/song.wav", "job_id": "job_1", "user_id": "usr_1",
            "engine": engine, **extra}  # fmt: skip


PROBED = {"probe": {"content_hash": "ab" * 32, "cached": False}}


# -- the configured duration limit ------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("step", ["separate", "analyse"])
def test_separate_and_analyse_decode_with_the_configured_limit(tmp_path, step):
    steps, _, storage = make_steps(tmp_path, song_wav(4, seed=7), max_duration_s=2)
    with pytest.raises(AudioRejected) as exc:
        getattr(steps, step)(state(**PROBED))
    assert exc.value.code == "too_long"
    assert "2 seconds" in str(exc.value)  # the configured limit, not the engine's 15 minutes
    assert not storage.uploaded and not storage.json


@needs_ffmpeg
def test_probe_refuses_a_declared_duration_over_the_limit(tmp_path):
    steps, _, _ = make_steps(tmp_path, song_wav(4, seed=7), max_duration_s=2)
    with pytest.raises(AudioRejected) as exc:
        steps.probe(state())
    assert exc.value.code == "too_long"


@pytest.fixture
def no_declared_duration(monkeypatch):
    """ffprobe reporting no duration (as for some streamed or raw inputs)."""
    import melody_audio

    real = melody_audio.probe

    def probe(path):
        info = real(path)
        info.get("format", {}).pop("duration", None)
        info["audio_stream"]["duration"] = "N/A"
        return info

    monkeypatch.setattr(melody_audio, "probe", probe)


@needs_ffmpeg
def test_an_unknown_duration_does_not_bypass_the_limit(tmp_path, no_declared_duration):
    steps, _, _ = make_steps(tmp_path, song_wav(4, seed=7), max_duration_s=2)
    with pytest.raises(AudioRejected) as exc:
        steps.probe(state())
    assert exc.value.code == "too_long"


@needs_ffmpeg
def test_an_unknown_duration_within_the_limit_is_measured(tmp_path, no_declared_duration):
    steps, _, _ = make_steps(tmp_path, song_wav(3, seed=7), max_duration_s=10)
    probed = steps.probe(state())
    assert probed["duration_s"] == pytest.approx(3.0, abs=0.05)
    assert len(probed["content_hash"]) == 64 and probed["cached"] is False


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"format": {"duration": "12.5"}, "audio_stream": {}}, 12.5),
        ({"format": {"duration": "N/A"}, "audio_stream": {"duration": "7"}}, 7.0),
        ({"format": {}, "audio_stream": {}}, None),
        ({"format": {"duration": "N/A"}, "audio_stream": {"duration": "N/A"}}, None),
        ({"format": {"duration": "0.000000"}, "audio_stream": {}}, None),
        ({"format": {"duration": "nan"}, "audio_stream": {}}, None),
    ],
)
def test_declared_duration(info, expected):
    assert _duration_s(info) == expected


# -- the analysis names the job's engine --------------------------------------------------------


@needs_ffmpeg
def test_analysis_names_the_engine_that_produced_the_stems(tmp_path):
    from melody_audio.separate import DspEngine

    steps, _, storage = make_steps(tmp_path, song_wav(3, seed=8))
    analysed = steps.analyse(state("dsp", **PROBED))
    stems = steps.separate(state("dsp", **PROBED))
    expected = {"name": "dsp", "version": DspEngine.version}
    assert analysed["analysis"]["engine"] == expected
    assert {"name": stems["engine"], "version": stems["engine_version"]} == expected
    digest = PROBED["probe"]["content_hash"]
    assert analysed["analysis_key"] == f"analysis/{digest}/dsp/analysis.json"
    assert storage.json[("media", analysed["analysis_key"])]["engine"] == expected


@needs_ffmpeg
def test_analysis_names_the_jobs_engine_not_a_default(tmp_path):
    from melody_audio.separate import LalalEngine

    steps, _, storage = make_steps(tmp_path, song_wav(3, seed=8), engine_options={"lalal": {"license_key": "k"}})
    analysed = steps.analyse(state("lalal", **PROBED))
    assert analysed["analysis"]["engine"] == {"name": "lalal", "version": LalalEngine.version}
    assert analysed["analysis_key"].endswith("/lalal/analysis.json")
    assert set(analysed["analysis"]) == {
        "duration_s", "sample_rate", "channels", "tempo", "key", "loudness", "energy", "engine",
    }  # fmt: skip


# -- mark_failed: input errors vs system errors ---------------------------------------------------


def lambda_error(error: str, message: str) -> dict:
    return {"Error": error, "Cause": json.dumps({"errorMessage": message, "errorType": error})}


INPUT_ERRORS = [
    lambda_error("AudioRejected", "corrupt_audio: the audio is truncated or damaged"),
    lambda_error("AudioRejected", "not_audio: the input is not a recognised audio or media file"),
    lambda_error("AudioRejected", "too_long: Songs can be at most 15 minutes long."),
    lambda_error("AudioRejected", "silent_audio: the audio is silent"),
    lambda_error("AudioRejected", "empty_audio: the audio has zero length"),
    lambda_error("AudioRejected", "file_too_large: The file is larger than the upload limit."),
]
SYSTEM_ERRORS = [
    {"Error": "States.Timeout", "Cause": ""},
    lambda_error("Lambda.Unknown", "The function timed out"),
    lambda_error("RuntimeError", "disk on fire"),
    lambda_error("AudioRejected", "engine_unavailable: the lalal engine needs a license key; none is configured"),
    lambda_error("AudioRejected", "remote_timeout: lalal did not finish in time"),
    lambda_error("AudioRejected", "ffmpeg_missing: ffmpeg is not installed or not on PATH"),
    {},
]


def emf_records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"_aws"' in line:
            records.append(json.loads(line))
    return records


@pytest.mark.parametrize(("error", "kind"), [*((e, "input") for e in INPUT_ERRORS), *((e, "system") for e in SYSTEM_ERRORS)])
def test_mark_failed_emits_the_failure_kind(tmp_path, capsys, error, kind):
    from melody.conversions.metrics import FAILURE_METRIC, emit_failure_metric
    from melody.core.observability import metrics

    steps, jobs, _ = make_steps(tmp_path, on_failure=emit_failure_metric)
    capsys.readouterr()
    out = steps.mark_failed(state(error=error))
    assert out["kind"] == kind
    (record,) = [r for r in emf_records(capsys.readouterr().out) if FAILURE_METRIC in r]
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.namespace == "MelodyStudio"
    assert directive["Dimensions"] == [["service", "kind"]]
    assert directive["Metrics"] == [{"Name": FAILURE_METRIC, "Unit": "Count"}]
    assert record["kind"] == kind and record["service"] == metrics.service
    assert record[FAILURE_METRIC] in (1, 1.0, [1.0])
    assert record["code"] == out["code"]
    ((job_id, changes),) = jobs.changes
    assert job_id == "job_1" and changes["status"] == "failed" and changes["error"]["code"] == out["code"]


def test_failure_kinds():
    from melody.conversions.steps import failure_kind

    assert {failure_kind(c) for c in ("not_audio", "corrupt_audio", "too_long", "silent_audio", "empty_audio")} == {"input"}
    assert failure_kind("file_too_large") == "input"
    for code in ("timeout", "processing_failed", "engine_unavailable", "remote_error", "encode_failed", "ffmpeg_missing"):
        assert failure_kind(code) == "system"


def test_the_pipeline_steps_are_wired_to_the_failure_metric():
    from melody.conversions.metrics import emit_failure_metric
    from melody.core.services import Services
    from melody.core.settings import PipelineSettings

    steps = Services(PipelineSettings(max_duration_s=123)).steps
    assert steps._on_failure is emit_failure_metric
    assert steps._max_duration_s == 123


# -- step metrics --------------------------------------------------------------------------------


def test_every_step_reports_its_outcome_and_duration_reuse_included(tmp_path):
    from melody.conversions.models import AudioResult

    seen: list[tuple[str, str]] = []
    steps, _, _ = make_steps(tmp_path, on_step=lambda step, outcome, seconds: seen.append((step, outcome)))
    cached = AudioResult(result_key="k", content_hash="ab" * 32, engine="dsp", engine_version="1", instrumental_key="i",
                         vocals_key="v", waveform_key="w", analysis_key="a", analysis={}, created_at=0)
    steps._results.get = lambda key: cached
    steps.reuse(state(**PROBED))
    steps._results.get = lambda key: None
    with pytest.raises(RuntimeError):
        steps.reuse(state(**PROBED))
    assert seen == [("reuse", "succeeded"), ("reuse", "failed")]


def test_step_metrics_are_powertools_metrics():
    from melody.conversions.metrics import emit_step_metric
    from melody.core.observability import metrics

    metrics.clear_metrics()
    emit_step_metric("separate", "succeeded", 2.5)
    names = set(metrics.metric_set)
    metrics.clear_metrics()
    assert names == {"Step_separate_succeeded", "Step_separate_Duration"}


def test_a_repeated_mark_failed_counts_the_failure_once(tmp_path):
    failures: list[tuple[str, str]] = []
    steps, jobs, _ = make_steps(tmp_path, on_failure=lambda kind, code: failures.append((kind, code)))
    error = {"Error": "AudioRejected", "Cause": json.dumps({"errorMessage": "not_audio: That file is not audio."})}
    steps.mark_failed(state(error=error))
    jobs.transition = lambda job_id, *, allowed_from, changes: False  # already failed: a retried MarkFailed
    again = steps.mark_failed(state(error=error))
    assert failures == [("input", "not_audio")] and again["code"] == "not_audio"


# -- the fields the state machine selects from each step --------------------------------------------
# A ResultSelector path that matches nothing fails the whole execution with States.Runtime, which no
# Catch handles: MarkFailed would never run and the job would stay "processing". So every field the
# ASL selects from a step's payload must always be in what that step returns.


def selected_payload_fields(state_name: str) -> set[str]:
    asl = json.loads((Path(__file__).resolve().parents[3] / "statemachines" / "audio_pipeline.asl.json").read_text())
    states = dict(asl["States"])
    for branch in asl["States"]["Process"]["Branches"]:
        states.update(branch["States"])
    selector = states[state_name].get("ResultSelector", {})
    return {path.removeprefix("$.Payload.") for key, path in selector.items() if key.endswith(".$") and path.startswith("$.Payload.")}


@needs_ffmpeg
def test_probe_returns_every_field_the_state_machine_selects(tmp_path, no_declared_duration):
    steps, _, _ = make_steps(tmp_path, song_wav(2, seed=8))
    assert selected_payload_fields("Probe") == {"content_hash", "cached"}
    assert selected_payload_fields("Probe") <= set(steps.probe(state()))


def test_reuse_returns_every_field_the_state_machine_selects(tmp_path):
    from melody.conversions.models import AudioResult

    steps, _, _ = make_steps(tmp_path)
    steps._results.get = lambda key: AudioResult(
        result_key="k", content_hash="ab" * 32, engine="dsp", engine_version="1", instrumental_key="i",
        vocals_key="v", waveform_key="w", analysis_key="a", analysis={}, created_at=0,
    )  # fmt: skip
    assert selected_payload_fields("ReuseResults") == {"stems", "analysis"}
    assert selected_payload_fields("ReuseResults") <= set(steps.reuse(state(**PROBED)))


# -- the declared size ------------------------------------------------------------------------------


def upload_job(size_bytes: int):
    from melody.conversions.models import Job

    return Job(
        job_id="job_1", user_id="usr_1", status="queued", filename="song.wav", content_type="audio/wav",
        size_bytes=size_bytes, bucket="up", key="uploads/usr_1/job_1/song.wav", created_at=1.0, updated_at=1.0,
    )  # fmt: skip


def test_probe_fails_an_object_that_is_not_the_declared_size(tmp_path):
    """Declared 1000 bytes, received a 321 KB file: the job fails with size_mismatch, an input failure."""
    from melody.conversions.steps import failure_kind, failure_reason

    body = b"\0" * (321 * 1024)
    steps, jobs, storage = make_steps(tmp_path, body)
    jobs.job = upload_job(1000)
    with pytest.raises(AudioRejected) as exc:
        steps.probe(state())
    assert exc.value.code == "size_mismatch" and failure_kind("size_mismatch") == "input"
    error = {"Error": "AudioRejected", "Cause": json.dumps({"errorMessage": str(exc.value)})}
    code, message = failure_reason(error)
    assert code == "size_mismatch" and "1000" in message and str(len(body)) in message
    assert ("up", "uploads/usr_1/job_1/song.wav") in storage.objects  # nothing deletes the upload


@needs_ffmpeg
def test_probe_accepts_an_object_of_the_declared_size(tmp_path):
    body = song_wav(2, seed=9)
    steps, jobs, _ = make_steps(tmp_path, body)
    jobs.job = upload_job(len(body))
    assert len(steps.probe(state())["content_hash"]) == 64
