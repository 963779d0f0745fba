"""Ports of the catalog and library domain; adapters implement them, ``melody.core.services`` picks them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from melody.catalog.models import InstrumentalStatus, SongIn

if TYPE_CHECKING:
    from melody.catalog.attributes import TrackAttributes


@dataclass(frozen=True)
class Instrumental:
    """A user's instrumental of one track: its status and the conversion job behind it (if any)."""

    status: InstrumentalStatus = "none"
    job_id: str | None = None


NO_INSTRUMENTAL = Instrumental()


class InstrumentalStatusLookup(Protocol):
    """The instrumental (karaoke) status of tracks for one user, from that user's jobs only.

    The jobs feature implements this from its per-user-per-track job records;
    :class:`NoInstrumentalStatus` answers ``none`` for everything where there are no jobs.
    """

    def instrumentals(self, user_id: str, track_ids: list[str]) -> dict[str, Instrumental]: ...


class NoInstrumentalStatus:
    def instrumentals(self, user_id: str, track_ids: list[str]) -> dict[str, Instrumental]:
        return {track_id: NO_INSTRUMENTAL for track_id in track_ids}


class ProviderHit(Protocol):
    source: str

    def to_song(self) -> SongIn: ...


class TrackAttributesWriter(Protocol):
    """Writes a catalog track's analysed attributes to its catalog row (the pipeline's persist step
    calls it for jobs that convert a catalog track); False when there is no such track."""

    def write_attributes(self, track_id: str, attributes: TrackAttributes, *, content_hash: str | None = None) -> bool: ...
