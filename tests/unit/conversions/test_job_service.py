from __future__ import annotations

import hashlib

import pytest

from melody.conversions.models import AudioResult, Job
from melody.conversions.service import JobService, UploadLimits, decode_cursor, encode_cursor, safe_filename
from melody.core.errors import InvalidInput, NotFound, RateLimited
from tests.unit.auth.fakes import FakeClock, MemoryLimiter


class MemoryJobs:
    def __init__(self):
        self.items: dict[str, Job] = {}

    def create(self, job):
        self.items[job.job_id] = job

    def get(self, job_id):
        return self.items.get(job_id)

    def list_for_user(self, user_id, *, limit, cursor):
        return [j for j in self.items.values() if j.user_id == user_id][:limit], None

    def pending_upload_times(self, user_id, *, since):
        return [
            j.created_at for j in self.items.values()
            if j.user_id == user_id and j.status == "awaiting_upload" and j.created_at > since
        ]  # fmt: skip

    def transition(self, job_id, *, allowed_from, changes, expected_attempt=None):
        job = self.items[job_id]
        if job.status not in allowed_from:
            return False
        if expected_attempt is not None and job.attempt != expected_attempt:
            return False
        self.items[job_id] = Job.model_validate({**job.model_dump(), **changes})
        return True


class FakeStorage:
    """One object per (bucket, key), as S3 holds it: bytes, content type and ETag (quoted, as HeadObject)."""

    def __init__(self, head=None):
        self._head = head
        self.objects: dict[tuple[str, str], dict] = {}
        self.posts: list[dict] = []

    def put(self, bucket, key, body: bytes, content_type="audio/mpeg"):
        etag = hashlib.md5(body).hexdigest()  # noqa: S324 - S3's single-part ETag
        self.objects[(bucket, key)] = {"Body": body, "ContentType": content_type, "ETag": f'"{etag}"', "ContentLength": len(body)}
        return etag

    def presign_post(self, bucket, key, **kw):
        self.posts.append({"bucket": bucket, "key": key, **kw})
        return {"url": f"https://s3/{bucket}", "fields": {"key": key}, "expires_in": 60}

    def presign_get(self, bucket, key, *, expires_s, filename=None):
        return f"https://s3/{bucket}/{key}"

    def head(self, bucket, key):
        if self._head is not None:
            return self._head
        obj = self.objects.get((bucket, key))
        return None if obj is None else {k: v for k, v in obj.items() if k != "Body"}

    def copy(self, source_bucket, source_key, bucket, key, *, if_match):
        obj = self.objects.get((source_bucket, source_key))
        if obj is None or (if_match and obj["ETag"].strip('"') != if_match):
            return False
        self.objects[(bucket, key)] = dict(obj)
        return True


class FakeWorkflow:
    def __init__(self):
        self.names: list[str] = []
        self.inputs: list[dict] = []

    def start(self, name, payload):
        if name in self.names:
            return False
        self.names.append(name)
        self.inputs.append(payload)
        return True


class FakeResults:
    def __init__(self, result=None):
        self.result = result

    def get(self, result_key):
        return self.result


def make(head=None, max_bytes=1000, **kwargs):
    jobs, workflow, storage = MemoryJobs(), FakeWorkflow(), FakeStorage(head)
    clock = kwargs.pop("clock", None) or FakeClock()
    service = JobService(
        jobs, kwargs.pop("results", None), storage, workflow, clock,
        uploads_bucket="up", media_bucket="media", max_upload_bytes=max_bytes,
        upload_url_expires_s=60, media_url_expires_s=60, **kwargs,
    )  # fmt: skip
    service.storage = storage  # for the tests
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
    service.storage.put("up", job.key, b"0123456789")
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


# -- the declared size is bound ------------------------------------------------------------------


def test_the_upload_form_binds_the_declared_size_exactly():
    service, _, _ = make(max_bytes=10**6)
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=1000, engine=None)
    (post,) = service.storage.posts
    assert post["size_bytes"] == 1000 and "max_bytes" not in post and job.size_bytes == 1000


def test_an_object_of_another_size_than_declared_fails_the_job_and_is_kept():
    service, jobs, workflow = make(max_bytes=10**6)
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=1000, engine=None)
    service.storage.put("up", job.key, b"x" * (321 * 1024))
    assert service.on_object_created("up", job.key, 321 * 1024) == "rejected"
    failed = jobs.get(job.job_id)
    assert (failed.status, failed.error.code) == ("failed", "size_mismatch") and "1000" in failed.error.message
    assert workflow.names == [] and ("up", job.key) in service.storage.objects


# -- a replayed upload form -------------------------------------------------------------------------


def accepted(service, jobs, body=b"first-body"):
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=len(body), engine=None)
    etag = service.storage.put("up", job.key, body)
    assert service.on_object_created("up", job.key, len(body), etag) == "started"
    return jobs.get(job.job_id), etag


def test_the_accepted_upload_is_copied_to_an_immutable_key_and_processed_from_there():
    service, jobs, workflow = make()
    job, etag = accepted(service, jobs)
    assert job.status == "queued" and job.upload_etag == etag
    assert job.original_bucket == "media" and job.original_key == f"originals/usr_a1/{job.job_id}/{etag}/a.mp3"
    assert service.storage.objects[("media", job.original_key)]["Body"] == b"first-body"
    assert workflow.inputs == [{"bucket": "media", "key": job.original_key, "job_id": job.job_id, "user_id": "usr_a1", "engine": "dsp"}]


