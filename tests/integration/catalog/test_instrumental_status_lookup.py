"""The caller's instrumental status per track (``JobsInstrumentalStatus``) over moto's DynamoDB.

The lookup is one Query per requested track on the sparse ``by_user_track`` index (newest first,
Limit 1): a track's status does not depend on how many newer jobs the user has, and tracks the user
never converted cost one empty query each, never a read of the user's other jobs.
"""

from __future__ import annotations

import threading
import uuid

import pytest

pytestmark = pytest.mark.integration

T0 = 1_800_000_000.0


@pytest.fixture()
def jobs(dev_settings):
    from melody.conversions.dynamodb import JobModel, _to_item, bind_job_models
    from melody.conversions.models import Job

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


@pytest.fixture()
def dynamo_calls(monkeypatch):
    """Every DynamoDB call PynamoDB makes (from any thread): (operation, request, items returned)."""
    from pynamodb.connection.base import Connection

    calls: list[tuple[str, dict, int]] = []
    lock = threading.Lock()
    dispatch = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        result = dispatch(self, operation_name, operation_kwargs)
        with lock:
            calls.append((operation_name, operation_kwargs, len(result.get("Items", []))))
        return result

    monkeypatch.setattr(Connection, "dispatch", recording)
    return calls


def user() -> str:
    return "usr_" + uuid.uuid4().hex[:24]


def test_a_track_whose_only_job_is_older_than_250_newer_jobs_keeps_its_status(jobs):
    from melody.conversions.dynamodb import JobsInstrumentalStatus

    me, other = user(), user()
    [old] = jobs(me, [(T0, "trk_oldest0001", "succeeded")])
    [older_b, newer_b] = jobs(me, [(T0 + 1, "trk_twojobs001", "failed"), (T0 + 2, "trk_twojobs001", "processing")])
    # 250 newer jobs of the same user: uploads and other catalog tracks.
    jobs(me, [(T0 + 10 + i, None if i % 3 else f"trk_newer{i:05d}", "succeeded") for i in range(250)])
    jobs(other, [(T0 + 1000, "trk_oldest0001", "failed")])  # another user's newer job of the same track

    found = JobsInstrumentalStatus().instrumentals(me, ["trk_oldest0001", "trk_twojobs001", "trk_newer00003", "trk_nojob00001"])
    assert list(found) == ["trk_oldest0001", "trk_twojobs001", "trk_newer00003", "trk_nojob00001"]
    assert (found["trk_oldest0001"].status, found["trk_oldest0001"].job_id) == ("completed", old)
    assert (found["trk_twojobs001"].status, found["trk_twojobs001"].job_id) == ("processing", newer_b)
    assert found["trk_newer00003"].status == "completed"
    assert (found["trk_nojob00001"].status, found["trk_nojob00001"].job_id) == ("none", None)
    assert older_b != newer_b

    # Only the caller's jobs: the other user sees their own job, never mine.
    theirs = JobsInstrumentalStatus().instrumentals(other, ["trk_oldest0001", "trk_twojobs001"])
    assert theirs["trk_oldest0001"].status == "failed" and theirs["trk_oldest0001"].job_id != old
    assert theirs["trk_twojobs001"].status == "none"


def test_the_newest_job_per_track_wins_whatever_the_write_order(jobs):
    from melody.conversions.dynamodb import JobsInstrumentalStatus

    me = user()
    # Written newest first: the answer comes from created_at, not from insertion order.
    [newest, _, _] = jobs(me, [(T0 + 30, "trk_order00001", "queued"), (T0 + 20, "trk_order00001", "succeeded"),
                               (T0 + 10, "trk_order00001", "failed")])
    jobs(user(), [(T0 + 99, "trk_order00001", "succeeded")])  # another user's newer job
    found = JobsInstrumentalStatus().instrumentals(me, ["trk_order00001", "trk_order00001"])
    assert (found["trk_order00001"].status, found["trk_order00001"].job_id) == ("pending", newest)


