"""What the score service needs from the outside: a record store, object storage, a workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from melody.scores.models import Score


class ScoreStore(Protocol):
    def create(self, score: Score) -> None: ...

    def get(self, score_id: str) -> Score | None: ...

    def transition(self, score_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool: ...

    def list_for_user(
        self, user_id: str, *, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[Score], dict[str, Any] | None]: ...

    def delete(self, score_id: str, *, allowed_from: set[str]) -> bool:
        """Delete the record if its status is one of ``allowed_from``; False if it is gone or moved on."""
        ...


class ScoreObjects(Protocol):
    def presign_post(self, bucket: str, key: str, *, content_type: str, size_bytes: int, expires_s: int) -> dict[str, Any]: ...

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str, attachment: bool) -> str: ...

    def head(self, bucket: str, key: str) -> dict[str, Any] | None: ...

    def copy(self, source_bucket: str, source_key: str, bucket: str, key: str, *, if_match: str | None) -> bool: ...

    def get_json(self, bucket: str, key: str) -> Any: ...

    def put_json(self, bucket: str, key: str, document: Any) -> None: ...

    def download(self, bucket: str, key: str, path: str) -> None: ...

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None: ...

    def delete(self, bucket: str, key: str) -> None:
        """Delete the object; a key that is not there is no error (S3's DeleteObject)."""
        ...


class WorkflowStarter(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> bool: ...


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None: ...