def test_a_replayed_form_after_acceptance_is_ignored_logged_and_serves_nothing_new():
    replays = []
    result = AudioResult(
        result_key="h#dsp", content_hash="h", engine="dsp", engine_version="1", instrumental_key="i", vocals_key="v",
        waveform_key="w", analysis_key="a", analysis={}, created_at=1.0,
    )  # fmt: skip
    service, jobs, workflow = make(results=FakeResults(result), on_replay=lambda job, details: replays.append((job.job_id, details)))
    job, etag = accepted(service, jobs)
    jobs.transition(job.job_id, allowed_from={"queued"}, changes={"status": "succeeded", "result_key": "h#dsp"})
    before = service.result_links(jobs.get(job.job_id))["original_url"]

    # The same presigned fields posted again: S3 stores the new bytes at the upload key and sends an event.
    new_etag = service.storage.put("up", job.key, b"other-body")
    assert service.on_object_created("up", job.key, 10, new_etag) == "replay_ignored"
    assert replays == [(job.job_id, {"accepted_etag": etag, "etag": new_etag})]
    after = jobs.get(job.job_id)
    assert after.status == "succeeded" and after.upload_etag == etag and workflow.names == [job.job_id]
    links = service.result_links(after)
    assert links["original_url"] == before == f"https://s3/media/{job.original_key}"
    assert service.storage.objects[("media", job.original_key)]["Body"] == b"first-body"
    # Without an ETag in the event (moto's spelling), the object's own ETag tells the same.
    assert service.on_object_created("up", job.key, 10) == "replay_ignored"


def test_a_retried_event_for_the_accepted_object_is_a_duplicate():
    replays = []
    service, jobs, workflow = make(on_replay=lambda job, details: replays.append(job))
    job, etag = accepted(service, jobs)
    jobs.transition(job.job_id, allowed_from={"queued"}, changes={"status": "processing"})
    assert service.on_object_created("up", job.key, 10, etag) == "duplicate"
    assert service.on_object_created("up", job.key, 10) == "duplicate"
    assert workflow.names == [job.job_id] and replays == []


def test_a_crash_between_recording_and_starting_is_recovered_by_the_redelivered_event():
    service, jobs, workflow = make()
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=4, engine=None)
    etag = service.storage.put("up", job.key, b"abcd")

    class Down:
        def start(self, name, payload):
            raise ConnectionError("states endpoint down")

    service._workflow = Down()
    with pytest.raises(ConnectionError):
        service.on_object_created("up", job.key, 4, etag)
    assert jobs.get(job.job_id).status == "queued"
    service._workflow = workflow
    assert service.on_object_created("up", job.key, 4, etag) == "started"  # the same event, redelivered
    assert service.on_object_created("up", job.key, 4, etag) == "duplicate"
    assert workflow.names == [job.job_id]


def test_an_object_replaced_before_its_copy_leaves_the_job_to_the_newer_objects_event():
    service, jobs, workflow = make()
    job, _ = service.create_upload("usr_a1", filename="a.mp3", content_type="audio/mpeg", size_bytes=4, engine=None)
    old = service.storage.put("up", job.key, b"abcd")
    copy = service.storage.copy
    service.storage.copy = lambda *a, **kw: (service.storage.put("up", job.key, b"wxyz"), copy(*a, **kw))[1]
    assert service.on_object_created("up", job.key, 4, old) == "superseded"
    service.storage.copy = copy
    assert jobs.get(job.job_id).status == "awaiting_upload" and workflow.names == []
    new = service.storage.head("up", job.key)["ETag"].strip('"')
    assert service.on_object_created("up", job.key, 4, new) == "started"
    assert jobs.get(job.job_id).upload_etag == new
    assert service.on_object_created("up", job.key, 4, old) == "replay_ignored"  # the old event, late


# -- limits on creating uploads -----------------------------------------------------------------------


def limited(**limits):
    clock = FakeClock()
    service, jobs, _ = make(clock=clock, limiter=MemoryLimiter(), limits=UploadLimits(**limits))
    return service, clock


def create(service, user="usr_a1"):
    return service.create_upload(user, filename="a.mp3", content_type="audio/mpeg", size_bytes=10, engine=None)


def test_uploads_per_minute_and_per_hour_are_limited_per_user():
    service, clock = limited(per_minute=3, per_hour=5, max_pending=100)
    for _ in range(3):
        create(service)
    with pytest.raises(RateLimited) as exc:
        create(service)
    assert exc.value.code == "rate_limited" and exc.value.status == 429
    assert exc.value.details == {"retry_after_s": exc.value.retry_after_s} and 1 <= exc.value.retry_after_s <= 120  # a sliding minute
    assert exc.value.headers == {"Retry-After": str(exc.value.retry_after_s)}
    create(service, user="usr_b2")  # another user's own budget
    clock.advance(120)
    create(service)
    create(service)
    with pytest.raises(RateLimited) as exc:
        create(service)
    assert exc.value.code == "rate_limited" and exc.value.retry_after_s > 60  # the hour's limit now


def test_pending_uploads_are_limited_until_their_forms_expire():
    service, clock = limited(per_minute=100, per_hour=100, max_pending=2)
    create(service)
    clock.advance(20)
    second, _ = create(service)
    with pytest.raises(RateLimited) as exc:
        create(service)
    assert exc.value.code == "too_many_pending_uploads" and exc.value.retry_after_s == 40  # the first form's expiry
    # An upload that arrived no longer counts.
    service.storage.put("up", second.key, b"0123456789")
    assert service.on_object_created("up", second.key, 10) == "started"
    create(service)
    with pytest.raises(RateLimited):
        create(service)
    clock.advance(41)  # the first form has expired: it no longer counts
    create(service)


def test_bad_input_is_refused_before_it_counts():
    service, _ = limited(per_minute=1, per_hour=1, max_pending=1)
    with pytest.raises(InvalidInput):
        service.create_upload("usr_a1", filename="a.txt", content_type="text/plain", size_bytes=10, engine=None)
    create(service)
