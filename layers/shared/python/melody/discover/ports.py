"""What the Discover services need from their adapters (the catalog database, a fetcher)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from melody.discover.extract import SongMention
    from melody.discover.fetch import FetchResult

__all__ = ["DocumentFetcher", "SongMatcher", "TrackLookup"]


class DocumentFetcher(Protocol):
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult: ...


class SongMatcher(Protocol):
    def match(self, mention: SongMention, post_id: str) -> str | None: ...


class TrackLookup(Protocol):
    """The catalog, read for the feed: tracks by id and which have audio."""

    def get_tracks(self, track_ids: list[str]) -> dict[str, Any]: ...

    def with_audio(self, track_ids: list[str]) -> set[str]: ...


Now = dt.datetime
