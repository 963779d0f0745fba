"""What the lyrics service needs from the world: a provider, a store, the song it is asked about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["FoundLyrics", "LyricsProvider", "LyricsQuery", "LyricsStore", "SongLookup", "SongRef"]


@dataclass(frozen=True)
class LyricsQuery:
    """What a provider is asked: LRCLIB matches on all four (duration within ±2 s)."""

    title: str
    artist: str
    album: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class FoundLyrics:
    """A provider's answer: ``synced`` LRC text when it has it, else ``plain`` text (or neither)."""

    synced: str | None
    plain: str | None
    provider_id: str | None = None


@dataclass(frozen=True)
class SongRef:
    """The song a ``track_id`` names, as far as the caller may see it (catalog track or own upload)."""

    track_id: str
    title: str | None
    artists: list[str]
    album: str | None = None
    duration_s: float | None = None


class LyricsProvider(Protocol):
    """A lyrics source behind the same kind of interface as the search providers: async, named,
    raising ``melody.catalog.service.ProviderFailure`` (timeout, rate_limited, error) on failure."""

    name: str

    async def lyrics(self, query: LyricsQuery) -> FoundLyrics | None: ...


class SongLookup(Protocol):
    def song(self, user_id: str, track_id: str) -> SongRef | None:
        """The song, or None when there is none the caller may see (another user's upload included)."""
        ...


class LyricsStore(Protocol):
    def get_cached(self, key: str, *, now: float) -> dict[str, Any] | None: ...

    def put_cached(self, key: str, value: dict[str, Any], *, expires_at: float) -> None: ...

    def get_attached(self, user_id: str, track_id: str) -> dict[str, Any] | None: ...

    def put_attached(self, user_id: str, track_id: str, value: dict[str, Any]) -> None: ...

    def delete_attached(self, user_id: str, track_id: str) -> bool: ...
