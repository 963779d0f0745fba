"""What renditions need from storage (the jobs, results and S3 ports are the conversions')."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from melody.renditions.models import Rendition

__all__ = ["RenditionStore"]


class RenditionStore(Protocol):
    def get(self, rendition_id: str) -> Rendition | None: ...

    def create(self, rendition: Rendition) -> bool:
        """Store a new record; False when one with that id exists already (nothing written)."""

    def transition(
        self, rendition_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        """Apply ``changes`` only while the status is in ``allowed_from`` (and, when given, the ``attempt``
        is ``expected_attempt``); progress never goes back."""

    def advance(self, rendition_id: str, *, stage: str, progress: int) -> bool:
        """Move a running rendition's stage forward (only while queued or processing; never backwards)."""

    def of_result(self, result_key: str) -> list[Rendition]:
        """Every rendition of the result ``result_key`` (any status, any format)."""

    def delete(self, rendition_id: str, *, allowed_from: set[str]) -> bool:
        """Delete the record only while its status is in ``allowed_from``; False when it is not (or gone)."""
