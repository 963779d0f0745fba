"""The catalog repository: bulk upserts with search keys, recall for search, details, plays, trending.

Every statement is plain PostgreSQL (no contrib extension) and binds scalars or JSON only, so the
same text runs through psycopg and through the RDS Data API.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from melody.catalog.keys import DEDUP_DURATION_TOLERANCE_S, dedup_key, dedup_keys, dedup_match, to_latin
from melody.catalog.models import ArtistRef, ExternalLink, SongIn, Track, TrackDetails
from melody.catalog.ranking import build_search_doc, index_tokens, native_title, trigrams

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from melody.catalog.attributes import TrackAttributes
    from melody.core.sql.executor import SqlExecutor


def _hid(prefix: str, basis: str) -> str:
    return prefix + hashlib.sha1(basis.encode()).hexdigest()[:12]


def artist_id(name: str) -> str:
    return _hid("art_", to_latin(name) or name.strip().lower())


def album_id(title: str, kind: str) -> str:
    return _hid("alb_", f"{kind}|{to_latin(title) or title.strip().lower()}")


_TRACK_COLUMNS = """
    s.track_id, s.title, s.title_latin, s.title_native, s.language, s.year, s.duration_s, s.popularity,
    s.genres, s.isrc, a.title AS album,
    COALESCE((SELECT jsonb_agg(ar.name ORDER BY sa.position) FROM song_artists sa
              JOIN artists ar ON ar.artist_id = sa.artist_id WHERE sa.track_id = s.track_id), '[]'::jsonb) AS artists
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _track(row: dict[str, Any]) -> Track:
    return Track(
        id=row["track_id"],
        title=row["title"],
        title_latin=row["title_latin"],
        title_native=row.get("title_native"),
        artists=list(row.get("artists") or []),
        album=row.get("album"),
        language=row.get("language"),
        year=row.get("year"),
        duration_s=row.get("duration_s"),
        popularity=int(row.get("popularity") or 0),
        genres=list(row.get("genres") or []),
        isrc=row.get("isrc"),
    )


# Recall: each term is an exact token (hi = lo + \x01) or a prefix range expanded to its most popular
# vocabulary tokens; each token contributes its most popular postings (read in index order off
# song_search_tokens_popular, or song_search_tokens_lang_popular with a language: early stop, no
# filter). Only the capped candidates are joined to songs/albums, and their artists come from one
# grouped join (not a per-row subquery). Two texts, not `:language IS NULL OR ...`, so a prepared
# statement's generic plan stays index-only.
def _recall_sql(language_filter: str) -> str:
    return f"""WITH t AS (SELECT (e->>0)::int AS qi, e->>1 AS lo, e->>2 AS hi, (e->>3)::float AS w,
                           right(e->>2, 1) = '~' AS is_prefix
                    FROM jsonb_array_elements(CAST(:terms AS jsonb)) e),
         tok AS MATERIALIZED (
             SELECT t.qi, t.w, t.is_prefix, t.lo, v.token FROM t CROSS JOIN LATERAL (
                 SELECT token FROM search_vocab
                 WHERE token >= t.lo COLLATE "C" AND token < t.hi COLLATE "C"
                 ORDER BY weight DESC, token LIMIT CASE WHEN t.is_prefix THEN :per_prefix ELSE 1 END) v),
         p AS (SELECT tok.qi, tok.w, x.track_id, x.popularity FROM tok CROSS JOIN LATERAL (
                   SELECT ps.track_id, ps.popularity FROM song_search_tokens ps
                   WHERE ps.token = tok.token{language_filter}
                   ORDER BY ps.popularity DESC, ps.track_id
                   LIMIT CASE WHEN tok.is_prefix THEN :per_prefix_token ELSE :per_token END) x),
         hits AS (SELECT track_id, qi, max(w) AS w, max(popularity) AS pop FROM p GROUP BY track_id, qi),
         scored AS MATERIALIZED (
             SELECT track_id, sum(w) AS cover, max(pop) AS pop FROM hits GROUP BY track_id
             ORDER BY cover DESC, pop DESC, track_id LIMIT :cap),
         arts AS (SELECT sa.track_id, jsonb_agg(ar.name ORDER BY sa.position) AS artists
                  FROM scored sc JOIN song_artists sa ON sa.track_id = sc.track_id
                  JOIN artists ar ON ar.artist_id = sa.artist_id GROUP BY sa.track_id),
         known AS (SELECT COALESCE(jsonb_agg(DISTINCT token), '[]'::jsonb) AS known
                   FROM tok WHERE NOT is_prefix AND token = lo)
    SELECT s.track_id, s.title, s.title_latin, s.title_native, s.language, s.year, s.duration_s, s.popularity,
           s.genres, s.isrc, a.title AS album, COALESCE(arts.artists, '[]'::jsonb) AS artists,
           s.search_doc, sc.cover, known.known
    FROM scored sc JOIN songs s ON s.track_id = sc.track_id
    LEFT JOIN albums a ON a.album_id = s.album_id
    LEFT JOIN arts ON arts.track_id = sc.track_id
    CROSS JOIN known
    ORDER BY sc.cover DESC, sc.pop DESC, s.track_id"""


