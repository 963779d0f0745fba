"""What the jobs domain needs from storage, S3 and the workflow engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from melody.conversions.models import AudioResult, Job


class JobStore(Protocol):
    def create(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job | None: ...

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Job], dict[str, Any] | None]: ...

    def transition(self, job_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool:
        """Apply ``changes`` only while the job's status is in ``allowed_from``."""

    def advance(self, job_id: str, *, stage: str, progress: int, now: float) -> bool:
        """Move a running job's stage forward; progress never goes back."""

    def record_timing(self, job_id: str, stage: str, seconds: float) -> None: ...

    def pending_upload_times(self, user_id: str, *, since: float) -> list[float]:
        """``created_at`` of the user's jobs still ``awaiting_upload`` and created after ``since``."""


class ResultStore(Protocol):
    def get(self, result_key: str) -> AudioResult | None: ...

    def put_if_absent(self, result: AudioResult) -> bool: ...


class ObjectStorage(Protocol):
    def presign_post(
        self, bucket: str, key: str, *, content_type: str, size_bytes: int, expires_s: int
    ) -> dict[str, Any]:
        """A browser POST form for exactly one object of exactly ``size_bytes`` bytes at ``key``."""

    def copy(self, source_bucket: str, source_key: str, bucket: str, key: str, *, if_match: str | None) -> bool:
        """Server-side copy; False when the source is gone or its ETag is no longer ``if_match``."""

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str | None = None) -> str: ...

    def head(self, bucket: str, key: str) -> dict[str, Any] | None: ...

    def download(self, bucket: str, key: str, path: str) -> None: ...

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None: ...

    def put_json(self, bucket: str, key: str, document: Any) -> None: ...


class WorkflowStarter(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start one execution named ``name``; False when that name already ran (a duplicate)."""


class RateLimiter(Protocol):
    """A sliding-window counter (``melody.auth``'s DynamoDB limiter fits)."""

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one event; None when it fits, else the seconds until one would (nothing counted)."""


class TrackAudio(Protocol):
    def audio_location(self, track_id: str) -> tuple[str, str] | None:
        """(bucket, key) of a catalog track's playable audio, or None."""
