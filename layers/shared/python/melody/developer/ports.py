"""What the developer service needs from storage (DynamoDB in AWS and locally; fakes in unit tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from melody.developer.models import AnalyzeJob, ApiKeyRecord, DayUsage

__all__ = ["ApiKeyStore", "UsageMeter"]


class ApiKeyStore(Protocol):
    def create(self, record: ApiKeyRecord) -> None: ...

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """Strongly consistent: a revocation is seen by the very next call."""
        ...

    def list_for_user(self, user_id: str) -> list[ApiKeyRecord]: ...

    def revoke(self, record: ApiKeyRecord, *, now: float) -> bool:
        """Mark revoked (conditional on not being revoked already); False when it already was."""
        ...

    def touch(self, key_hash: str, *, now: float) -> None: ...


class UsageMeter(Protocol):
    def hit_second(self, key_id: str, window: int, *, limit: int) -> int | None:
        """Count one call in this one-second window unless ``limit`` is reached (atomically).

        Returns the count after this call, or None when the call does not fit.
        """
        ...

    def hit_month(self, key_id: str, month: str, *, quota: int, user_id: str) -> int | None:
        """The same for the calendar month's quota."""
        ...

    def count_month(self, key_id: str, month: str) -> int: ...

    def add_day(self, key_id: str, day: str, *, user_id: str, calls: int = 0, analyses: int = 0) -> None: ...

    def days(self, key_id: str, first: str, last: str) -> list[DayUsage]: ...

    def bill_once(self, key_id: str, content_hash: str, *, now: float) -> bool:
        """Record that ``key_id`` paid for analysing ``content_hash``; False when it already had."""
        ...

    def put_job(self, job: AnalyzeJob) -> None: ...

    def get_job(self, job_id: str) -> AnalyzeJob | None: ...
