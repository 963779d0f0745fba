"""The caller's instrumental status per track (``JobsInstrumentalStatus``) over moto's DynamoDB.

A track's newest job can be older than many newer jobs of the same user: the lookup pages through
the user's jobs (newest first) until it has every requested track, within its documented bound.
"""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

T0 = 1_800_000_000.0


@pytest.fixture()
def jobs(dev_settings):
    from melody.adapters.dynamodb.jobs import JobModel, _to_item, bind_job_models
    from melody.jobs.models import Job

    bind_job_models(dev_settings)

    def add(user_id: str, specs: list[tuple[float, str | None, str]]) -> list[str]:
        """specs: (created_at, track_id or None for an upload, status) → the job ids."""
        ids = []
        with JobModel.batch_write() as batch:
            for created_at, track_id, status in specs:
                job_id = "job_" + uuid.uuid4().hex[:24]
                ids.append(job_id)
                batch.save(_to_item(Job(
                    job_id=job_id, user_id=user_id, status=status, bucket="b", key=f"uploads/{job_id}",
                    source="catalog" if track_id else "upload", track_id=track_id,
                    created_at=created_at, updated_at=created_at,
                )))
        return ids

    return add


def user() -> str:
    return "usr_" + uuid.uuid4().hex[:24]


def test_a_track_whose_only_job_is_older_than_250_newer_jobs_keeps_its_status(jobs):
    from melody.adapters.dynamodb.jobs import JobsInstrumentalStatus

    me, other = user(), user()
    [old] = jobs(me, [(T0, "trk_oldest0001", "succeeded")])
    [older_b, newer_b] = jobs(me, [(T0 + 1, "trk_twojobs001", "failed"), (T0 + 2, "trk_twojobs001", "processing")])
    # 250 newer jobs of the same user: uploads and other catalog tracks.
    jobs(me, [(T0 + 10 + i, None if i % 3 else f"trk_newer{i:05d}", "succeeded") for i in range(250)])
    jobs(other, [(T0 + 1000, "trk_oldest0001", "failed")])  # another user's newer job of the same track

    found = JobsInstrumentalStatus().instrumentals(me, ["trk_oldest0001", "trk_twojobs001", "trk_newer00003", "trk_nojob00001"])
    assert (found["trk_oldest0001"].status, found["trk_oldest0001"].job_id) == ("completed", old)
    assert (found["trk_twojobs001"].status, found["trk_twojobs001"].job_id) == ("processing", newer_b)
    assert found["trk_newer00003"].status == "completed"
    assert (found["trk_nojob00001"].status, found["trk_nojob00001"].job_id) == ("none", None)
    assert older_b != newer_b

    # Only the caller's jobs: the other user sees their own job, never mine.
    theirs = JobsInstrumentalStatus().instrumentals(other, ["trk_oldest0001", "trk_twojobs001"])
    assert theirs["trk_oldest0001"].status == "failed" and theirs["trk_oldest0001"].job_id != old
    assert theirs["trk_twojobs001"].status == "none"


def test_the_lookup_stops_at_its_documented_bound(jobs):
    from melody.adapters.dynamodb.jobs import JobsInstrumentalStatus

    me = user()
    [old] = jobs(me, [(T0, "trk_bounded0001", "queued")])
    jobs(me, [(T0 + 1 + i, None, "succeeded") for i in range(30)])
    assert JobsInstrumentalStatus(max_jobs=30, page_size=7).instrumentals(me, ["trk_bounded0001"])["trk_bounded0001"].status == "none"
    found = JobsInstrumentalStatus(max_jobs=31, page_size=7).instrumentals(me, ["trk_bounded0001"])["trk_bounded0001"]
    assert (found.status, found.job_id) == ("pending", old)
