"""PynamoDB models and stores for conversion jobs and the per-content-hash results."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from melody.catalog.ports import NO_INSTRUMENTAL, Instrumental
from melody.conversions.models import AudioResult, Job
from melody.core.dynamodb import bind_model
from melody.core.dynamodb import conditional_failed as _failed_condition

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action

    from melody.catalog.models import InstrumentalStatus
    from melody.core.settings import CommonSettings


class JobsByUser(GlobalSecondaryIndex["JobModel"]):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class JobsByUserTrack(GlobalSecondaryIndex["JobModel"]):
    """Sparse: only jobs for a catalog track carry ``user_track``: conversions of it, and uploads the
    user linked to it (their own copy of the song); unlinked uploads never appear here."""

    class Meta:
        index_name = "by_user_track"
        projection = AllProjection()

    user_track = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


def user_track_key(user_id: str, track_id: str) -> str:
    """The ``by_user_track`` partition key of a user's jobs for one catalog track."""
    return f"{user_id}#{track_id}"


class JobModel(Model):
    class Meta:
        table_name = "melody-jobs"

    job_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = NumberAttribute()
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    stage = UnicodeAttribute(null=True)
    stage_timings: MapAttribute[str, Any] = MapAttribute(null=True)
    body = JSONAttribute()  # the rest of the job record
    user_track = UnicodeAttribute(null=True)  # "<user_id>#<track_id>", catalog-track jobs only
    by_user = JobsByUser()
    by_user_track = JobsByUserTrack()


