"""Creating conversion jobs, showing them to their owner, and starting the pipeline on uploads."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from melody.conversions.models import ORIGINALS_PREFIX, Job, result_key_for, source_location
from melody.core.errors import InvalidInput, NotFound, RateLimited

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.conversions.ports import (
        JobStore,
        ObjectStorage,
        RateLimiter,
        ResultStore,
        TrackAudio,
        WorkflowStarter,
    )
    from melody.core.clock import Clock

UPLOAD_KEY = re.compile(r"^uploads/(?P<user>usr_[a-z0-9]+)/(?P<job>job_[a-z0-9]+)/(?P<file>[^/]+)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    """A key-safe file name that keeps the extension (ffmpeg probes content, not names)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "upload"


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
    if not isinstance(value, dict) or set(value) != {"job_id", "user_id", "created_at"}:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
    return value


@dataclass(frozen=True)
class UploadLimits:
    """Per user: new upload forms per minute and per hour (sliding windows), and forms not yet used.

    A form past its lifetime (``upload_url_expires_s``) can no longer be used, so its job no longer
    counts as pending.
    """

    per_minute: int = 10
    per_hour: int = 100
    max_pending: int = 10


def _etag(value: Any) -> str:
    """An ETag as S3 events spell it (HeadObject quotes it)."""
    return str(value or "").strip().strip('"')