_RECALL_SQL = _recall_sql("")
_RECALL_SQL_LANG = _recall_sql(" AND ps.language = CAST(:language AS text)")

# Duplicate candidates of a provider hit: songs under any of its title keys whose duration is within
# the tolerance (or unknown on either side); closest known duration first (unknown after every known
# one), then the most popular, then the track id. Artists are compared in Python (phonetic names), so
# all candidates up to the bound come back in one round trip, with their artists from one grouped join.
# One index range per title key (songs_dedup_key); scalars and JSON only.
_DUPLICATE_SQL = """
    WITH c AS (SELECT s.track_id, s.duration_s, s.popularity,
                      CASE WHEN CAST(:duration AS integer) IS NULL OR s.duration_s IS NULL
                           THEN CAST(:tolerance AS integer) + 1
                           ELSE abs(s.duration_s - CAST(:duration AS integer)) END AS drift
               FROM songs s
               WHERE s.dedup_key IN (SELECT jsonb_array_elements_text(CAST(:keys AS jsonb)))
                 AND (CAST(:duration AS integer) IS NULL OR s.duration_s IS NULL
                      OR abs(s.duration_s - CAST(:duration AS integer)) <= :tolerance)
               ORDER BY drift, s.popularity DESC, s.track_id
               LIMIT :cap),
         arts AS (SELECT sa.track_id, jsonb_agg(ar.name ORDER BY sa.position) AS artists
                  FROM c JOIN song_artists sa ON sa.track_id = c.track_id
                  JOIN artists ar ON ar.artist_id = sa.artist_id GROUP BY sa.track_id)
    SELECT c.track_id, c.duration_s, COALESCE(arts.artists, '[]'::jsonb) AS artists
    FROM c LEFT JOIN arts ON arts.track_id = c.track_id
    ORDER BY c.drift, c.popularity DESC, c.track_id"""
# The most candidates one provider hit is compared with: a title key shared by more songs than this
# ("Intro", "Love") may miss a duplicate ranked beyond it (then the hit is inserted). A thousand short
# rows are one small response (well under the Data API's 1 MiB).
DUPLICATE_MAX_CANDIDATES = 1_000