class ResultModel(Model):
    class Meta:
        table_name = "melody-audio-results"

    result_key = UnicodeAttribute(hash_key=True)
    body = JSONAttribute()
    # The succeeded jobs serving this result (a set: recording one twice counts once). The stems
    # stay while any job references them; the last job's deletion deletes them.
    ref_jobs = UnicodeSetAttribute(null=True)
    # True only on a result stored by an analysis-only job (no stems yet): the condition under which
    # a later full run adds the stems, once (``add_stems`` removes it). Absent on every other result.
    stemless = BooleanAttribute(null=True)


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
        # Derived from the job itself (never stored in the body); absent for uploads keeps the index sparse.
        user_track=user_track_key(job.user_id, job.track_id) if job.track_id else None,
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

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Job], dict[str, Any] | None]:
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

    def pending_upload_times(self, user_id: str, *, since: float) -> list[float]:
        # One Query of the user's jobs created after ``since`` (one upload form's lifetime: few,
        # bounded by the per-user creation limits), keeping those still awaiting their object.
        items = JobModel.by_user.query(
            user_id,
            JobModel.created_at > since,
            filter_condition=JobModel.status == "awaiting_upload",
        )
        return [float(item.created_at) for item in items]

    def transition(
        self, job_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        # Read-modify-write guarded by the status and progress we read: a concurrent change in
        # between (a parallel step advancing progress) fails the write, and we read again.
        for _ in range(5):
            try:
                item = JobModel.get(job_id, consistent_read=True)
            except JobModel.DoesNotExist:
                return False
            if item.status not in allowed_from:
                return False
            if expected_attempt is not None and int((item.body or {}).get("attempt", 0)) != expected_attempt:
                return False  # retried since the caller read it: another run's job
            merged = {**json.loads(_from_item(item).model_dump_json()), **changes}
            if "progress" in changes:
                merged["progress"] = max(int(item.progress or 0), int(changes["progress"]))
            target = _to_item(Job.model_validate(merged))
            # SET only what a transition owns: stage timings written by parallel steps survive.
            actions: list[Action] = [
                JobModel.user_track.set(target.user_track) if target.user_track else JobModel.user_track.remove(),
                JobModel.status.set(target.status),
                JobModel.progress.set(target.progress),
                JobModel.body.set(target.body),
                JobModel.stage.set(target.stage) if target.stage is not None else JobModel.stage.remove(),
            ]
            condition = (JobModel.status == item.status) & (JobModel.progress == (item.progress or 0))
            if expected_attempt is not None:
                # The attempt lives in the JSON body, which a condition cannot look into: the write is
                # conditional on the body read (pynamodb serialises it back to the stored string), so a
                # retry in between (failed, then queued again as attempt n+1) fails it and we read again.
                condition &= JobModel.body == item.body
            try:
                JobModel(job_id).update(actions=actions, condition=condition)
            except UpdateError as exc:
                if _failed_condition(exc):
                    continue
                raise
            return True
        raise RuntimeError(f"job {job_id} kept changing under a status transition")

    def stored_bytes(self, user_id: str, *, pending_since: float) -> int:
        # One Query of the user's jobs (bounded by the per-user upload limits and deletions).
        total = 0
        for item in JobModel.by_user.query(user_id):
            body = item.body or {}
            if body.get("source") != "upload":
                continue
            if body.get("client") == "api":
                continue  # a developer's B2B analysis: metered by the API plan, not the storage quota
            if item.status == "awaiting_upload" and float(item.created_at) <= pending_since:
                continue  # an expired form stores nothing
            if item.status == "failed" and not body.get("original_key"):
                continue  # rejected before it was kept
            total += int(body.get("size_bytes") or 0)
        return total

    def delete(self, job_id: str) -> None:
        JobModel(job_id).delete()

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
            ResultModel(
                result.result_key,
                body=json.loads(result.model_dump_json()),
                stemless=None if result.has_stems else True,
            ).save(condition=ResultModel.result_key.does_not_exist())
        except PutError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def add_stems(self, result: AudioResult) -> bool:
        # Read-modify-write of the body guarded by ``stemless``: of two full runs racing to complete
        # the same analysis-only result, one writes (their stems are the same keys either way).
        stored = self.get(result.result_key)
        if stored is None or stored.has_stems or not result.has_stems:
            return False
        merged = stored.model_copy(
            update={
                "has_stems": True,
                "instrumental_key": result.instrumental_key,
                "vocals_key": result.vocals_key,
                "extra_stem_keys": dict(result.extra_stem_keys),
                "engine_version": result.engine_version,
                "melody": result.melody,
            }
        )
        try:
            ResultModel(result.result_key).update(
                actions=[ResultModel.body.set(json.loads(merged.model_dump_json())), ResultModel.stemless.remove()],
                condition=ResultModel.stemless.exists(),
            )
        except UpdateError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def add_ref(self, result_key: str, job_id: str) -> None:
        try:
            ResultModel(result_key).update(
                actions=[ResultModel.ref_jobs.add({job_id})], condition=ResultModel.result_key.exists()
            )
        except UpdateError as exc:
            if not _failed_condition(exc):
                raise

    def release_ref(self, result_key: str, job_id: str) -> AudioResult | None:
        item = ResultModel(result_key)
        try:
            # Only a recorded reference is released: results from before reference counting (no
            # set) are never deleted by a job that did not count itself.
            item.update(
                actions=[ResultModel.ref_jobs.delete({job_id})],
                condition=ResultModel.ref_jobs.contains(job_id),
            )
        except UpdateError as exc:
            if _failed_condition(exc):
                return None
            raise
        if item.ref_jobs:
            return None
        result = self.get(result_key)
        try:
            # Still unreferenced at the moment of deletion (a job may have counted itself since).
            ResultModel(result_key).delete(condition=ResultModel.ref_jobs.does_not_exist())
        except DeleteError as exc:
            if _failed_condition(exc):
                return None
            raise
        return result


_INSTRUMENTAL_STATUS: dict[str, InstrumentalStatus] = {
    "awaiting_upload": "pending",
    "queued": "pending",
    "processing": "processing",
    "succeeded": "completed",
    "failed": "failed",
}


class JobsInstrumentalStatus:
    """The library's instrumental status of catalog tracks, from the user's newest job per track.

    Every job for a catalog track carries ``user_track`` (``"<user_id>#<track_id>"``, set when the job
    is created; uploads never have it), and the sparse ``by_user_track`` index (user_track,
    created_at) holds exactly those jobs. So a lookup is one Query per requested track, newest first
    with ``Limit`` 1: its cost does not depend on how many jobs the user has, and a track the user
    never converted costs one empty query instead of a read of all the user's jobs. A list of tracks
    is looked up concurrently on a small bounded pool (``max_workers``, default 8, within botocore's
    default 10 pooled HTTP connections); the first query runs in the calling thread, so the model's
    cached connection and client (bound to the configured table, region and endpoint by
    ``bind_job_models``) exist before any worker shares them, and a single track needs no pool.

    Jobs written before ``user_track`` existed are not in the index: backfill them
    (``backfill_user_track``) or they show "none" until the track is converted again.
    """

    def __init__(self, max_workers: int = 8) -> None:
        self._max_workers = max(1, max_workers)

    def instrumentals(self, user_id: str, track_ids: list[str]) -> dict[str, Instrumental]:
        """Status and job id of the caller's newest conversion job per track (only the caller's jobs)."""
        unique = list(dict.fromkeys(track_ids))
        found: dict[str, Instrumental] = {}
        if unique:
            first, rest = unique[0], unique[1:]
            found[first] = self._newest(user_id, first)
            if rest:
                with ThreadPoolExecutor(max_workers=min(self._max_workers, len(rest))) as pool:
                    found.update(zip(rest, pool.map(lambda t: self._newest(user_id, t), rest), strict=True))
        return {track_id: found[track_id] for track_id in track_ids}

    @staticmethod
    def _newest(user_id: str, track_id: str) -> Instrumental:
        for item in JobModel.by_user_track.query(user_track_key(user_id, track_id), scan_index_forward=False, limit=1):
            # The key names the user and track; still never trust a stray row.
            if item.user_id != user_id or (item.body or {}).get("track_id") != track_id:
                return NO_INSTRUMENTAL
            return Instrumental(_INSTRUMENTAL_STATUS.get(item.status, "none"), item.job_id)
        return NO_INSTRUMENTAL


def backfill_user_track(*, page_size: int = 100) -> int:
    """Set ``user_track`` on catalog-track jobs written before it existed; returns how many were set.

    One pass over the jobs table (a Scan for items with a track id and no ``user_track``); each
    update is conditional on ``user_track`` still being absent, so it is safe to rerun or to run
    while new jobs are created.
    """
    updated = 0
    for item in JobModel.scan(JobModel.user_track.does_not_exist(), page_size=page_size):
        body = item.body or {}
        track_id = body.get("track_id")
        if body.get("source") != "catalog" or not track_id:
            continue
        try:
            JobModel(item.job_id).update(
                actions=[JobModel.user_track.set(user_track_key(item.user_id, track_id))],
                condition=JobModel.job_id.exists() & JobModel.user_track.does_not_exist(),
            )
        except UpdateError as exc:
            if _failed_condition(exc):
                continue
            raise
        updated += 1
    return updated
