"""What follows a job's success, outside the pipeline's own records.

:class:`CompletionRecorder` wraps the pipeline's :class:`~melody.conversions.ports.JobStore`: when a
transition moves a job to ``succeeded`` it records the job as a reference of its result (so shared
stems are deleted only with their last job) and, for an upload, creates its library entry. Both are
idempotent and run again when a retried step finds the job already succeeded, so a crash between
the transition and them is repaired by the step's retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from melody.conversions.models import Job
    from melody.conversions.ports import JobStore, ResultStore, UploadLibrary
    from melody.core.clock import Clock


class CompletionRecorder:
    def __init__(self, jobs: JobStore, results: ResultStore, library: UploadLibrary | None, clock: Clock) -> None:
        self._jobs = jobs
        self._results = results
        self._library = library
        self._clock = clock

    def transition(
        self, job_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        changed = self._jobs.transition(job_id, allowed_from=allowed_from, changes=changes, expected_attempt=expected_attempt)
        if changes.get("status") == "succeeded":
            job = self._jobs.get(job_id)
            if job is not None and job.status == "succeeded":
                self.record(job)
        return changed

    def record(self, job: Job) -> None:
        if job.result_key:
            self._results.add_ref(job.result_key, job.job_id)
        if job.source == "upload" and job.client == "app" and self._library is not None:
            self._library.put_upload(job, now=self._clock.now())

    # -- everything else is the wrapped store's ----------------------------------------------------

    def create(self, job: Job) -> None:
        self._jobs.create(job)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Job], dict[str, Any] | None]:
        return self._jobs.list_for_user(user_id, limit=limit, cursor=cursor)

    def advance(self, job_id: str, *, stage: str, progress: int, now: float) -> bool:
        return self._jobs.advance(job_id, stage=stage, progress=progress, now=now)

    def record_timing(self, job_id: str, stage: str, seconds: float) -> None:
        self._jobs.record_timing(job_id, stage, seconds)

    def pending_upload_times(self, user_id: str, *, since: float) -> list[float]:
        return self._jobs.pending_upload_times(user_id, since=since)

    def stored_bytes(self, user_id: str, *, pending_since: float) -> int:
        return self._jobs.stored_bytes(user_id, pending_since=pending_since)

    def delete(self, job_id: str) -> None:
        self._jobs.delete(job_id)
