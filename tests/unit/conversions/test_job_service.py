from __future__ import annotations

import pytest

from melody.conversions.models import Job
from melody.conversions.service import JobService, decode_cursor, encode_cursor, safe_filename
from melody.core.errors import InvalidInput, NotFound
from tests.unit.auth.fakes import FakeClock


class MemoryJobs:
    def __init__(self):
        self.items: dict[str, Job] = {}

    def create(self, job):
        self.items[job.job_id] = job

    def get(self, job_id):
        return self.items.get(job_id)

    def list_for_user(self, user_id, *, limit, cursor):
        return [j for j in self.items.values() if j.user_id == user_id][:limit], None

    def transition(self, job_id, *, allowed_from, changes):
        job = self.items[job_id]
        if job.status not in allowed_from:
            return False
        self.items[job_id] = Job.model_validate({**job.model_dump(), **changes})
        return True


class FakeStorage:
    def __init__(self, head=None):
        self._head = head or {"ContentType": "audio/mpeg"}

    def presign_post(self, bucket, key, **kw):
        return {"url": f"https://s3/{bucket}", "fields": {"key": key}, "expires_in": 60}

    def head(self, bucket, key):
        return self._head


class FakeWorkflow:
    def __init__(self):
        self.names: list[str] = []

    def start(self, name, payload):
        if name in self.names:
            return False
        self.names.append(name)
        return True


def make(head=None, max_bytes=1000):
    jobs, workflow = MemoryJobs(), FakeWorkflow()
    service = JobService(
        jobs, None, FakeStorage(head), workflow, FakeClock(),
        uploads_bucket="up", media_bucket="media", max_upload_bytes=max_bytes,
        upload_url_expires_s=60, media_url_expires_s=60,
    )
    return service, jobs, workflow


def test_upload_key_is_per_user_and_job_and_name_is_sanitised():
    service, _, _ = make()
    job, post = service.create_upload("usr_a1", filename="../../etc/My Song!.mp3", content_type="audio/mpeg", size_bytes=10, engine=None)
    assert job.key == f"uploads/usr_a1/{job.job_id}/My Song_.mp3"
    assert post["fields"]["key"] == job.key and job.status == "awaiting_upload"


@pytest.mark.parametrize(("ctype", "size", "code"), [("text/plain", 10, "unsupported_media_type"), ("audio/mpeg", 1001, "file_too_large")])
def test_upload_refusals(ctype, size, code):
    service, _, _ = make()
    with pytest.raises(InvalidInput) as exc:
        service.create_upload("usr_a1", filename="a.mp3", content_type=ctype, size_bytes=size, engine=None)
    assert exc.value.code == code


def test_another_users_job_is_not_found():
    service, _, _ = make()
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=10, engine=None)
    assert service.get_for_user("usr_a1", job.job_id).job_id == job.job_id
    with pytest.raises(NotFound):
        service.get_for_user("usr_b2", job.job_id)


def test_object_created_starts_once_and_ignores_strangers():
    service, jobs, workflow = make()
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=10, engine=None)
    assert service.on_object_created("up", job.key, 10) == "started"
    assert jobs.get(job.job_id).status == "queued"
    assert service.on_object_created("up", job.key, 10) == "duplicate"
    assert workflow.names == [job.job_id]
    assert service.on_object_created("up", "uploads/usr_zz/job_ff/a.mp3", 10) == "ignored"
    assert service.on_object_created("other", job.key, 10) == "ignored"
    forged = job.key.replace("usr_a1", "usr_b2")
    assert service.on_object_created("up", forged, 10) == "ignored"


@pytest.mark.parametrize(("head", "size"), [({"ContentType": "text/html"}, 10), ({"ContentType": "audio/mpeg"}, 5000)])
def test_object_that_bypassed_the_policy_fails_the_job_and_starts_nothing(head, size):
    service, jobs, workflow = make(head=head)
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=10, engine=None)
    assert service.on_object_created("up", job.key, size) == "rejected"
    assert jobs.get(job.job_id).status == "failed" and jobs.get(job.job_id).error.code == "upload_rejected"
    assert workflow.names == []


def test_cursor_round_trip_and_garbage():
    key = {"job_id": "job_1", "user_id": "usr_1", "created_at": 1.5}
    assert decode_cursor(encode_cursor(key)) == key
    for bad in ("!!!", "bm90IGpzb24", encode_cursor({"a": 1})):
        with pytest.raises(InvalidInput):
            decode_cursor(bad)


def test_safe_filename():
    assert safe_filename("a/b\\c.mp3") == "c.mp3"
    assert safe_filename("...") == "upload"
