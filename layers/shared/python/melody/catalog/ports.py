"""Ports of the catalog and library domain; adapters implement them, ``melody.core.services`` picks them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from melody.catalog.models import InstrumentalStatus, SongIn


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
