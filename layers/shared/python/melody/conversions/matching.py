"""Which catalog track an upload is, from its tags and duration, through the catalog's own search."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any, Protocol

from melody.conversions.models import SuggestedTrack

if TYPE_CHECKING:
    from melody.catalog.models import SearchPage, Track

# A tagged length and the catalog's may differ by an intro or a fade; more than this is another cut.
DURATION_TOLERANCE_S = 8.0


class CatalogSearch(Protocol):
    def search(self, query: str, *, language: str | None, limit: int, offset: int, source: str) -> SearchPage: ...


def _norm(text: str | None) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in folded).split())


def _titles(track: Track) -> set[str]:
    return {_norm(t) for t in (track.title, track.title_latin, track.title_native) if t}


class CatalogTrackMatcher:
    """The best catalog hit (catalog only: no provider calls) whose title is the tag's and whose
    duration is within :data:`DURATION_TOLERANCE_S` of the file's (when both are known); an artist
    tag, when present, must be one of the track's artists."""

    def __init__(self, search: CatalogSearch, *, limit: int = 10) -> None:
        self._search = search
        self._limit = limit

    def match(self, *, title: str, artist: str | None, duration_s: float | None) -> SuggestedTrack | None:
        wanted, by = _norm(title), _norm(artist)
        if not wanted:
            return None
        queries = [f"{title} {artist}", title] if artist else [title]
        for query in queries:
            page = self._search.search(query[:200], language=None, limit=self._limit, offset=0, source="catalog")
            for hit in page.hits:
                if self._fits(hit.track, wanted, by, duration_s):
                    track = hit.track
                    return SuggestedTrack(track_id=track.id, title=track.title, artists=list(track.artists), score=round(hit.score, 4))
        return None

    @staticmethod
    def _fits(track: Track, wanted: str, by: str, duration_s: float | None) -> bool:
        if wanted not in _titles(track):
            return False
        if by and not any(by == _norm(a) or by in _norm(a) or _norm(a) in by for a in track.artists):
            return False
        known: Any = track.duration_s
        return duration_s is None or known is None or abs(float(known) - duration_s) <= DURATION_TOLERANCE_S