def test_tracks_without_jobs_cost_one_query_each_and_never_read_the_users_other_jobs(jobs, dynamo_calls):
    from melody.conversions.dynamodb import JobsInstrumentalStatus, user_track_key

    me = user()
    jobs(me, [(T0 + i, None if i % 2 else f"trk_mine{i:06d}", "succeeded") for i in range(60)])
    wanted = [f"trk_never{i:05d}" for i in range(20)]
    dynamo_calls.clear()

    found = JobsInstrumentalStatus(max_workers=8).instrumentals(me, wanted)

    assert all((found[t].status, found[t].job_id) == ("none", None) for t in wanted)
    assert [name for name, _, _ in dynamo_calls] == ["Query"] * len(wanted)
    for _, request, items in dynamo_calls:
        assert request["IndexName"] == "by_user_track"
        assert request["Limit"] == 1 and request["ScanIndexForward"] is False
        assert items == 0  # nothing of the user's 60 other jobs was read
    keys = sorted(req["ExpressionAttributeValues"][":0"]["S"] for _, req, _ in dynamo_calls)
    assert keys == sorted(user_track_key(me, t) for t in wanted)


def test_a_track_with_many_jobs_still_reads_one_item(jobs, dynamo_calls):
    from melody.conversions.dynamodb import JobsInstrumentalStatus

    me = user()
    ids = jobs(me, [(T0 + i, "trk_manyjobs01", "succeeded" if i % 2 else "failed") for i in range(40)])
    dynamo_calls.clear()
    found = JobsInstrumentalStatus().instrumentals(me, ["trk_manyjobs01"])["trk_manyjobs01"]
    assert (found.status, found.job_id) == ("completed", ids[-1])
    assert [(name, items) for name, _, items in dynamo_calls] == [("Query", 1)]


def test_an_empty_lookup_makes_no_call(dynamo_calls, dev_settings):
    from melody.conversions.dynamodb import JobsInstrumentalStatus, bind_job_models

    bind_job_models(dev_settings)
    assert JobsInstrumentalStatus().instrumentals(user(), []) == {}
    assert dynamo_calls == []


def test_only_catalog_track_jobs_carry_user_track(jobs):
    from melody.conversions.dynamodb import JobModel

    me = user()
    [upload, catalog] = jobs(me, [(T0, None, "succeeded"), (T0 + 1, "trk_catalog001", "queued")])
    assert JobModel.get(upload, consistent_read=True).user_track is None
    assert JobModel.get(catalog, consistent_read=True).user_track == f"{me}#trk_catalog001"
    in_index = [item.job_id for item in JobModel.by_user_track.query(f"{me}#trk_catalog001")]
    assert in_index == [catalog]
    # The sparse index holds no upload: a scan of it finds none of this user's uploads.
    assert upload not in {item.job_id for item in JobModel.by_user_track.scan(JobModel.user_id == me)}


def test_the_backfill_indexes_jobs_written_before_user_track(jobs):
    from melody.conversions.dynamodb import JobModel, JobsInstrumentalStatus, backfill_user_track

    me = user()
    [legacy, upload] = jobs(me, [(T0, "trk_legacy0001", "succeeded"), (T0 + 1, None, "succeeded")])
    JobModel(legacy).update(actions=[JobModel.user_track.remove()])  # as written before this change
    assert JobsInstrumentalStatus().instrumentals(me, ["trk_legacy0001"])["trk_legacy0001"].status == "none"

    assert backfill_user_track() >= 1
    assert backfill_user_track() == 0  # rerunnable: nothing left to set
    found = JobsInstrumentalStatus().instrumentals(me, ["trk_legacy0001"])["trk_legacy0001"]
    assert (found.status, found.job_id) == ("completed", legacy)
    assert JobModel.get(upload, consistent_read=True).user_track is None


def test_the_backfill_runs_from_the_cli(jobs, dev_settings, monkeypatch, capsys):
    from melody.conversions.dynamodb import JobModel, JobsInstrumentalStatus
    from melody_dev.cli import main

    me = user()
    [legacy] = jobs(me, [(T0, "trk_legacy0002", "succeeded")])
    JobModel(legacy).update(actions=[JobModel.user_track.remove()])
    for name in ("jobs_table", "dynamodb_endpoint_url", "aws_region"):
        monkeypatch.setenv(f"MELODY_{name.upper()}", str(getattr(dev_settings, name)))
    assert main(["jobs", "backfill-index"]) == 0
    assert "indexed 1 catalog conversion jobs" in capsys.readouterr().err
    assert JobsInstrumentalStatus().instrumentals(me, ["trk_legacy0002"])["trk_legacy0002"].job_id == legacy
