"""The Melody step in the real ASL file, run by the local runner over moto with the real engine:
the lead sheet of an uploaded song, its API shape for its owner only, and a failing melody step
that leaves the conversion succeeded."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET

import pytest

from tests.integration.test_pipeline import run, upload
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration


def _pipeline(dev_settings, tmp_path):
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    settings = dev_settings.model_copy(update={"work_dir": tmp_path})
    services = Services(settings, workflow=object())
    runner = build_runner(services.steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.runner = runner
    return services


@pytest.fixture()
def pipeline(dev_settings, tmp_path):
    services = _pipeline(dev_settings, tmp_path)
    yield services
    services.runner.shutdown()


def _object(services, key: str) -> bytes:
    return services.storage._client.get_object(Bucket=services.settings.media_bucket, Key=key)["Body"].read()


def test_a_converted_song_gets_its_lead_sheet(pipeline):
    from melody.core.errors import NotFound

    body = song_wav(12, bpm=120.0, seed=41)
    job = upload(pipeline, "usr_mel1", body)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "SUCCEEDED", execution
    done = pipeline.jobs.get_for_user("usr_mel1", job.job_id)
    assert "melody" in done.stage_timings
    record = pipeline.jobs._results.get(done.result_key).melody
    assert record["status"] == "succeeded" and record["notes_count"] >= 8
    assert record["key"] == {"tonic": "C", "mode": "major"}  # the song is in C major
    assert record["in_key_ratio"] >= 0.9 and record["time_signature"] == "4/4"
    # the files are stored with the results, under the content hash
    midi = _object(pipeline, record["midi_key"])
    xml = _object(pipeline, record["musicxml_key"])
    assert midi.startswith(b"MThd") and record["midi_key"].startswith(f"melody/{done.content_hash}/")
    root = ET.fromstring(xml.split(b"\n", 2)[2])
    assert root.find("./part/measure/attributes/key/fifths").text == "0"
    steps = {p.find("step").text for p in root.iter("pitch")}
    assert steps <= set("CDEFGAB") and not list(root.iter("alter"))  # C major: no accidentals

    shown = pipeline.jobs.melody("usr_mel1", job.job_id)
    assert shown["status"] == "succeeded" and set(shown["downloads"]) == {"midi", "musicxml", "notes"}
    assert shown["expires_in"] > 0 and not any(k.endswith("_key") for k in shown)
    if importlib.util.find_spec("melody_scores") is None:
        assert shown["analysis_status"] == "skipped" and shown["analysis"] is None
    with pytest.raises(NotFound):
        pipeline.jobs.melody("usr_mel2", job.job_id)  # another user's job does not exist for them


@pytest.mark.skipif(importlib.util.find_spec("melody_scores") is None, reason="score engine (melody_scores) not installed")
def test_the_lead_sheet_gets_the_score_analysis(pipeline):
    body = song_wav(10, bpm=110.0, seed=43)
    job = upload(pipeline, "usr_mel4", body)
    _, execution = run(pipeline, job, len(body))
    assert execution["status"] == "SUCCEEDED", execution
    shown = pipeline.jobs.melody("usr_mel4", job.job_id)
    assert shown["analysis_status"] == "succeeded" and isinstance(shown["analysis"], dict)


def test_a_failing_melody_step_does_not_fail_the_conversion(dev_settings, tmp_path, monkeypatch):
    from melody.conversions.steps import PipelineSteps

    def broken(self, state):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(PipelineSteps, "melody", broken)
    services = _pipeline(dev_settings, tmp_path)
    try:
        body = song_wav(8, bpm=100.0, seed=42)
        job = upload(services, "usr_mel3", body)
        _, execution = run(services, job, len(body))
        assert execution["status"] == "SUCCEEDED", execution
        done = services.jobs.get_for_user("usr_mel3", job.job_id)
        assert done.status == "succeeded" and done.error is None
        assert services.jobs._results.get(done.result_key).melody == {"status": "failed", "code": "processing_failed"}
        assert services.jobs.melody("usr_mel3", job.job_id) == {"status": "failed", "code": "processing_failed"}
    finally:
        services.runner.shutdown()
