"""What the jobs domain needs from storage, S3 and the workflow engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from melody.conversions.models import AudioResult, Job, SuggestedTrack


class JobStore(Protocol):
    def create(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job | None: ...

    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Job], dict[str, Any] | None]: ...

    def transition(
        self, job_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        """Apply ``changes`` only while the job's status is in ``allowed_from`` (and, when given, its
        ``attempt`` is ``expected_attempt``: a retried job is another run, not the one checked)."""

    def advance(self, job_id: str, *, stage: str, progress: int, now: float) -> bool:
        """Move a running job's stage forward; progress never goes back."""

    def record_timing(self, job_id: str, stage: str, seconds: float) -> None: ...

    def pending_upload_times(self, user_id: str, *, since: float) -> list[float]:
        """``created_at`` of the user's jobs still ``awaiting_upload`` and created after ``since``."""

    def stored_bytes(self, user_id: str, *, pending_since: float) -> int:
        """Declared bytes of the user's uploads: accepted ones, and forms created after ``pending_since``
        (the app's only: B2B analyses, ``client == "api"``, are metered by the API plan instead)."""

    def delete(self, job_id: str) -> None: ...


class ResultStore(Protocol):
    def get(self, result_key: str) -> AudioResult | None: ...

    def put_if_absent(self, result: AudioResult) -> bool: ...

    def add_stems(self, result: AudioResult) -> bool:
        """Give a stored analysis-only result (``has_stems`` False) the stems of ``result``; False when it
        already has stems (or is gone): at most one of racing callers writes."""

    def add_ref(self, result_key: str, job_id: str) -> None:
        """Record that ``job_id`` serves this result (idempotent)."""

    def release_ref(self, result_key: str, job_id: str) -> AudioResult | None:
        """Drop ``job_id``'s reference; the result (now deleted) when it was the last one, else None."""


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

    def presign_download(self, bucket: str, key: str, *, expires_s: int, filename: str) -> str:
        """A GET whose response is a download (``Content-Disposition: attachment``) named ``filename``."""

    def delete(self, bucket: str, key: str) -> None: ...


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


class UploadLibrary(Protocol):
    """The user's library entries of their uploads (``melody.library`` implements it)."""

    def put_upload(self, job: Job, *, now: float) -> None:
        """Create or refresh the entry of a succeeded upload (idempotent; keeps a title the user chose)."""

    def link_upload(self, user_id: str, job_id: str, *, track_id: str | None, suggested: SuggestedTrack | None, now: float) -> None:
        """Record the catalog track an upload is linked to, or the one suggested for it."""

    def upload_title(self, user_id: str, job_id: str) -> str | None:
        """The entry's title (the user may have renamed it), or None without an entry."""

    def remove_upload(self, user_id: str, job_id: str, *, now: float) -> None: ...


class TrackDirectory(Protocol):
    def exists(self, track_id: str) -> bool: ...


class TrackMatcher(Protocol):
    def match(self, *, title: str, artist: str | None, duration_s: float | None) -> SuggestedTrack | None:
        """The catalog track these tags most likely are, or None when nothing is close enough."""


class StemExports(Protocol):
    """Lossless (WAV) copies of a song's stems, made on request (the renditions feature makes them)."""

    def export_wav(self, result_key: str, stem: str) -> tuple[str | None, Any]:
        """(object key, record) when the WAV exists; (None, record) while it is being made."""
        ...
