"""A post's song mentions → catalog tracks.

A link is matched by the catalog's external ids (provider, id); a credit ("Artist – Title") by the
catalog's own search (its phonetic keys, so a Latin credit finds a Devanagari title and back),
accepted only when the hit's title has the same phonetic key and an artist matches. A credit the
catalog does not know becomes a catalog song marked as discovered (popularity 0), with its link.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from melody.catalog.keys import artists_match, phonetic
from melody.catalog.search import search_catalog

if TYPE_CHECKING:
    from melody.catalog.models import SongIn, Track
    from melody.discover.extract import SongMention

__all__ = ["CatalogMatcher", "DiscoverStore"]


class DiscoverStore(Protocol):
    def track_for_external(self, provider: str, external_id: str) -> str | None: ...

    def mark_discovered(self, track_id: str, post_id: str) -> None: ...


class CatalogWriter(Protocol):
    def recall(self, terms: list[tuple[int, str, str, float]], *, language: str | None, cap: int) -> list[dict[str, Any]]: ...

    def vocab_fuzzy(self, words: list[str], *, per_word: int = 40) -> dict[int, list[str]]: ...

    def known_tokens(self, tokens: list[str]) -> set[str]: ...

    def upsert_songs(self, songs: list[SongIn]) -> int: ...


class CatalogMatcher:
    def __init__(self, catalog: CatalogWriter, store: DiscoverStore, *, create_discovered: bool = True) -> None:
        self._catalog = catalog
        self._store = store
        self._create = create_discovered
        self._cache: dict[tuple[str, ...], str | None] = {}  # one crawl asks about a song once
        self._lock = threading.Lock()

    def match(self, mention: SongMention, post_id: str) -> str | None:
        if mention.provider and mention.external_id:
            track_id = self._cached(
                ("link", mention.provider, mention.external_id),
                lambda: self._store.track_for_external(mention.provider or "", mention.external_id or ""),
            )
            if track_id:
                return track_id
        if not mention.title or not mention.artist:
            return None
        key = ("credit", phonetic(mention.artist), phonetic(mention.title))
        track_id = self._cached(key, lambda: self._search(mention.artist or "", mention.title or ""))
        if track_id is None and self._create:
            track_id = self._discover(mention, post_id)
            with self._lock:
                self._cache[key] = track_id
        return track_id

    def _cached(self, key: tuple[str, ...], compute: Any) -> str | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value: str | None = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def _search(self, artist: str, title: str) -> str | None:
        wanted = phonetic(title)
        if not wanted:
            return None
        for query in (f"{title} {artist}", title):
            result = search_catalog(self._catalog, query[:200], language=None)
            for hit in result.hits[:10]:
                if _same_title(hit.track, wanted) and artists_match([artist], hit.track.artists):
                    return hit.track.id
        return None

    def _discover(self, mention: SongMention, post_id: str) -> str | None:
        from melody.catalog.models import SongIn

        try:
            song = SongIn(
                title=mention.title or "",
                artists=[mention.artist or ""],
                popularity=0,
                external_ids={mention.provider: mention.external_id} if mention.provider and mention.external_id else {},
                external_urls={mention.provider: mention.url} if mention.provider and mention.url else {},
            )
        except ValueError:
            return None
        self._catalog.upsert_songs([song])
        self._store.mark_discovered(song.track_id(), post_id)
        return song.track_id()


def _same_title(track: Track, wanted: str) -> bool:
    return any(phonetic(t) == wanted for t in (track.title, track.title_latin, track.title_native) if t)
