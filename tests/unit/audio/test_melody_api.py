"""``GET /audio/jobs/{job_id}/melody``: the service's answer per state, the owner-only rule, the
schema, and the record Persist stores from the Melody step (or from its caught failure)."""

from __future__ import annotations

import json

import pytest

from melody.conversions.models import AudioResult, Job
from melody.conversions.schemas import MelodyOut
from melody.conversions.steps import melody_record
from melody.core.errors import Conflict, NotFound
from tests.unit.conversions.test_job_service import FakeResults, make

RECORD = {
    "status": "succeeded", "notes_count": 42, "key": {"tonic": "A", "mode": "minor"}, "time_signature": "4/4",
    "bpm": 96.0, "tracker": "nmp", "in_key_ratio": 0.95, "range": [57, 72], "chords": ["Am", "F", "C", "G"],
    "first_bar_s": 0.41, "midi_key": "melody/h1/dsp/melody.mid", "musicxml_key": "melody/h1/dsp/melody.musicxml",
    "notes_key": "melody/h1/dsp/melody.json", "analysis": None, "analysis_status": "skipped",
}


def result(melody):
    return AudioResult(result_key="h1#dsp", content_hash="h1", engine="dsp", engine_version="1",
                       instrumental_key="i", vocals_key="v", waveform_key="w", analysis_key="a", analysis={},
                       created_at=1.0, melody=melody)


def job(status="succeeded", user="usr_m1"):
    return Job(job_id="job_m1", user_id=user, status=status, bucket="up", key="uploads/x", created_at=1.0,
               updated_at=1.0, result_key="h1#dsp" if status == "succeeded" else None)


def service_with(melody, status="succeeded"):
    service, jobs, _ = make(results=FakeResults(result(melody)))
    jobs.items["job_m1"] = job(status)
    return service


def test_a_lead_sheet_answers_its_summary_and_short_lived_links():
    shown = service_with(RECORD).melody("usr_m1", "job_m1")
    assert shown["downloads"] == {"midi": "https://s3/media/melody/h1/dsp/melody.mid",
                                  "musicxml": "https://s3/media/melody/h1/dsp/melody.musicxml",
                                  "notes": "https://s3/media/melody/h1/dsp/melody.json"}
    assert shown["expires_in"] == 60 and not any(k.endswith("_key") for k in shown)
    out = MelodyOut.model_validate(shown)
    assert out.notes_count == 42 and out.key.tonic == "A" and out.chords[:2] == ["Am", "F"]


def test_failed_unavailable_and_not_ready():
    assert service_with({"status": "failed", "code": "timeout"}).melody("usr_m1", "job_m1") == {
        "status": "failed", "code": "timeout"}
    assert service_with(None).melody("usr_m1", "job_m1") == {"status": "unavailable"}  # older results
    with pytest.raises(Conflict) as exc:
        service_with(RECORD, status="processing").melody("usr_m1", "job_m1")
    assert exc.value.code == "job_not_ready"


def test_another_users_job_is_not_found():
    with pytest.raises(NotFound) as exc:
        service_with(RECORD).melody("usr_other", "job_m1")
    assert exc.value.code == "job_not_found"


def test_persist_records_the_step_result_or_its_caught_failure():
    assert melody_record({"melody": {"record": RECORD}}) == RECORD
    caught = {"Error": "AudioRejected", "Cause": json.dumps({"errorMessage": "empty_audio: The vocal stem is silent."})}
    assert melody_record({"melody_error": caught}) == {"status": "failed", "code": "empty_audio"}
    assert melody_record({"melody_error": {"Error": "States.Timeout"}}) == {"status": "failed", "code": "timeout"}
    assert melody_record({}) is None  # the reuse path: the stored result keeps its own record


def test_the_record_round_trips_through_the_result_body():
    stored = AudioResult.model_validate(json.loads(result(RECORD).model_dump_json()))
    assert stored.melody == RECORD
    assert AudioResult.model_validate({k: v for k, v in json.loads(result(None).model_dump_json()).items()
                                       if k != "melody"}).melody is None


def test_the_route_is_served_by_the_conversions_app():
    from melody.conversions.router import router

    routes = {(m, r.path) for r in router.routes for m in getattr(r, "methods", ())}
    assert ("GET", "/audio/jobs/{job_id}/melody") in routes


def test_deleting_the_last_job_of_a_result_deletes_its_lead_sheet_files():
    class Results(FakeResults):
        def release_ref(self, result_key, job_id):
            return self.result

    service, jobs, _ = make(results=Results(result(RECORD)))
    jobs.items["job_m1"] = job()
    jobs.delete = lambda job_id: jobs.items.pop(job_id)
    deleted = []
    service.storage.delete = lambda bucket, key: deleted.append((bucket, key))
    service.delete("usr_m1", "job_m1")
    for key in (RECORD["midi_key"], RECORD["musicxml_key"], RECORD["notes_key"]):
        assert ("media", key) in deleted
    assert ("media", "i") in deleted and "job_m1" not in jobs.items
