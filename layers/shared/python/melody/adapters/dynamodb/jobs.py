"""PynamoDB models and stores for conversion jobs and the per-content-hash results."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import JSONAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from melody.adapters.dynamodb.binding import bind_model
from melody.adapters.dynamodb.binding import conditional_failed as _failed_condition
from melody.jobs.models import AudioResult, Job
from melody.catalog.ports import NO_INSTRUMENTAL, Instrumental
from melody.settings import CommonSettings


class JobsByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class JobModel(Model):
    class Meta:
        table_name = "melody-jobs"

    job_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = NumberAttribute()
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    stage = UnicodeAttribute(null=True)
    stage_timings = MapAttribute(null=True)
    body = JSONAttribute()  # the rest of the job record
    by_user = JobsByUser()


class ResultModel(Model):
    class Meta:
        table_name = "melody-audio-results"

    result_key = UnicodeAttribute(hash_key=True)
    body = JSONAttribute()


def bind_job_models(settings: CommonSettings) -> None:
    bind_model(JobModel, settings.jobs_table, settings)
    bind_model(ResultModel, settings.results_table, settings)


_TOP_LEVEL = {"job_id", "user_id", "created_at", "status", "progress", "stage", "stage_timings"}


def _to_item(job: Job) -> JobModel:
    data = json.loads(job.model_dump_json())
    return JobModel(
        job.job_id,
        user_id=job.user_id,
        created_at=job.created_at,
        status=job.status,
        progress=job.progress,
        stage=job.stage,
        stage_timings=dict(job.stage_timings),
        body={k: v for k, v in data.items() if k not in _TOP_LEVEL},
    )


def _from_item(item: JobModel) -> Job:
    timings = item.stage_timings.as_dict() if item.stage_timings is not None else {}
    return Job.model_validate(
        {
            **(item.body or {}),
            "job_id": item.job_id,
            "user_id": item.user_id,
            "created_at": item.created_at,
            "status": item.status,
            "progress": int(item.progress or 0),
            "stage": item.stage,
            "stage_timings": {k: float(v) for k, v in timings.items()},
        }
    )


class DynamoJobStore:
    def create(self, job: Job) -> None:
        _to_item(job).save(condition=JobModel.job_id.does_not_exist())

    def get(self, job_id: str) -> Job | None:
        try:
            return _from_item(JobModel.get(job_id, consistent_read=True))
        except JobModel.DoesNotExist:
            return None

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict | None) -> tuple[list[Job], dict | None]:
        start = None
        if cursor:
            start = {
                "job_id": {"S": cursor["job_id"]},
                "user_id": {"S": cursor["user_id"]},
                "created_at": {"N": str(cursor["created_at"])},
            }
        page = JobModel.by_user.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        jobs = [_from_item(item) for item in page]
        last = page.last_evaluated_key
        if not last or len(jobs) < limit:
            return jobs, None
        return jobs, {
            "job_id": last["job_id"]["S"],
            "user_id": last["user_id"]["S"],
            "created_at": float(last["created_at"]["N"]),
        }

    def transition(self, job_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool:
        # Read-modify-write guarded by the status and progress we read: a concurrent change in
        # between (a parallel step advancing progress) fails the write, and we read again.
        for _ in range(5):
            try:
                item = JobModel.get(job_id, consistent_read=True)
            except JobModel.DoesNotExist:
                return False
            if item.status not in allowed_from:
                return False
            merged = {**json.loads(_from_item(item).model_dump_json()), **changes}
            if "progress" in changes:
                merged["progress"] = max(int(item.progress or 0), int(changes["progress"]))
            target = _to_item(Job.model_validate(merged))
            # SET only what a transition owns: stage timings written by parallel steps survive.
            actions = [
                JobModel.status.set(target.status),
                JobModel.progress.set(target.progress),
                JobModel.body.set(target.body),
                JobModel.stage.set(target.stage) if target.stage is not None else JobModel.stage.remove(),
            ]
            try:
                JobModel(job_id).update(
                    actions=actions,
                    condition=(JobModel.status == item.status) & (JobModel.progress == (item.progress or 0)),
                )
            except UpdateError as exc:
                if _failed_condition(exc):
                    continue
                raise
            return True
        raise RuntimeError(f"job {job_id} kept changing under a status transition")

    def advance(self, job_id: str, *, stage: str, progress: int, now: float) -> bool:
        try:
            JobModel(job_id).update(
                actions=[JobModel.stage.set(stage), JobModel.progress.set(progress)],
                condition=JobModel.job_id.exists()
                & JobModel.status.is_in("queued", "processing")
                & (JobModel.progress < progress),
            )
        except UpdateError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def record_timing(self, job_id: str, stage: str, seconds: float) -> None:
        # One nested SET per stage: parallel steps cannot overwrite each other's timing.
        try:
            JobModel(job_id).update(
                actions=[JobModel.stage_timings[stage].set(round(seconds, 3))],
                condition=JobModel.job_id.exists() & JobModel.stage_timings.exists(),
            )
        except UpdateError as exc:
            if not _failed_condition(exc):
                raise


class DynamoResultStore:
    def get(self, result_key: str) -> AudioResult | None:
        try:
            item = ResultModel.get(result_key, consistent_read=True)
        except ResultModel.DoesNotExist:
            return None
        return AudioResult.model_validate({**item.body, "result_key": item.result_key})

    def put_if_absent(self, result: AudioResult) -> bool:
        try:
            ResultModel(result.result_key, body=json.loads(result.model_dump_json())).save(
                condition=ResultModel.result_key.does_not_exist()
            )
        except PutError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True


_INSTRUMENTAL_STATUS = {
    "awaiting_upload": "pending",
    "queued": "pending",
    "processing": "processing",
    "succeeded": "completed",
    "failed": "failed",
}


class JobsInstrumentalStatus:
    """The library's instrumental status of catalog tracks, from the user's newest job per track.

    The jobs table reaches a user's jobs only through ``by_user`` (user_id, created_at); the track id
    lives inside the job body, with no index of its own. So a lookup reads the user's jobs newest
    first, ``page_size`` per request, and stops as soon as every requested track has its newest job,
    or when the user's jobs run out. The bound: at most ``max_jobs`` (default 5,000) jobs are read per
    lookup, so only a track whose newest job is older than the user's 5,000 newest jobs shows "none".
    """

    def __init__(self, max_jobs: int = 5_000, page_size: int = 200) -> None:
        self._max_jobs = max_jobs
        self._page_size = min(page_size, max_jobs)

    def instrumentals(self, user_id: str, track_ids: list[str]) -> dict[str, Instrumental]:
        """Status and job id of the caller's newest conversion job per track (only the caller's jobs)."""
        wanted = set(track_ids)
        found: dict[str, Instrumental] = {}
        if wanted:
            # ``limit`` bounds the jobs read across pages; iterating fetches the next page lazily, so the
            # early ``break`` also ends the paging.
            jobs = JobModel.by_user.query(
                user_id, scan_index_forward=False, page_size=self._page_size, limit=self._max_jobs
            )
            for item in jobs:
                if item.user_id != user_id:  # the index is keyed by user; never trust a stray row
                    continue
                track_id = (item.body or {}).get("track_id")
                if track_id in wanted and track_id not in found:  # newest first: keep the first seen
                    found[track_id] = Instrumental(_INSTRUMENTAL_STATUS.get(item.status, "none"), item.job_id)
                    if len(found) == len(wanted):
                        break
        return {track_id: found.get(track_id, NO_INSTRUMENTAL) for track_id in track_ids}
