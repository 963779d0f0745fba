"""Attribute and harmonic search over catalog tracks: tempo windows, Camelot codes, energy, language,
genre, years, artists — most popular first, with a keyset cursor.

Like the catalog repository, every statement is plain PostgreSQL binding scalars or JSON only (the
RDS Data API cannot bind arrays); the WHERE clause is assembled from fixed fragments of this module,
never from caller text. Indexes: migration 0005.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from melody.core.sql.executor import SqlExecutor

__all__ = ["AttributeQuery", "AttributeRow", "AttributeSearchRepository"]


@dataclass(frozen=True)
class AttributeQuery:
    """What to match; every part is optional and the parts combine with AND.

    ``bpm_windows``: tempo ranges of which a track must fall in one (open ends: None).
    ``camelots``: Camelot codes of which the track must have one. ``analysed_only``: only tracks
    with analysed attributes (implied by any tempo, key or energy part).
    """

    bpm_windows: tuple[tuple[float | None, float | None], ...] = ()
    camelots: tuple[str, ...] = ()
    energy_min: float | None = None
    energy_max: float | None = None
    language: str | None = None
    genres: tuple[str, ...] = ()  # tags the song must all carry (songs.genres)
    year_min: int | None = None
    year_max: int | None = None
    artist_ids: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    analysed_only: bool = False

    def needs_analysis(self) -> bool:
        return bool(self.analysed_only or self.bpm_windows or self.camelots
                    or self.energy_min is not None or self.energy_max is not None)


@dataclass(frozen=True)
class AttributeRow:
    track_id: str
    title: str
    title_latin: str | None
    artists: list[str]
    language: str | None
    year: int | None
    genres: list[str]
    popularity: int
    bpm: float | None
    key: str | None
    camelot: str | None
    energy: float | None


_SELECT = """
    SELECT s.track_id, s.title, s.title_latin, s.language, s.year, s.genres, s.popularity,
           ta.bpm, ta.musical_key, ta.camelot, ta.energy
    FROM songs s {join} track_attributes ta ON ta.track_id = s.track_id
    WHERE {where}
    ORDER BY s.popularity DESC, s.track_id DESC
    LIMIT :limit"""

# Next-track candidates: for each (Camelot code, tempo window), the tracks nearest the target tempo
# on either side, read in index order off (camelot, bpm) with a LIMIT each: a few hundred index
# entries however many tracks are compatible, and only those few hundred songs read by primary key.
_NEIGHBOURS = """
    WITH probe AS (SELECT e->>0 AS camelot, (e->>1)::real AS target, (e->>2)::real AS lo, (e->>3)::real AS hi
                   FROM jsonb_array_elements(CAST(:probes AS jsonb)) e),
         c AS (SELECT DISTINCT ON (x.track_id) x.* FROM probe p CROSS JOIN LATERAL (
                   (SELECT ta.track_id, ta.bpm, ta.musical_key, ta.camelot, ta.energy FROM track_attributes ta
                    WHERE ta.camelot = p.camelot AND ta.bpm >= p.target AND ta.bpm <= p.hi
                    ORDER BY ta.bpm LIMIT :per_side)
                   UNION ALL
                   (SELECT ta.track_id, ta.bpm, ta.musical_key, ta.camelot, ta.energy FROM track_attributes ta
                    WHERE ta.camelot = p.camelot AND ta.bpm < p.target AND ta.bpm >= p.lo
                    ORDER BY ta.bpm DESC LIMIT :per_side)) x)
    SELECT s.track_id, s.title, s.title_latin, s.language, s.year, s.genres, s.popularity,
           c.bpm, c.musical_key, c.camelot, c.energy
    FROM c JOIN songs s ON s.track_id = c.track_id
    WHERE s.track_id <> CAST(:exclude AS text)
    ORDER BY s.popularity DESC, s.track_id DESC"""

# The page's artists, in one grouped join over the page's ids (not a subquery per row).
_ARTISTS = """
    SELECT sa.track_id, jsonb_agg(ar.name ORDER BY sa.position) AS artists
    FROM song_artists sa JOIN artists ar ON ar.artist_id = sa.artist_id
    WHERE sa.track_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))
    GROUP BY sa.track_id"""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # the Data API returns jsonb as text


class AttributeSearchRepository:
    def __init__(self, executor: SqlExecutor) -> None:
        self.db = executor

    def search(
        self,
        q: AttributeQuery,
        *,
        limit: int,
        after: tuple[int, str] | None = None,
        with_artists: bool = True,
    ) -> list[AttributeRow]:
        """Up to ``limit`` matching tracks, most popular first (ties: track id, descending), after
        the keyset ``after`` = (popularity, track id) of the previous page's last row. Without
        ``with_artists`` the rows' artists are empty (a caller ranking many candidates fills in
        only the ones it keeps, :meth:`artists_of`)."""
        where, params = self._where(q)
        if after is not None:
            where.append("(s.popularity, s.track_id) < (CAST(:after_pop AS integer), CAST(:after_id AS text))")
            params.update(after_pop=after[0], after_id=after[1])
        params["limit"] = limit
        # The planner walks songs by popularity (songs_popularity_track) and stops after a page, or
        # reads a narrow key/tempo range off the track_attributes indexes: both stay fast at 1/24 selectivity.
        sql = _SELECT.format(join="JOIN" if q.needs_analysis() else "LEFT JOIN", where=" AND ".join(where) or "TRUE")
        rows = self.db.query(sql, params)
        return self._rows(rows, with_artists=with_artists)

    def tempo_neighbours(
        self, camelots: list[str], windows: list[tuple[float, float, float]], *, per_side: int, exclude: str
    ) -> list[AttributeRow]:
        """Candidates to follow a track: in each of ``camelots`` and each tempo window (target, low,
        high), the ``per_side`` tracks nearest the target above it and below it; without artists."""
        probes = [[c, target, lo, hi] for c in camelots for target, lo, hi in windows]
        rows = self.db.query(_NEIGHBOURS, {"probes": probes, "per_side": per_side, "exclude": exclude})
        return self._rows(rows, with_artists=False)

    def artists_of(self, ids: list[str]) -> dict[str, list[str]]:
        """The artists of each track (one grouped query for all of them)."""
        if not ids:
            return {}
        return {r["track_id"]: list(_json(r["artists"]) or []) for r in self.db.query(_ARTISTS, {"ids": ids})}

    def attributes(self, track_id: str) -> AttributeRow | None:
        """One track with its attributes (None when the catalog has no such track)."""
        rows = self.db.query(
            _SELECT.format(join="LEFT JOIN", where="s.track_id = :track_id"), {"track_id": track_id, "limit": 1}
        )
        found = self._rows(rows)
        return found[0] if found else None

    def _rows(self, rows: list[dict[str, Any]], *, with_artists: bool = True) -> list[AttributeRow]:
        if not rows:
            return []
        artists = self.artists_of([r["track_id"] for r in rows]) if with_artists else {}
        return [
            AttributeRow(
                track_id=r["track_id"],
                title=r["title"],
                title_latin=r.get("title_latin"),
                artists=artists.get(r["track_id"], []),
                language=r.get("language"),
                year=r.get("year"),
                genres=list(_json(r.get("genres")) or []),
                popularity=int(r.get("popularity") or 0),
                bpm=None if r.get("bpm") is None else round(float(r["bpm"]), 1),
                key=r.get("musical_key"),
                camelot=r.get("camelot"),
                energy=None if r.get("energy") is None else round(float(r["energy"]), 3),
            )
            for r in rows
        ]

    @staticmethod
    def _where(q: AttributeQuery) -> tuple[list[str], dict[str, Any]]:
        where: list[str] = []
        params: dict[str, Any] = {}
        if q.camelots:
            # IN over literal parameters (not a JSON array): the planner then sees one index range per code
            names = [f"cam{i}" for i in range(len(q.camelots))]
            where.append(f"ta.camelot IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, q.camelots, strict=True))
        windows = []
        for i, (lo, hi) in enumerate(q.bpm_windows):
            parts = []
            if lo is not None:
                parts.append(f"ta.bpm >= CAST(:bpm_lo{i} AS real)")
                params[f"bpm_lo{i}"] = lo
            if hi is not None:
                parts.append(f"ta.bpm <= CAST(:bpm_hi{i} AS real)")
                params[f"bpm_hi{i}"] = hi
            windows.append("(" + (" AND ".join(parts) or "ta.bpm IS NOT NULL") + ")")
        if windows:
            where.append("(" + " OR ".join(windows) + ")")
        if q.energy_min is not None:
            where.append("ta.energy >= CAST(:energy_min AS real)")
            params["energy_min"] = q.energy_min
        if q.energy_max is not None:
            where.append("ta.energy <= CAST(:energy_max AS real)")
            params["energy_max"] = q.energy_max
        if q.language is not None:
            where.append("s.language = CAST(:language AS text)")
            params["language"] = q.language
        if q.genres:
            where.append("s.genres @> CAST(:genres AS jsonb)")
            params["genres"] = list(q.genres)
        if q.year_min is not None:
            where.append("s.year >= CAST(:year_min AS integer)")
            params["year_min"] = q.year_min
        if q.year_max is not None:
            where.append("s.year <= CAST(:year_max AS integer)")
            params["year_max"] = q.year_max
        if q.artist_ids:
            where.append("""EXISTS (SELECT 1 FROM song_artists sa WHERE sa.track_id = s.track_id
                              AND sa.artist_id IN (SELECT jsonb_array_elements_text(CAST(:artist_ids AS jsonb))))""")
            params["artist_ids"] = list(q.artist_ids)
        for i, track_id in enumerate(q.exclude):
            # One literal per id, not NOT IN over a JSON array (that turned the join into a scan of songs).
            where.append(f"s.track_id <> CAST(:exclude{i} AS text)")
            params[f"exclude{i}"] = track_id
        return where, params
