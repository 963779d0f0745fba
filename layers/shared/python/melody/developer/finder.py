"""The B2B search service: natural-language queries, attribute and harmonic search, next tracks.

What the catalog can filter on: language, year (era), genre tags, artists (``songs``), and tempo,
Camelot key and energy (``track_attributes``, written by the pipeline for analysed catalog audio).
A mood is filtered only where the catalog tags songs with it (``MOOD_TAGS``: "romantic",
"patriotic", "devotional"); other moods (sad, happy, party, wedding, ...) are interpreted and
reported in ``not_applied``, and act through the energy range their words carry. ``similar_to``
ranks the catalog against the named song (found with the catalog's own search, any script).
A query none of whose fields can be applied returns no items rather than unfiltered ones.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from melody.catalog.postgres.attribute_search import AttributeQuery, AttributeRow
from melody.core.errors import InvalidInput, NotFound
from melody.developer.harmonic import bpm_match, bpm_windows, compatible_camelots, harmonic_relation
from melody.developer.search_schemas import NextPage, QueryResult, TrackHit, TrackPage

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.developer.interpret.rules import Interpreted
    from melody.developer.search_schemas import Interpretation, TrackFilters

__all__ = ["MOOD_TAGS", "TrackFinder"]

# Moods the catalog stores as genre tags (songs.genres); other moods are not filtered on.
MOOD_TAGS = {"romantic": "romantic", "patriotic": "patriotic", "devotional": "devotional"}
# "classic" and "recent" as year ranges (the lexicon's conventions).
ERAS = {"classic": (None, 1999), "recent": (2020, None)}
NEXT_TOLERANCE = 0.06  # a deck's pitch range for the next track (the issue's ±6 %)
CANDIDATES = 200  # candidates ranked for "songs like ..."
NEIGHBOURS_PER_SIDE = 15  # next tracks: per key and tempo window, the nearest tempos above and below


class AttributeSearch(Protocol):
    def search(
        self,
        q: AttributeQuery,
        *,
        limit: int,
        after: tuple[int, str] | None = None,
        with_artists: bool = True,
    ) -> list[AttributeRow]: ...

    def tempo_neighbours(
        self, camelots: list[str], windows: list[tuple[float, float, float]], *, per_side: int, exclude: str
    ) -> list[AttributeRow]: ...

    def artists_of(self, ids: list[str]) -> dict[str, list[str]]: ...

    def attributes(self, track_id: str) -> AttributeRow | None: ...


class Interpreter(Protocol):
    def interpret(self, text: str) -> Interpreted: ...


def _hit(row: AttributeRow, *, reasons: list[str] | None = None, score: float | None = None) -> TrackHit:
    return TrackHit(
        id=row.track_id, title=row.title, title_latin=row.title_latin, artists=row.artists, language=row.language,
        year=row.year, genres=row.genres, popularity=row.popularity, bpm=row.bpm, key=row.key, camelot=row.camelot,
        energy=row.energy, reasons=reasons or [], score=score,
    )


def encode_cursor(row: AttributeRow) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.popularity, row.track_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    bad = InvalidInput("The cursor is not one this API returned.", code="invalid_cursor")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise bad from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise bad
    return value[0], value[1]


def era_years(era: str) -> tuple[int | None, int | None] | None:
    """``"1990s"`` → (1990, 1999); ``"classic"``/``"recent"`` per :data:`ERAS`; None if unknown."""
    if era in ERAS:
        return ERAS[era]
    if len(era) == 5 and era.endswith("0s") and era[:4].isdigit():
        return int(era[:4]), int(era[:4]) + 9
    return None


def similarity(
    seed: AttributeRow, row: AttributeRow, *, tolerance: float = NEXT_TOLERANCE, explain: bool = True
) -> tuple[float, list[str]]:
    """How well ``row`` follows ``seed`` (0–1) and why: key (Camelot), tempo, energy, then catalog
    likeness (language, shared genre tags and artists, era). Without ``explain`` no reasons are
    written: candidates are ranked on the score, and only the ones kept are explained."""
    score, reasons = 0.0, []
    if seed.camelot and row.camelot:
        relation = harmonic_relation(seed.camelot, row.camelot)
        score += 0.4 * _RELATION_WEIGHT.get(relation or "", 0.0)
        if explain and relation:
            reasons.append(_RELATION_TEXT[relation].format(seed=seed.camelot, row=row.camelot))
    if seed.bpm and row.bpm:
        match = bpm_match(seed.bpm, row.bpm, tolerance)
        if match is not None:
            drift, factor = match
            score += 0.3 * (1 - drift / tolerance if tolerance else 1.0) * (1.0 if factor == 1 else 0.8)
            if explain:
                how = "" if factor == 1 else (" at double time" if factor == 2 else " at half time")
                reasons.append(f"tempo {row.bpm:g} BPM{how}, {drift * 100:.1f}% from {seed.bpm:g}")
    if seed.energy is not None and row.energy is not None:
        delta = row.energy - seed.energy
        # A set builds: a small lift (+0.05) flows best, a big jump either way breaks it.
        score += 0.2 * max(0.0, 1 - abs(delta - 0.05) / 0.3)
        if explain:
            reasons.append(f"energy {seed.energy:.2f} → {row.energy:.2f} ({delta:+.2f})")
    likeness = 0.0
    if seed.language and row.language == seed.language:
        likeness += 0.4
        if explain:
            reasons.append(f"same language ({row.language})")
    if seed.genres and row.genres and (shared := set(seed.genres) & set(row.genres)):
        likeness += 0.3 * len(shared) / len(set(seed.genres) | set(row.genres)) + 0.1
        if explain:
            reasons.append("shared tags: " + ", ".join(sorted(shared)))
    if seed.artists and row.artists and (artists := set(seed.artists) & set(row.artists)):
        likeness += 0.2
        if explain:
            reasons.append("same artist: " + ", ".join(sorted(artists)))
    if seed.year and row.year and abs(seed.year - row.year) <= 5:
        likeness += 0.1
    # Analysed seeds are mixed on key, tempo and energy; likeness only breaks ties. Others: likeness.
    score += 0.1 * min(1.0, likeness) if seed.bpm or seed.camelot else 0.9 * min(1.0, likeness)
    return round(min(1.0, score), 4), reasons


_RELATION_WEIGHT = {"same": 1.0, "relative": 0.9, "adjacent": 0.85}
_RELATION_TEXT = {
    "same": "same key ({row})",
    "relative": "relative major/minor ({seed} → {row})",
    "adjacent": "adjacent on the Camelot wheel ({seed} → {row})",
}


class TrackFinder:
    """``resolve`` finds a song named in a query (the catalog's own search: any script, spelling
    variants) and returns its track id, or None."""

    def __init__(
        self,
        repository: AttributeSearch,
        interpreter: Interpreter,
        *,
        resolve: Callable[[str], str | None],
        artist_id: Callable[[str], str],
    ) -> None:
        self.repository = repository
        self.interpreter = interpreter
        self._resolve = resolve
        self._artist_id = artist_id

    # -- natural language -------------------------------------------------------------------

    def query(self, text: str, limit: int) -> QueryResult:
        interpreted = self.interpreter.interpret(text)
        it = interpreted.interpretation
        q, applied = self._criteria(it)
        seed: AttributeRow | None = None
        if it.similar_to:
            track_id = self._resolve(it.similar_to)
            seed = self.repository.attributes(track_id) if track_id else None
            if seed is not None:
                applied.append("similar_to")
        not_applied = [f for f in it.fields() if f not in applied]
        if not applied:
            items: list[TrackHit] = []
        elif seed is not None:
            items = self._similar(seed, q, limit)
        else:
            items = [_hit(r) for r in self.repository.search(q, limit=limit)]
        return QueryResult(
            interpretation=it, confidence=interpreted.confidence,
            interpreter="llm" if interpreted.interpreter == "llm" else "rules",
            applied=applied, not_applied=not_applied, items=items,
        )

    def _criteria(self, it: Interpretation) -> tuple[AttributeQuery, list[str]]:
        applied: list[str] = []
        q = AttributeQuery()
        if it.language:
            q = replace(q, language=it.language)
            applied.append("language")
        if it.bpm and (it.bpm.min is not None or it.bpm.max is not None):
            q = replace(q, bpm_windows=((it.bpm.min, it.bpm.max),))
            applied.append("bpm")
        if it.camelot:
            q = replace(q, camelots=(it.camelot,))
            applied += ["key", "camelot"] if it.key else ["camelot"]
        if it.energy and (it.energy.min is not None or it.energy.max is not None):
            q = replace(q, energy_min=it.energy.min, energy_max=it.energy.max)
            applied.append("energy")
        if it.era and (years := era_years(it.era)) is not None:
            q = replace(q, year_min=years[0], year_max=years[1])
            applied.append("era")
        tags = []
        if it.genre:
            tags.append(it.genre)
            applied.append("genre")
        if it.mood in MOOD_TAGS:
            tags.append(MOOD_TAGS[it.mood])
            applied.append("mood")
        if tags:
            q = replace(q, genres=tuple(tags))
        if it.artists:
            q = replace(q, artist_ids=tuple(self._artist_id(a) for a in it.artists))
            applied.append("artists")
        return q, applied

    def _similar(self, seed: AttributeRow, q: AttributeQuery, limit: int) -> list[TrackHit]:
        if q.language is None and seed.language:
            q = replace(q, language=seed.language)
        candidates = self.repository.search(replace(q, exclude=(seed.track_id,)), limit=CANDIDATES)
        return self._ranked(seed, candidates, limit, prefix=f"like {seed.title}")

    @staticmethod
    def _ranked(seed: AttributeRow, rows: list[AttributeRow], limit: int, *, prefix: str | None = None) -> list[TrackHit]:
        scored = sorted(rows, key=lambda r: (-similarity(seed, r, explain=False)[0], -r.popularity, r.track_id))
        out = []
        for row in scored[:limit]:
            score, reasons = similarity(seed, row)
            out.append(_hit(row, reasons=([prefix] if prefix else []) + reasons, score=score))
        return out

    # -- attribute and harmonic search ---------------------------------------------------------

    def tracks(self, filters: TrackFilters, limit: int, cursor: str | None = None) -> TrackPage:
        after = decode_cursor(cursor) if cursor else None
        camelots: tuple[str, ...] = ()
        target = filters.target_camelot()
        if filters.compatible_with:
            camelots = tuple(compatible_camelots(filters.compatible_with))
            if target is not None:
                camelots = tuple(c for c in camelots if c == target)
                if not camelots:
                    return TrackPage(items=[], next_cursor=None)  # that key does not mix with compatible_with
        elif target is not None:
            camelots = (target,)
        q = AttributeQuery(
            camelots=camelots,
            bpm_windows=self._tempo_windows(filters),
            energy_min=filters.energy_min,
            energy_max=filters.energy_max,
            language=filters.language,
            analysed_only=True,
        )
        rows = self.repository.search(q, limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        return TrackPage(items=[_hit(r) for r in rows], next_cursor=encode_cursor(rows[-1]) if more and rows else None)

    @staticmethod
    def _tempo_windows(f: TrackFilters) -> tuple[tuple[float | None, float | None], ...]:
        if f.bpm_min is None and f.bpm_max is None:
            return ()
        if not f.compatible_with:
            return ((f.bpm_min, f.bpm_max),)  # without harmonic mixing the range is exact
        tol = f.bpm_tolerance
        if f.bpm_min is not None and f.bpm_max is not None:
            return tuple((w.low, w.high) for w in bpm_windows(f.bpm_min, f.bpm_max, tol))
        # One open end: widen the given end only (half/double time of an open range is meaningless).
        return ((None if f.bpm_min is None else f.bpm_min * (1 - tol), None if f.bpm_max is None else f.bpm_max * (1 + tol)),)

    # -- next tracks -------------------------------------------------------------------------

    def next_tracks(self, track_id: str, limit: int) -> NextPage:
        seed = self.repository.attributes(track_id)
        if seed is None or seed.bpm is None or seed.camelot is None:
            raise NotFound("No such track with analysis.", code="track_not_found")
        # The tracks nearest in tempo in each compatible key (same, ±1, relative) and at same, double
        # and half time; their artists are read for the kept page only.
        windows = [(seed.bpm * w.factor, w.low, w.high) for w in bpm_windows(seed.bpm, seed.bpm, NEXT_TOLERANCE)]
        candidates = self.repository.tempo_neighbours(
            compatible_camelots(seed.camelot), windows, per_side=NEIGHBOURS_PER_SIDE, exclude=seed.track_id
        )
        ranked = self._ranked(seed, candidates, limit)
        artists = self.repository.artists_of([h.id for h in ranked])
        for hit in ranked:
            hit.artists = artists.get(hit.id, [])
        return NextPage(track=_hit(seed), items=ranked)
