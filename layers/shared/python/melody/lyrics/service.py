"""Lyrics for a song: the caller's own attached LRC first, else a provider's (cached), transliterated.

Each line carries ``latin`` when its text is in an Indic (Brahmic) script, rendered by the catalog's
transliteration (:func:`melody.catalog.keys.to_latin`), so a listener who cannot read Devanagari or
Tamil can still sing. A provider that fails (offline, timeout, rate limit) is reported in
``provider_status`` and never cached; "no lyrics" is cached for a shorter time than lyrics found.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from melody.catalog.keys import has_brahmic, to_latin
from melody.catalog.service import ProviderFailure
from melody.catalog.service import _run as run_coroutine  # the search service's sync bridge, shared
from melody.core.errors import InvalidInput, NotFound
from melody.lyrics.lrc import MAX_LINE_CHARS, LrcError, LrcLine, parse_lrc
from melody.lyrics.ports import LyricsQuery

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.core.clock import Clock
    from melody.lyrics.ports import LyricsProvider, LyricsStore, SongLookup, SongRef

__all__ = ["Lyrics", "LyricsLine", "LyricsService", "transliterate"]

logger = logging.getLogger(__name__)

Source = Literal["user", "lrclib", "none"]
NOT_FOUND_TTL_S = 24 * 3600


@dataclass(frozen=True)
class LyricsLine:
    t: float | None  # None: plain (unsynced) lyrics
    text: str
    latin: str | None


@dataclass(frozen=True)
class Lyrics:
    track_id: str
    source: Source
    synced: bool
    lines: list[LyricsLine]
    provider_status: str | None = None  # ok, not_found, skipped, timeout, rate_limited, error
    offset_ms: int = 0
    updated_at: float | None = None


def transliterate(text: str) -> str | None:
    """A Latin rendering for a line in an Indic script, else None (Latin lines need none)."""
    if not has_brahmic(text):
        return None
    latin = to_latin(text)
    return latin or None


def _lines(timed: list[LrcLine]) -> list[LyricsLine]:
    return [LyricsLine(t=line.t, text=line.text, latin=transliterate(line.text)) for line in timed]


def _plain_lines(text: str) -> list[LyricsLine]:
    out = []
    for raw in text.splitlines()[:2000]:
        line = " ".join(raw.split())[:MAX_LINE_CHARS]
        if line:
            out.append(LyricsLine(t=None, text=line, latin=transliterate(line)))
    return out


def cache_key(query: LyricsQuery) -> str:
    """One cache entry per (title, artist, album, rounded duration), whichever track asked."""
    parts = [query.title.casefold().strip(), query.artist.casefold().strip(), (query.album or "").casefold().strip(),
             str(round(query.duration_s)) if query.duration_s else ""]
    return "lrclib#" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class LyricsService:
    def __init__(
        self,
        store: LyricsStore,
        songs: SongLookup,
        *,
        provider: Callable[[], LyricsProvider | None],
        clock: Clock,
        cache_ttl_s: float = 7 * 24 * 3600,
        provider_timeout_s: float = 2.5,
    ) -> None:
        self.store = store
        self.songs = songs
        self._provider = provider
        self.clock = clock
        self.cache_ttl_s = cache_ttl_s
        self.provider_timeout_s = provider_timeout_s

    def _song(self, user_id: str, track_id: str) -> SongRef:
        song = self.songs.song(user_id, track_id)
        if song is None:
            # The same answer for "no such song" and "another user's upload": ids are not probed.
            raise NotFound("No such song.", code="track_not_found")
        return song

    def get(self, user_id: str, track_id: str) -> Lyrics:
        song = self._song(user_id, track_id)
        attached = self.store.get_attached(user_id, track_id)
        if attached:
            document = parse_lrc(str(attached.get("lrc", "")))
            return Lyrics(
                track_id=track_id, source="user", synced=True, lines=_lines(document.lines),
                offset_ms=document.offset_ms, updated_at=attached.get("updated_at"),
            )  # fmt: skip
        return self._from_provider(song)

    def _from_provider(self, song: SongRef) -> Lyrics:
        none = Lyrics(track_id=song.track_id, source="none", synced=False, lines=[])
        if not song.title or not song.artists:
            return replace(none, provider_status="not_found")
        query = LyricsQuery(title=song.title, artist=song.artists[0], album=song.album, duration_s=song.duration_s)
        key = cache_key(query)
        now = self.clock.now()
        cached = self._cache_get(key, now)
        if cached is None:
            provider = self._provider()
            if provider is None:
                return replace(none, provider_status="skipped")
            try:
                found = run_coroutine(asyncio.wait_for(provider.lyrics(query), timeout=self.provider_timeout_s))
            except ProviderFailure as exc:
                logger.info("lyrics provider failed", extra={"provider": provider.name, "status": exc.status})
                return replace(none, provider_status=exc.status)
            except TimeoutError:
                return replace(none, provider_status="timeout")
            cached = {"synced": found.synced, "plain": found.plain} if found else {}
            ttl = self.cache_ttl_s if found else NOT_FOUND_TTL_S
            try:
                self.store.put_cached(key, cached, expires_at=now + ttl)
            except Exception:
                logger.warning("lyrics cache write failed")
        return self._shape(song.track_id, cached)

    def _cache_get(self, key: str, now: float) -> dict[str, Any] | None:
        try:
            return self.store.get_cached(key, now=now)
        except Exception:
            logger.warning("lyrics cache read failed")
            return None

    @staticmethod
    def _shape(track_id: str, found: dict[str, Any]) -> Lyrics:
        synced, plain = found.get("synced"), found.get("plain")
        if synced:
            try:
                document = parse_lrc(str(synced))
                return Lyrics(track_id=track_id, source="lrclib", synced=True, lines=_lines(document.lines),
                              provider_status="ok", offset_ms=document.offset_ms)  # fmt: skip
            except LrcError:
                pass  # a provider's malformed LRC: fall back to its plain text when there is some
        if plain:
            return Lyrics(track_id=track_id, source="lrclib", synced=False, lines=_plain_lines(str(plain)),
                          provider_status="ok")  # fmt: skip
        return Lyrics(track_id=track_id, source="none", synced=False, lines=[], provider_status="not_found")

    def attach(self, user_id: str, track_id: str, lrc: str) -> Lyrics:
        """Validate and keep the caller's own LRC for the song (replacing theirs, never anyone else's)."""
        self._song(user_id, track_id)
        try:
            document = parse_lrc(lrc)
        except LrcError as exc:
            raise InvalidInput(str(exc), code=exc.code, details={"line": exc.line} if exc.line else None) from None
        now = self.clock.now()
        self.store.put_attached(user_id, track_id, {"lrc": lrc, "updated_at": now})
        return Lyrics(track_id=track_id, source="user", synced=True, lines=_lines(document.lines),
                      offset_ms=document.offset_ms, updated_at=now)  # fmt: skip

    def detach(self, user_id: str, track_id: str) -> None:
        self._song(user_id, track_id)
        if not self.store.delete_attached(user_id, track_id):
            raise NotFound("You have not attached lyrics to this song.", code="lyrics_not_attached")