class CatalogRepository:
    def __init__(self, executor: SqlExecutor, *, batch_size: int = 200) -> None:
        self.db = executor
        self.batch_size = batch_size

    # --- writes --------------------------------------------------------------------------------

    def upsert_songs(self, songs: Iterable[SongIn]) -> int:
        """Insert or update songs by track id (idempotent); returns how many were written."""
        count = 0
        batch: dict[str, SongIn] = {}
        for song in songs:
            batch[song.track_id()] = song  # a later line for the same id wins
            if len(batch) >= self.batch_size:
                count += self._upsert_batch(list(batch.values()))
                batch = {}
        if batch:
            count += self._upsert_batch(list(batch.values()))
        return count

    def _upsert_batch(self, songs: list[SongIn]) -> int:
        albums: dict[str, dict[str, Any]] = {}
        artists: dict[str, dict[str, Any]] = {}
        song_rows, links, postings, externals = [], [], [], []
        vocab: dict[str, int] = {}
        for song in songs:
            tid = song.track_id()
            alb = None
            if song.album:
                alb = album_id(song.album, song.album_kind)
                albums[alb] = {"album_id": alb, "title": song.album, "kind": song.album_kind, "year": song.year}
            for pos, name in enumerate(song.artists):
                aid = artist_id(name)
                artists.setdefault(aid, {"artist_id": aid, "name": name, "name_latin": to_latin(name)})
                links.append({"track_id": tid, "artist_id": aid, "position": pos})
            doc = build_search_doc(song.title, song.title_latin, song.artists, song.album, song.language)
            for token, field in index_tokens(doc):
                postings.append(
                    {"token": token, "track_id": tid, "field": field, "popularity": song.popularity, "language": song.language}
                )
                vocab[token] = max(vocab.get(token, 0), song.popularity)
            for provider, ext in song.external_ids.items():
                externals.append(
                    {"provider": provider, "external_id": ext, "track_id": tid, "url": song.external_urls.get(provider)}
                )
            song_rows.append(
                {
                    "track_id": tid,
                    "title": song.title,
                    "title_latin": song.title_latin,
                    "title_native": native_title(song.title_latin or song.title, song.language)
                    if song.title.isascii()
                    else None,
                    "language": song.language,
                    "album_id": alb,
                    "year": song.year,
                    "duration_s": song.duration_s,
                    "popularity": song.popularity,
                    "genres": song.genres,
                    "isrc": song.isrc,
                    "dedup_key": dedup_key(song.title_latin or song.title),
                    "search_doc": doc,
                }
            )
        grams = [{"gram": g, "token": t} for t in vocab for g in trigrams(t)]
        ids = [r["track_id"] for r in song_rows]
        with self.db.transaction() as tx:
            if albums:
                tx.execute(
                    """INSERT INTO albums (album_id, title, kind, year)
                       SELECT r.album_id, r.title, r.kind, r.year
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(album_id text, title text, kind text, year int)
                       ON CONFLICT (album_id) DO UPDATE SET title = EXCLUDED.title,
                           year = COALESCE(albums.year, EXCLUDED.year), updated_at = now()""",
                    {"rows": list(albums.values())},
                )
            if artists:
                tx.execute(
                    """INSERT INTO artists (artist_id, name, name_latin)
                       SELECT r.artist_id, r.name, r.name_latin
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(artist_id text, name text, name_latin text)
                       ON CONFLICT (artist_id) DO NOTHING""",
                    {"rows": list(artists.values())},
                )
            tx.execute(
                """INSERT INTO songs (track_id, title, title_latin, title_native, language, album_id, year,
                                      duration_s, popularity, genres, isrc, dedup_key, search_doc)
                   SELECT r.track_id, r.title, r.title_latin, r.title_native, r.language, r.album_id, r.year,
                          r.duration_s, r.popularity, COALESCE(r.genres, '[]'::jsonb), r.isrc, r.dedup_key, r.search_doc
                   FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
                       track_id text, title text, title_latin text, title_native text, language text,
                       album_id text, year int, duration_s int, popularity int, genres jsonb, isrc text,
                       dedup_key text, search_doc jsonb)
                   ON CONFLICT (track_id) DO UPDATE SET
                       title = EXCLUDED.title, title_latin = EXCLUDED.title_latin,
                       title_native = EXCLUDED.title_native, language = EXCLUDED.language,
                       album_id = EXCLUDED.album_id, year = EXCLUDED.year, duration_s = EXCLUDED.duration_s,
                       popularity = EXCLUDED.popularity, genres = EXCLUDED.genres,
                       isrc = COALESCE(EXCLUDED.isrc, songs.isrc), dedup_key = EXCLUDED.dedup_key,
                       search_doc = EXCLUDED.search_doc, updated_at = now()""",
                {"rows": song_rows},
            )
            tx.execute(
                "DELETE FROM song_artists WHERE track_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))",
                {"ids": ids},
            )
            if links:
                tx.execute(
                    """INSERT INTO song_artists (track_id, artist_id, position)
                       SELECT r.track_id, r.artist_id, r.position
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(track_id text, artist_id text, position int)
                       ON CONFLICT DO NOTHING""",
                    {"rows": links},
                )
            if externals:
                tx.execute(
                    """INSERT INTO external_ids (provider, external_id, track_id, url)
                       SELECT r.provider, r.external_id, r.track_id, r.url
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(provider text, external_id text, track_id text, url text)
                       ON CONFLICT (provider, external_id) DO UPDATE SET url = COALESCE(EXCLUDED.url, external_ids.url),
                           updated_at = now()""",
                    {"rows": externals},
                )
            tx.execute(
                "DELETE FROM song_search_tokens WHERE track_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))",
                {"ids": ids},
            )
            if postings:
                tx.execute(
                    """INSERT INTO song_search_tokens (token, track_id, field, popularity, language)
                       SELECT r.token, r.track_id, r.field, r.popularity, r.language
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                            AS r(token text, track_id text, field text, popularity int, language text)
                       ON CONFLICT DO NOTHING""",
                    {"rows": postings},
                )
                tx.execute(
                    """INSERT INTO search_vocab (token, weight)
                       SELECT e.key, (e.value)::int FROM jsonb_each_text(CAST(:tokens AS jsonb)) e
                       ON CONFLICT (token) DO UPDATE SET weight = GREATEST(search_vocab.weight, EXCLUDED.weight)""",
                    {"tokens": vocab},
                )
                tx.execute(
                    """INSERT INTO search_vocab_grams (gram, token)
                       SELECT r.gram, r.token FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(gram text, token text)
                       ON CONFLICT DO NOTHING""",
                    {"rows": grams},
                )
        return len(song_rows)

    def add_external_id(self, track_id: str, provider: str, external_id: str, url: str | None) -> None:
        self.db.execute(
            """INSERT INTO external_ids (provider, external_id, track_id, url) VALUES (:provider, :external_id, :track_id, :url)
               ON CONFLICT (provider, external_id) DO UPDATE SET url = COALESCE(EXCLUDED.url, external_ids.url), updated_at = now()""",
            {"provider": provider, "external_id": external_id, "track_id": track_id, "url": url},
        )

    def record_play(self, track_id: str, at: dt.datetime) -> None:
        self.db.execute(
            """INSERT INTO play_counts_daily (track_id, day, plays) VALUES (:track_id, :day, 1)
               ON CONFLICT (day, track_id) DO UPDATE SET plays = play_counts_daily.plays + 1""",
            {"track_id": track_id, "day": at.date()},
        )

    def set_audio_asset(self, track_id: str, storage_key: str, *, kind: str = "original", fmt: str | None = None) -> None:
        """Record a track's audio in the media bucket; keys must sit under ``catalog/`` (the only
        prefix the catalog functions may read, see ``track_audio.CATALOG_AUDIO_PREFIX``)."""
        from melody.catalog.track_audio import CATALOG_AUDIO_PREFIX, is_catalog_audio_key

        if not is_catalog_audio_key(storage_key):
            raise ValueError(f"catalog audio keys live under {CATALOG_AUDIO_PREFIX!r}: {storage_key!r}")
        self.db.execute(
            """INSERT INTO audio_assets (track_id, kind, storage_key, format) VALUES (:track_id, :kind, :key, :fmt)
               ON CONFLICT (track_id, kind) DO UPDATE SET storage_key = EXCLUDED.storage_key, format = EXCLUDED.format""",
            {"track_id": track_id, "kind": kind, "key": storage_key, "fmt": fmt},
        )

    def write_attributes(self, track_id: str, attributes: TrackAttributes, *, content_hash: str | None = None) -> bool:
        """Write a track's analysed attributes (the pipeline's persist step, through
        :class:`~melody.catalog.ports.TrackAttributesWriter`); False when there is no such track."""
        rows = self.db.query(
            """INSERT INTO track_attributes (track_id, bpm, musical_key, camelot, energy, loudness_lufs, analysis_hash)
               SELECT s.track_id, CAST(:bpm AS real), CAST(:musical_key AS text), CAST(:camelot AS text),
                      CAST(:energy AS real), CAST(:loudness_lufs AS real), CAST(:analysis_hash AS text)
               FROM songs s WHERE s.track_id = :track_id
               ON CONFLICT (track_id) DO UPDATE SET bpm = EXCLUDED.bpm, musical_key = EXCLUDED.musical_key,
                   camelot = EXCLUDED.camelot, energy = EXCLUDED.energy, loudness_lufs = EXCLUDED.loudness_lufs,
                   analysis_hash = EXCLUDED.analysis_hash, analysed_at = now()
               RETURNING track_id""",
            {
                "track_id": track_id,
                "bpm": attributes.bpm,
                "musical_key": attributes.key,
                "camelot": attributes.camelot,
                "energy": attributes.energy,
                "loudness_lufs": attributes.loudness_lufs,
                "analysis_hash": content_hash,
            },
        )
        return bool(rows)

    def audio_asset_key(self, track_id: str) -> str | None:
        rows = self.db.query(
            "SELECT storage_key FROM audio_assets WHERE track_id = :track_id AND kind = 'original'",
            {"track_id": track_id},
        )
        return str(rows[0]["storage_key"]) if rows else None

    # --- reads ---------------------------------------------------------------------------------

    def with_audio(self, track_ids: list[str]) -> set[str]:
        """Which of ``track_ids`` have an original under the catalog prefix (playable, convertible)."""
        if not track_ids:
            return set()
        rows = self.db.query(
            """SELECT DISTINCT track_id FROM audio_assets
               WHERE kind = 'original' AND storage_key LIKE 'catalog/%'
                 AND track_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))""",
            {"ids": list(dict.fromkeys(track_ids))},
        )
        return {r["track_id"] for r in rows}

    def tracks_with_audio(self, *, languages: list[str], limit: int) -> list[Track]:
        """Tracks with an original under the catalog prefix (ready to sing), in ``languages`` when
        given (else any); newest audio first."""
        rows = self.db.query(
            f"""SELECT {_TRACK_COLUMNS} FROM audio_assets au JOIN songs s ON s.track_id = au.track_id
                LEFT JOIN albums a ON a.album_id = s.album_id
                WHERE au.kind = 'original' AND au.storage_key LIKE 'catalog/%'
                  AND (jsonb_array_length(CAST(:languages AS jsonb)) = 0
                       OR s.language IN (SELECT jsonb_array_elements_text(CAST(:languages AS jsonb))))
                ORDER BY au.created_at DESC, s.popularity DESC, s.track_id LIMIT :limit""",
            {"languages": languages, "limit": limit},
        )
        return [_track(r) for r in rows]

    def popular(self, *, languages: list[str], limit: int) -> list[Track]:
        """The most popular tracks (catalog popularity), in ``languages`` when given (else any)."""
        rows = self.db.query(
            f"""SELECT {_TRACK_COLUMNS} FROM songs s LEFT JOIN albums a ON a.album_id = s.album_id
                WHERE jsonb_array_length(CAST(:languages AS jsonb)) = 0
                   OR s.language IN (SELECT jsonb_array_elements_text(CAST(:languages AS jsonb)))
                ORDER BY s.popularity DESC, s.track_id LIMIT :limit""",
            {"languages": languages, "limit": limit},
        )
        return [_track(r) for r in rows]

    def trending_in(self, *, since: dt.date, languages: list[str], limit: int) -> list[tuple[Track, int]]:
        """:meth:`trending` over several languages (none: every language)."""
        rows = self.db.query(
            f"""WITH p AS (SELECT track_id, sum(plays) AS plays FROM play_counts_daily WHERE day >= :since GROUP BY track_id)
                SELECT {_TRACK_COLUMNS}, p.plays FROM p JOIN songs s ON s.track_id = p.track_id
                LEFT JOIN albums a ON a.album_id = s.album_id
                WHERE jsonb_array_length(CAST(:languages AS jsonb)) = 0
                   OR s.language IN (SELECT jsonb_array_elements_text(CAST(:languages AS jsonb)))
                ORDER BY p.plays DESC, s.popularity DESC, s.track_id LIMIT :limit""",
            {"since": since, "languages": languages, "limit": limit},
        )
        return [(_track(r), int(r["plays"])) for r in rows]


    def get_tracks(self, track_ids: list[str]) -> dict[str, Track]:
        if not track_ids:
            return {}
        rows = self.db.query(
            f"""SELECT {_TRACK_COLUMNS} FROM songs s LEFT JOIN albums a ON a.album_id = s.album_id
                WHERE s.track_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))""",
            {"ids": list(dict.fromkeys(track_ids))},
        )
        return {r["track_id"]: _track(r) for r in rows}

    def exists(self, track_id: str) -> bool:
        return bool(self.db.query("SELECT 1 AS one FROM songs WHERE track_id = :id", {"id": track_id}))

    def details(self, track_id: str) -> TrackDetails | None:
        rows = self.db.query(
            f"""SELECT {_TRACK_COLUMNS},
                   COALESCE((SELECT jsonb_agg(jsonb_build_object('artist_id', ar.artist_id, 'name', ar.name) ORDER BY sa.position)
                             FROM song_artists sa JOIN artists ar ON ar.artist_id = sa.artist_id
                             WHERE sa.track_id = s.track_id), '[]'::jsonb) AS artist_refs,
                   COALESCE((SELECT jsonb_agg(jsonb_build_object('provider', e.provider, 'external_id', e.external_id, 'url', e.url)
                                              ORDER BY e.provider, e.external_id)
                             FROM external_ids e WHERE e.track_id = s.track_id), '[]'::jsonb) AS links,
                   -- what the player can play: an original under the catalog prefix (track_audio)
                   EXISTS (SELECT 1 FROM audio_assets au WHERE au.track_id = s.track_id AND au.kind = 'original'
                           AND au.storage_key LIKE 'catalog/%') AS has_audio,
                   ta.bpm, ta.musical_key, ta.camelot, ta.energy, ta.loudness_lufs
                FROM songs s LEFT JOIN albums a ON a.album_id = s.album_id
                LEFT JOIN track_attributes ta ON ta.track_id = s.track_id WHERE s.track_id = :id""",
            {"id": track_id},
        )
        if not rows:
            return None
        row = rows[0]
        base = _track(row).model_dump()
        return TrackDetails(
            **base,
            artist_refs=[ArtistRef(**r) for r in row["artist_refs"]],
            external_links=[ExternalLink(**r) for r in row["links"]],
            has_audio=bool(row["has_audio"]),
            bpm=_float(row.get("bpm")),
            musical_key=row.get("musical_key"),
            camelot=row.get("camelot"),
            energy=_float(row.get("energy")),
            loudness_lufs=_float(row.get("loudness_lufs")),
        )

    def find_duplicate(self, song: SongIn) -> str | None:
        """The catalog track a provider hit duplicates: same ISRC, else same title key + artist + duration.

        Title keys are phonetic (spelling variants meet), durations match within
        ``DEDUP_DURATION_TOLERANCE_S`` (an unknown duration matches any: then the most popular
        candidate wins), artists must share a name. Artists are compared here, in Python, over up to
        ``DUPLICATE_MAX_CANDIDATES`` candidates read in one round trip (one index range per title key,
        songs_dedup_key; never a scan of the songs table).
        """
        if song.isrc:
            rows = self.db.query("SELECT track_id FROM songs WHERE isrc = :isrc LIMIT 1", {"isrc": song.isrc})
            if rows:
                by_isrc: str = rows[0]["track_id"]
                return by_isrc
        if not song.artists and song.duration_s is None:
            return None  # dedup_match needs a shared artist or two known durations
        keys = dedup_keys(song.title, song.title_latin)
        if not keys:
            return None
        rows = self.db.query(_DUPLICATE_SQL, {"keys": keys, "duration": song.duration_s,
                                              "tolerance": DEDUP_DURATION_TOLERANCE_S, "cap": DUPLICATE_MAX_CANDIDATES})
        for row in rows:
            artists = row.get("artists")
            if isinstance(artists, str):  # the Data API returns jsonb as text
                artists = json.loads(artists)
            if dedup_match(song.artists, song.duration_s, list(artists or []), row.get("duration_s")):
                duplicate: str = row["track_id"]
                return duplicate
        return None

    def recompute_dedup_keys(self, *, batch_size: int = 500) -> int:
        """Rewrite every song's de-duplication key with today's :func:`dedup_key` (migration 0003's
        post-step, after the key format changed); returns how many keys changed.

        Keyset batches by track id, each one SELECT and one UPDATE of the keys that differ: row locks
        only, so the catalog stays readable while it runs. Idempotent.
        """
        changed, after = 0, ""
        while True:
            rows = self.db.query(
                """SELECT track_id, title, title_latin, dedup_key FROM songs
                   WHERE track_id > :after ORDER BY track_id LIMIT :n""",
                {"after": after, "n": batch_size},
            )
            if not rows:
                return changed
            after = rows[-1]["track_id"]
            updates = [
                {"track_id": r["track_id"], "dedup_key": key}
                for r in rows
                if (key := dedup_key(r["title_latin"] or r["title"])) != r["dedup_key"]
            ]
            if updates:
                self.db.execute(
                    """UPDATE songs s SET dedup_key = r.dedup_key
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(track_id text, dedup_key text)
                       WHERE s.track_id = r.track_id""",
                    {"rows": updates},
                )
                changed += len(updates)

    def vocab_fuzzy(self, words: list[str], *, per_word: int = 40) -> dict[int, list[str]]:
        """Vocabulary tokens sharing trigrams with each query word (the fuzzy part of recall)."""
        specs = [[i, g] for i, w in enumerate(words) if len(w) >= 3 for g in trigrams(w)]
        if not specs:
            return {}
        rows = self.db.query(
            """WITH q AS (SELECT (e->>0)::int AS qi, e->>1 AS gram FROM jsonb_array_elements(CAST(:specs AS jsonb)) e),
                    hits AS (SELECT q.qi, g.token, count(*) AS shared FROM q CROSS JOIN LATERAL (
                                 -- lateral + LIMIT: one index range per gram, never a scan of every gram
                                 SELECT token FROM search_vocab_grams
                                 WHERE gram = q.gram COLLATE "C" LIMIT :per_gram) g
                             GROUP BY q.qi, g.token),
                    ranked AS (SELECT qi, token, shared, row_number() OVER (PARTITION BY qi ORDER BY shared DESC, token) AS rn
                               FROM hits)
               SELECT qi, token FROM ranked WHERE rn <= :per_word""",
            {"specs": specs, "per_word": per_word, "per_gram": 100_000},
        )
        out: dict[int, list[str]] = {}
        for r in rows:
            out.setdefault(int(r["qi"]), []).append(r["token"])
        return out

    def known_tokens(self, tokens: list[str]) -> set[str]:
        rows = self.db.query(
            """SELECT token FROM search_vocab
               WHERE token IN (SELECT jsonb_array_elements_text(CAST(:tokens AS jsonb)) COLLATE "C")""",
            {"tokens": sorted(set(tokens))},
        )
        return {r["token"] for r in rows}

    def recall(self, terms: list[tuple[int, str, str, float]], *, language: str | None, cap: int) -> list[dict[str, Any]]:
        """Songs with postings in the given token ranges, best coverage of the query words first.

        ``terms``: (query word index, low token, high token exclusive, weight). One statement does
        the whole recall (no extra round trips): every row also carries ``known``, the exact-term
        tokens present in the vocabulary (what ``known_tokens`` answers), so the caller can decide
        on the fuzzy pass without asking again.
        """
        if not terms:
            return []
        params: dict[str, Any] = {"terms": [list(t) for t in terms], "cap": cap,
                                  "per_prefix": 20, "per_token": 800, "per_prefix_token": 60}
        if language is not None:
            params["language"] = language
        rows = self.db.query(_RECALL_SQL_LANG if language is not None else _RECALL_SQL, params)
        out = []
        for r in rows:
            known = r.get("known")
            if isinstance(known, str):  # the Data API returns jsonb as text
                known = json.loads(known)
            out.append({"track": _track(r), "doc": r["search_doc"], "cover": float(r["cover"]),
                        "known": set(known or [])})
        return out

    def ilike_baseline(self, text: str, *, language: str | None, limit: int) -> list[str]:
        """The naive search the benchmarks compare with: ILIKE on titles and artist names."""
        rows = self.db.query(
            """SELECT s.track_id FROM songs s
               WHERE (CAST(:language AS text) IS NULL OR s.language = CAST(:language AS text))
                 AND (s.title ILIKE :pattern OR s.title_latin ILIKE :pattern OR EXISTS (
                      SELECT 1 FROM song_artists sa JOIN artists ar ON ar.artist_id = sa.artist_id
                      WHERE sa.track_id = s.track_id AND ar.name ILIKE :pattern))
               ORDER BY s.popularity DESC, s.track_id LIMIT :limit""",
            {"pattern": "%" + text.replace("%", r"\%").replace("_", r"\_") + "%", "language": language, "limit": limit},
        )
        return [r["track_id"] for r in rows]

    def trending(self, *, since: dt.date, language: str | None, limit: int) -> list[tuple[Track, int]]:
        rows = self.db.query(
            f"""WITH p AS (SELECT track_id, sum(plays) AS plays FROM play_counts_daily WHERE day >= :since GROUP BY track_id)
                SELECT {_TRACK_COLUMNS}, p.plays FROM p JOIN songs s ON s.track_id = p.track_id
                LEFT JOIN albums a ON a.album_id = s.album_id
                WHERE (CAST(:language AS text) IS NULL OR s.language = CAST(:language AS text))
                ORDER BY p.plays DESC, s.popularity DESC, s.track_id LIMIT :limit""",
            {"since": since, "language": language, "limit": limit},
        )
        return [(_track(r), int(r["plays"])) for r in rows]

    def count(self) -> int:
        return int(self.db.query("SELECT count(*) AS n FROM songs")[0]["n"])