class JobService:
    def __init__(
        self,
        jobs: JobStore,
        results: ResultStore,
        storage: ObjectStorage,
        workflow: WorkflowStarter,
        clock: Clock,
        *,
        uploads_bucket: str,
        media_bucket: str,
        max_upload_bytes: int,
        upload_url_expires_s: int,
        media_url_expires_s: int,
        default_engine: str = "dsp",
        track_audio: TrackAudio | None = None,
        limiter: RateLimiter | None = None,
        limits: UploadLimits | None = None,
        on_replay: Callable[[Job, dict[str, Any]], None] | None = None,
    ) -> None:
        self._jobs = jobs
        self._results = results
        self._storage = storage
        self._workflow = workflow
        self._clock = clock
        self._uploads_bucket = uploads_bucket
        self._media_bucket = media_bucket
        self._max_upload_bytes = max_upload_bytes
        self._upload_expires = upload_url_expires_s
        self._media_expires = media_url_expires_s
        self._default_engine = default_engine
        self._track_audio = track_audio
        self._limiter = limiter
        self._limits = limits
        # on_replay(job, details): a later object at an accepted job's upload key (log + metric)
        self._on_replay = on_replay or (lambda job, details: None)

    @property
    def max_upload_bytes(self) -> int:
        return self._max_upload_bytes

    def create_upload(
        self, user_id: str, *, filename: str, content_type: str, size_bytes: int, engine: str | None
    ) -> tuple[Job, dict[str, Any]]:
        if not content_type.lower().startswith("audio/"):
            raise InvalidInput("Only audio files can be converted.", code="unsupported_media_type")
        if size_bytes > self._max_upload_bytes:
            raise InvalidInput(
                "The file is larger than the upload limit.",
                code="file_too_large",
                details={"max_bytes": self._max_upload_bytes},
            )
        now = self._clock.now()
        self._check_upload_limits(user_id, now)
        job_id = "job_" + secrets.token_hex(10)
        name = safe_filename(filename)
        job = Job(
            job_id=job_id,
            user_id=user_id,
            status="awaiting_upload",
            engine=engine or self._default_engine,
            filename=name,
            content_type=content_type.lower(),
            size_bytes=size_bytes,
            bucket=self._uploads_bucket,
            key=f"uploads/{user_id}/{job_id}/{name}",
            created_at=now,
            updated_at=now,
        )
        self._jobs.create(job)
        post = self._storage.presign_post(
            job.bucket,
            job.key,
            content_type=job.content_type or "audio/mpeg",
            size_bytes=size_bytes,  # the policy binds the declared size exactly
            expires_s=self._upload_expires,
        )
        return job, post

    def _check_upload_limits(self, user_id: str, now: float) -> None:
        limits = self._limits
        if limits is None:
            return
        # Forms still usable: created within their lifetime and not yet uploaded to.
        pending = self._jobs.pending_upload_times(user_id, since=now - self._upload_expires)
        if len(pending) >= limits.max_pending:
            # The oldest pending forms expire first; one more fits when enough of them have.
            frees_at = sorted(pending)[len(pending) - limits.max_pending] + self._upload_expires
            raise RateLimited(
                "Too many uploads are waiting for their files; finish or let them expire first.",
                retry_after_s=max(1, math.ceil(frees_at - now)),
                code="too_many_pending_uploads",
            )
        if self._limiter is None:
            return
        for limit, window_s in ((limits.per_minute, 60), (limits.per_hour, 3600)):
            wait = self._limiter.hit(f"uploads#user#{user_id}", limit=limit, window_s=window_s, now=now)
            if wait is not None:
                raise RateLimited("Too many uploads started; try again later.", retry_after_s=wait)

    def convert_track(self, user_id: str, track_id: str, engine: str | None) -> Job:
        location = self._track_audio.audio_location(track_id) if self._track_audio else None
        if location is None:
            raise NotFound("That track has no audio to convert.", code="track_audio_not_found")
        bucket, key = location
        now = self._clock.now()
        job = Job(
            job_id="job_" + secrets.token_hex(10),
            user_id=user_id,
            status="queued",
            stage="queued",
            engine=engine or self._default_engine,
            source="catalog",
            track_id=track_id,
            bucket=bucket,
            key=key,
            created_at=now,
            updated_at=now,
            queued_at=now,
        )
        self._jobs.create(job)
        self._workflow.start(job.job_id, pipeline_input(job))
        return job

    def get_for_user(self, user_id: str, job_id: str) -> Job:
        job = self._jobs.get(job_id) if job_id.startswith("job_") else None
        # Another user's job is "not found", never "forbidden": ids must not be probeable.
        if job is None or job.user_id != user_id:
            raise NotFound("No such job.", code="job_not_found")
        return job

    def list_for_user(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Job], str | None]:
        start = decode_cursor(cursor)
        if start is not None and start.get("user_id") != user_id:
            raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
        jobs, last = self._jobs.list_for_user(user_id, limit=limit, cursor=start)
        return jobs, encode_cursor(last)

    def result_links(self, job: Job) -> dict[str, Any] | None:
        if job.status != "succeeded" or not job.result_key:
            return None
        result = self._results.get(job.result_key)
        if result is None:
            return None
        get = self._storage.presign_get
        stem = (job.filename or "song").rsplit(".", 1)[0]
        return {
            "instrumental_url": get(
                self._media_bucket, result.instrumental_key, expires_s=self._media_expires, filename=f"{stem} (instrumental).m4a"
            ),
            "vocals_url": get(self._media_bucket, result.vocals_key, expires_s=self._media_expires, filename=f"{stem} (vocals).m4a"),
            "waveform_url": get(self._media_bucket, result.waveform_key, expires_s=self._media_expires),
            "original_url": get(*source_location(job), expires_s=self._media_expires),
            "analysis": result.analysis,
            "engine": {"name": result.engine, "version": result.engine_version},
        }

    def on_object_created(self, bucket: str, key: str, size: int, etag: str | None = None) -> str:
        """Start the pipeline for an uploaded object; returns what happened (for logs/metrics).

        The first object at a job's upload key is accepted: copied, conditional on its ETag, to an
        immutable key in the media bucket that no upload form can write, and the job records that
        ETag and copy. The pipeline processes and the job serves the copy. A presigned POST stays
        valid for its lifetime and S3 cannot refuse it, so a later object at the same key (a
        replayed form) only raises another event: it is recognised by its other ETag and ignored
        (``replay_ignored``), while a retried or duplicated event for the accepted object
        (same ETag) is a ``duplicate`` and starts nothing new.

        Outcomes: ``started``, ``duplicate``, ``replay_ignored``, ``rejected``, ``superseded`` (the
        object was replaced before it could be copied: the newer object's event takes over) and
        ``ignored`` (not an upload of a job).
        """
        match = UPLOAD_KEY.match(key)
        if bucket != self._uploads_bucket or match is None:
            return "ignored"
        job = self._jobs.get(match["job"])
        if job is None or job.user_id != match["user"] or job.key != key:
            return "ignored"
        head: dict[str, Any] | None = None
        etag = _etag(etag)
        if not etag:  # an event without one (moto's spelling differs): the object's own
            head = self._storage.head(bucket, key)
            if head is None:
                return "ignored"
            etag = _etag(head.get("ETag"))
        if job.status != "awaiting_upload":
            return self._after_acceptance(job, etag)

        head = head or self._storage.head(bucket, key)
        if head is None:
            return "ignored"
        current = _etag(head.get("ETag")) or etag
        # The object now at the key is the one accepted (an older event's object was replaced:
        # its own event is then a replay of an accepted job, or arrives first and finds this).
        actual = int(head.get("ContentLength", size))
        content_type = str(head.get("ContentType", "")).lower()
        now = self._clock.now()
        # S3 enforces the signed policy; check again here so a bypass cannot reach the engine.
        problem = None
        if actual > self._max_upload_bytes or not content_type.startswith("audio/"):
            problem = {"code": "upload_rejected", "message": "The upload is too large or not audio."}
        elif job.size_bytes is not None and actual != job.size_bytes:
            problem = {
                "code": "size_mismatch",
                "message": f"The file is {actual} bytes, not the {job.size_bytes} bytes declared.",
            }
        if problem is not None:
            # The object is kept (for support); the job records which object it judged.
            self._jobs.transition(
                job.job_id,
                allowed_from={"awaiting_upload"},
                changes={
                    "status": "failed",
                    "stage": "upload",
                    "error": problem,
                    "upload_etag": current,
                    "finished_at": now,
                    "updated_at": now,
                },
            )
            return "rejected"

        original_key = f"{ORIGINALS_PREFIX}{job.user_id}/{job.job_id}/{current}/{job.filename or 'upload'}"
        if not self._storage.copy(bucket, key, self._media_bucket, original_key, if_match=current):
            return "superseded"
        accepted = self._jobs.transition(
            job.job_id,
            allowed_from={"awaiting_upload"},
            changes={
                "status": "queued",
                "stage": "queued",
                "progress": 1,
                "queued_at": now,
                "updated_at": now,
                "upload_etag": current,
                "original_bucket": self._media_bucket,
                "original_key": original_key,
            },
        )
        latest = self._jobs.get(job.job_id)
        if latest is None:
            return "ignored"
        if not accepted:  # another event for this key won the race: same object or another one
            return self._after_acceptance(latest, current)
        # Recorded first, then started (idempotent by name): a crash in between leaves a queued
        # job that the redelivered event starts (see _after_acceptance), never a second execution.
        return "started" if self._workflow.start(latest.job_id, pipeline_input(latest)) else "duplicate"

    def _after_acceptance(self, job: Job, etag: str) -> str:
        """An event for a job that already left ``awaiting_upload``."""
        if job.upload_etag is not None and etag and etag != job.upload_etag:
            self._on_replay(job, {"accepted_etag": job.upload_etag, "etag": etag})
            return "replay_ignored"
        if job.status == "queued" and job.original_key:
            # The accepted object's event again: make sure its execution runs (same name, same input).
            return "started" if self._workflow.start(job.job_id, pipeline_input(job)) else "duplicate"
        return "duplicate"


def pipeline_input(job: Job) -> dict[str, Any]:
    """The execution input: deterministic for a job, so a replayed start is recognised."""
    bucket, key = source_location(job)
    return {"bucket": bucket, "key": key, "job_id": job.job_id, "user_id": job.user_id, "engine": job.engine}


__all__ = ["JobService", "UploadLimits", "pipeline_input", "result_key_for", "safe_filename"]
