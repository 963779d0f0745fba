"""Ports of the catalog and library domain; adapters implement them, wiring picks them."""

from __future__ import annotations

from typing import Protocol

from melody.catalog.models import InstrumentalStatus, SongIn


class InstrumentalStatusLookup(Protocol):
    """The instrumental (karaoke) status of tracks for one user.

    The jobs feature implements this from its per-user-per-track job records; until then
    :class:`NoInstrumentalStatus` answers ``none`` for everything.
    """

    def statuses(self, user_id: str, track_ids: list[str]) -> dict[str, InstrumentalStatus]: ...


class NoInstrumentalStatus:
    def statuses(self, user_id: str, track_ids: list[str]) -> dict[str, InstrumentalStatus]:
        return {track_id: "none" for track_id in track_ids}


class ProviderHit(Protocol):
    source: str

    def to_song(self) -> SongIn: ...
