"""Creating conversion jobs, showing them to their owner, and starting the pipeline on uploads."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from melody.conversions.models import TERMINAL, Job, result_key_for
from melody.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from melody.conversions.ports import JobStore, ObjectStorage, ResultStore, TrackAudio, WorkflowStarter
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
            max_bytes=self._max_upload_bytes,
            expires_s=self._upload_expires,
        )
        return job, post

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
            "original_url": get(job.bucket, job.key, expires_s=self._media_expires),
            "analysis": result.analysis,
            "engine": {"name": result.engine, "version": result.engine_version},
        }

    def on_object_created(self, bucket: str, key: str, size: int) -> str:
        """Start the pipeline for an uploaded object; returns what happened (for logs/metrics)."""
        match = UPLOAD_KEY.match(key)
        if bucket != self._uploads_bucket or match is None:
            return "ignored"
        job = self._jobs.get(match["job"])
        if job is None or job.user_id != match["user"] or job.key != key:
            return "ignored"
        if job.status in TERMINAL or job.status in ("queued", "processing"):
            return "duplicate"
        now = self._clock.now()
        # S3 enforces the signed policy; check again here so a bypass cannot reach the engine.
        head = self._storage.head(bucket, key) or {}
        content_type = str(head.get("ContentType", "")).lower()
        if size > self._max_upload_bytes or not content_type.startswith("audio/"):
            self._jobs.transition(
                job.job_id,
                allowed_from={"awaiting_upload"},
                changes={
                    "status": "failed",
                    "stage": "upload",
                    "error": {"code": "upload_rejected", "message": "The upload is too large or not audio."},
                    "finished_at": now,
                    "updated_at": now,
                },
            )
            return "rejected"
        # Start first (idempotent by name), then record it: a crash between the two leaves a
        # running execution that a redelivered event finds by name, never a stuck job.
        started = self._workflow.start(job.job_id, pipeline_input(job))
        self._jobs.transition(
            job.job_id,
            allowed_from={"awaiting_upload"},
            changes={"status": "queued", "stage": "queued", "progress": 1, "queued_at": now, "updated_at": now},
        )
        return "started" if started else "duplicate"


def pipeline_input(job: Job) -> dict[str, Any]:
    """The execution input: deterministic for a job, so a replayed start is recognised."""
    return {"bucket": job.bucket, "key": job.key, "job_id": job.job_id, "user_id": job.user_id, "engine": job.engine}


__all__ = ["JobService", "pipeline_input", "result_key_for", "safe_filename"]
