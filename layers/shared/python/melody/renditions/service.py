"""Asking for a rendition of a converted song, and reporting it to the job's owner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from melody.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from melody.renditions.models import (
    Rendition,
    RenditionFormat,
    execution_name,
    media_key,
    normalise_tempo,
    rendition_id_for,
)

if TYPE_CHECKING:
    from melody.conversions.models import Job
    from melody.conversions.ports import JobStore, ObjectStorage, RateLimiter, WorkflowStarter
    from melody.core.clock import Clock
    from melody.renditions.ports import RenditionStore

__all__ = [
    "MAX_SEMITONES",
    "MAX_TEMPO",
    "MIN_TEMPO",
    "RenditionService",
    "rendition_input",
]

MAX_SEMITONES = 6
MIN_TEMPO, MAX_TEMPO = 0.75, 1.25
# How many taken execution names a new record steps past (see RenditionService._start_under_a_free_name):
# one per attempt an earlier record of the same id made, and attempts are rate-limited per user.
MAX_TAKEN_NAMES = 20


def rendition_input(rendition: Rendition) -> dict[str, Any]:
    """The execution input: deterministic for a rendition and attempt, so a replayed start is recognised."""
    return {
        "rendition_id": rendition.rendition_id,
        "result_key": rendition.result_key,
        "semitones": rendition.semitones,
        "tempo": rendition.tempo,
        "attempt": rendition.attempt,
    }


class RenditionService:
    def __init__(
        self,
        jobs: JobStore,
        renditions: RenditionStore,
        storage: ObjectStorage,
        workflow: WorkflowStarter,
        clock: Clock,
        *,
        media_bucket: str,
        media_url_expires_s: int,
        limiter: RateLimiter | None = None,
        per_user_per_hour: int | None = None,
    ) -> None:
        self._jobs = jobs
        self._renditions = renditions
        self._storage = storage
        self._workflow = workflow
        self._clock = clock
        self._media_bucket = media_bucket
        self._media_expires = media_url_expires_s
        self._limiter = limiter
        self._per_hour = per_user_per_hour

    @property
    def media_url_expires_s(self) -> int:
        return self._media_expires

    def _job(self, user_id: str, job_id: str) -> Job:
        job = self._jobs.get(job_id) if job_id.startswith("job_") else None
        # Another user's job is "not found", never "forbidden": ids must not be probeable.
        if job is None or job.user_id != user_id:
            raise NotFound("No such job.", code="job_not_found")
        return job

    def request(
        self, user_id: str, job_id: str, *, semitones: int, tempo: float, fmt: RenditionFormat = "m4a"
    ) -> tuple[Rendition, bool]:
        """The rendition of the job's stems at ``semitones`` and ``tempo``: (record, ready).

        ``ready`` is True when it exists already (served from the cache). A new one is recorded
        ``queued`` and its execution started; one that failed is started again (a new attempt).
        In ``wav``, 0 semitones at tempo 1.0 is allowed: the stems exported losslessly.
        """
        tempo = normalise_tempo(tempo)
        if semitones == 0 and tempo == 1.0 and fmt == "m4a":
            raise InvalidInput(
                "That is the song as it is: change the key or the tempo.", code="rendition_identity"
            )
        if abs(semitones) > MAX_SEMITONES or not (MIN_TEMPO <= tempo <= MAX_TEMPO):
            raise InvalidInput("Semitones must be -6..6 and tempo 0.75..1.25.", code="validation_error")
        job = self._job(user_id, job_id)
        if job.status != "succeeded" or not job.result_key:
            raise Conflict("The song is not ready yet.", code="job_not_ready")
        if not job.separate:  # a developer API analysis without stems (issue 11): nothing to render
            raise Conflict("This job was an analysis only: it has no stems.", code="stems_unavailable")
        return self._ensure(job.result_key, semitones, tempo, fmt, rate_key=user_id)

    def export_wav(self, result_key: str, stem: str) -> tuple[str | None, Rendition]:
        """The stored key of ``stem`` of a song's results as 16-bit WAV: (key, record) when made,
        (None, record) while the export runs (started here when nobody had asked for it yet).

        The caller (the job's download route) has checked that the song is the user's; exports are
        cached per song like renditions, so they are not counted against the renditions rate.
        """
        rendition, ready = self._ensure(result_key, 0, 1.0, "wav", rate_key=None)
        return (media_key(rendition, stem) if ready else None), rendition

    def _ensure(
        self, result_key: str, semitones: int, tempo: float, fmt: RenditionFormat, *, rate_key: str | None
    ) -> tuple[Rendition, bool]:
        rendition_id = rendition_id_for(result_key, semitones, tempo, fmt)
        existing = self._renditions.get(rendition_id)
        if existing is not None and existing.status == "succeeded":
            return existing, True
        if existing is not None and existing.status in ("queued", "processing"):
            # Someone (maybe another user with the same song) asked first: make sure it runs.
            self._workflow.start(execution_name(existing), rendition_input(existing))
            return existing, False
        if rate_key is not None:
            self._check_rate(rate_key)
        now = self._clock.now()
        if existing is None:
            rendition = Rendition(
                rendition_id=rendition_id,
                result_key=result_key,
                semitones=semitones,
                tempo=tempo,
                format=fmt,
                status="queued",
                stage="queued",
                created_at=now,
                updated_at=now,
            )
            if not self._renditions.create(rendition):  # a concurrent request created it: theirs runs
                return self._current(rendition_id), False
        else:
            changes = {
                "status": "queued",
                "stage": "queued",
                "progress": 0,
                "error": None,
                "attempt": existing.attempt + 1,
                "started_at": None,
                "finished_at": None,
                "updated_at": now,
            }
            if not self._renditions.transition(rendition_id, allowed_from={"failed"}, changes=changes):
                return self._current(rendition_id), False
        rendition = self._current(rendition_id)
        # Recorded first, then started (idempotent by name): a crash in between leaves a queued
        # record that the next request for it starts, never a second execution.
        started = self._workflow.start(execution_name(rendition), rendition_input(rendition))
        if not started and existing is None:
            rendition = self._start_under_a_free_name(rendition)
        return rendition, False

    def _start_under_a_free_name(self, rendition: Rendition) -> Rendition:
        """Start a record created just now whose execution name was taken, as its next attempt.

        A record of the same id existed before and ran under that name: it was deleted with its
        song's last job (``JobService.delete``), and the song was converted again. Step Functions
        keeps a closed execution's name for 90 days, so starting it again would answer "already
        exists" and the record would stay queued for ever. The attempt goes up (``<id>-r<n>``,
        conditional on the attempt read, so racing requests bump it once) until a name is free:
        the earlier record's attempts were 0..n, so the first free one is past all of them.
        """
        for _ in range(MAX_TAKEN_NAMES):
            bumped = self._renditions.transition(
                rendition.rendition_id,
                allowed_from={"queued"},
                changes={"attempt": rendition.attempt + 1, "updated_at": self._clock.now()},
                expected_attempt=rendition.attempt,
            )
            rendition = self._current(rendition.rendition_id)
            if not bumped:  # another request moved it on (or its execution started): theirs
                return rendition
            if self._workflow.start(execution_name(rendition), rendition_input(rendition)):
                return rendition
        return rendition

    def _current(self, rendition_id: str) -> Rendition:
        rendition = self._renditions.get(rendition_id)
        if rendition is None:  # deleted in between: nothing sensible to report
            raise NotFound("No such rendition.", code="rendition_not_found")
        return rendition

    def _check_rate(self, user_id: str) -> None:
        if self._limiter is None or not self._per_hour:
            return
        wait = self._limiter.hit(f"renditions#user#{user_id}", limit=self._per_hour, window_s=3600, now=self._clock.now())
        if wait is not None:
            raise RateLimited("Too many renditions asked for; try again later.", retry_after_s=wait)

    def get(self, user_id: str, job_id: str, rendition_id: str) -> Rendition:
        """A rendition of one of the caller's jobs (another job's or user's is "not found")."""
        job = self._job(user_id, job_id)
        rendition = self._renditions.get(rendition_id) if rendition_id.startswith("rnd_") else None
        if rendition is None or not job.result_key or rendition.result_key != job.result_key:
            raise NotFound("No such rendition of this song.", code="rendition_not_found")
        return rendition

    def stem_links(self, rendition: Rendition) -> dict[str, dict[str, str]] | None:
        """Short-lived presigned GETs of the rendered stems (None until it has succeeded)."""
        if rendition.status != "succeeded" or not (rendition.instrumental_key and rendition.vocals_key):
            return None
        get = self._storage.presign_get
        return {
            stem: {"url": get(self._media_bucket, key, expires_s=self._media_expires), "format": rendition.format}
            for stem, key in (("instrumental", rendition.instrumental_key), ("vocals", rendition.vocals_key))
        }
