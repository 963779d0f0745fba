"""Discover's storage in the catalog database (tables of migration 0006).

Why PostgreSQL rather than DynamoDB: the feed joins a user's follows (sources, and artists through
the catalog's ``song_artists``) with the newest posts; here that is one indexed query per page,
whatever the number of followed sources (``discover_posts_source_published``), where DynamoDB
would need a query per followed source or a fan-out copy of every post per follower.

SQL uses ``:name`` placeholders and passes lists as JSON (the executor's rules: the RDS Data API
binds no arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt

    from melody.core.sql.executor import SqlExecutor

__all__ = ["DiscoverRepository"]

_SOURCE_COLUMNS = """s.source_id, s.url, s.feed_url, s.name, s.language, s.status, s.suggested_by, s.etag,
    s.last_modified, s.last_crawled_at, s.last_success_at, s.next_crawl_at, s.consecutive_failures,
    s.last_error, s.created_at"""
_POST_COLUMNS = "p.post_id, p.source_id, s.name AS source_name, p.title, p.summary, p.url, p.published_at"
_CURSOR = """(CAST(:before_id AS text) IS NULL
    OR (p.published_at, p.post_id) < (to_timestamp(CAST(:before_s AS bigint)), CAST(:before_id AS text)))"""


class DiscoverRepository:
    def __init__(self, executor: SqlExecutor) -> None:
        self.db = executor

    # -- sources ---------------------------------------------------------------------------------

    def add_source(self, row: dict[str, Any]) -> bool:
        """Insert a source; False when its URL (or id) is already there."""
        return (
            self.db.execute(
                """INSERT INTO discover_sources (source_id, url, name, language, status, suggested_by)
                   VALUES (:source_id, :url, :name, :language, :status, :suggested_by)
                   ON CONFLICT DO NOTHING""",
                row,
            )
            > 0
        )

    def get_source(self, source_id: str) -> dict[str, Any] | None:
        rows = self.db.query(
            f"""SELECT {_SOURCE_COLUMNS},
                   (SELECT count(*) FROM discover_posts p WHERE p.source_id = s.source_id) AS post_count,
                   (SELECT count(*) FROM discover_follows f WHERE f.kind = 'source' AND f.target_id = s.source_id) AS follower_count
                FROM discover_sources s WHERE s.source_id = :source_id""",
            {"source_id": source_id},
        )
        return rows[0] if rows else None

    def list_sources(self, *, statuses: list[str], limit: int, offset: int) -> list[dict[str, Any]]:
        return self.db.query(
            f"""SELECT {_SOURCE_COLUMNS},
                   (SELECT count(*) FROM discover_posts p WHERE p.source_id = s.source_id) AS post_count,
                   (SELECT count(*) FROM discover_follows f WHERE f.kind = 'source' AND f.target_id = s.source_id) AS follower_count
                FROM discover_sources s
                WHERE s.status IN (SELECT jsonb_array_elements_text(CAST(:statuses AS jsonb)))
                ORDER BY s.name, s.source_id LIMIT :limit OFFSET :offset""",
            {"statuses": statuses, "limit": limit, "offset": offset},
        )

    def update_source(self, source_id: str, changes: dict[str, Any]) -> bool:
        allowed = {"name", "language", "status", "next_crawl_at", "consecutive_failures", "last_error"}
        sets = [f"{name} = :{name}" for name in changes if name in allowed]
        if not sets:
            return self.get_source(source_id) is not None
        return (
            self.db.execute(
                f"UPDATE discover_sources SET {', '.join(sets)}, updated_at = now() WHERE source_id = :source_id",
                {**{k: v for k, v in changes.items() if k in allowed}, "source_id": source_id},
            )
            > 0
        )

    def delete_source(self, source_id: str) -> bool:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM discover_follows WHERE kind = 'source' AND target_id = :id", {"id": source_id})
            return int(tx.execute("DELETE FROM discover_sources WHERE source_id = :id", {"id": source_id})) > 0

    def due_sources(self, now: dt.datetime, *, limit: int) -> list[dict[str, Any]]:
        return self.db.query(
            f"""SELECT {_SOURCE_COLUMNS} FROM discover_sources s
                WHERE s.status = 'active' AND s.next_crawl_at <= :now
                ORDER BY s.next_crawl_at, s.source_id LIMIT :limit""",
            {"now": now, "limit": limit},
        )

    def record_fetched(
        self, source_id: str, *, now: dt.datetime, next_at: dt.datetime, feed_url: str | None, etag: str | None, last_modified: str | None
    ) -> None:
        self.db.execute(
            """UPDATE discover_sources SET feed_url = COALESCE(:feed_url, feed_url), etag = :etag,
                   last_modified = :last_modified, last_crawled_at = :now, last_success_at = :now,
                   next_crawl_at = :next_at, consecutive_failures = 0, last_error = NULL, updated_at = now()
               WHERE source_id = :source_id""",
            {"source_id": source_id, "now": now, "next_at": next_at, "feed_url": feed_url, "etag": etag, "last_modified": last_modified},
        )

    def record_failure(self, source_id: str, *, now: dt.datetime, next_at: dt.datetime, error: str) -> None:
        self.db.execute(
            """UPDATE discover_sources SET last_crawled_at = :now, next_crawl_at = :next_at,
                   consecutive_failures = consecutive_failures + 1, last_error = :error, updated_at = now()
               WHERE source_id = :source_id""",
            {"source_id": source_id, "now": now, "next_at": next_at, "error": error[:200]},
        )

    # -- posts -----------------------------------------------------------------------------------

    def existing_posts(self, source_id: str, canonical_urls: list[str], guids: list[str]) -> list[dict[str, Any]]:
        return self.db.query(
            """SELECT post_id, guid, canonical_url, content_hash FROM discover_posts
               WHERE source_id = :source_id
                 AND (canonical_url IN (SELECT jsonb_array_elements_text(CAST(:urls AS jsonb)))
                      OR guid IN (SELECT jsonb_array_elements_text(CAST(:guids AS jsonb))))""",
            {"source_id": source_id, "urls": canonical_urls, "guids": guids},
        )

    def save_post(self, post: dict[str, Any], songs: list[dict[str, Any]], *, new: bool) -> None:
        """Insert or update one post and replace its songs, in one transaction."""
        with self.db.transaction() as tx:
            if new:
                tx.execute(
                    """INSERT INTO discover_posts (post_id, source_id, guid, canonical_url, url, title, summary, content_hash, published_at)
                       VALUES (:post_id, :source_id, :guid, :canonical_url, :url, :title, :summary, :content_hash, :published_at)""",
                    post,
                )
            else:
                tx.execute(
                    """UPDATE discover_posts SET guid = :guid, canonical_url = :canonical_url, url = :url, title = :title,
                           summary = :summary, content_hash = :content_hash, updated_at = now()
                       WHERE post_id = :post_id""",
                    post,
                )
            tx.execute("DELETE FROM discover_post_songs WHERE post_id = :post_id", {"post_id": post["post_id"]})
            if songs:
                tx.execute(
                    """INSERT INTO discover_post_songs (post_id, position, artist, title, provider, external_id, url, track_id)
                       SELECT :post_id, r.position, r.artist, r.title, r.provider, r.external_id, r.url, r.track_id
                       FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(position int, artist text, title text,
                            provider text, external_id text, url text, track_id text)""",
                    {"post_id": post["post_id"], "rows": songs},
                )

    def post_songs(self, post_ids: list[str]) -> list[dict[str, Any]]:
        if not post_ids:
            return []
        # artist_refs: the matched song's catalog artists ([{"id", "name"}]), so listeners can follow them
        return self.db.query(
            """SELECT ps.post_id, ps.position, ps.artist, ps.title, ps.provider, ps.external_id, ps.url, ps.track_id,
                      COALESCE((SELECT jsonb_agg(jsonb_build_object('id', a.artist_id, 'name', a.name) ORDER BY sa.position)
                                FROM song_artists sa JOIN artists a ON a.artist_id = sa.artist_id
                                WHERE sa.track_id = ps.track_id), '[]'::jsonb) AS artist_refs
               FROM discover_post_songs ps
               WHERE ps.post_id IN (SELECT jsonb_array_elements_text(CAST(:ids AS jsonb))) ORDER BY ps.post_id, ps.position""",
            {"ids": post_ids},
        )

    def count_posts(self, source_id: str | None = None) -> int:
        rows = self.db.query(
            "SELECT count(*) AS n FROM discover_posts WHERE CAST(:source_id AS text) IS NULL OR source_id = :source_id",
            {"source_id": source_id},
        )
        return int(rows[0]["n"])

    # -- the catalog, read and marked by the crawler ---------------------------------------------

    def track_for_external(self, provider: str, external_id: str) -> str | None:
        rows = self.db.query(
            "SELECT track_id FROM external_ids WHERE provider = :provider AND external_id = :external_id",
            {"provider": provider, "external_id": external_id},
        )
        return str(rows[0]["track_id"]) if rows else None

    def mark_discovered(self, track_id: str, post_id: str) -> None:
        self.db.execute(
            "INSERT INTO discovered_tracks (track_id, first_post_id) VALUES (:track_id, :post_id) ON CONFLICT DO NOTHING",
            {"track_id": track_id, "post_id": post_id},
        )

    def artist_exists(self, artist_id: str) -> bool:
        return bool(self.db.query("SELECT 1 AS one FROM artists WHERE artist_id = :id", {"id": artist_id}))

    # -- follows and the feed --------------------------------------------------------------------

    def follow(self, user_id: str, kind: str, target_id: str) -> bool:
        return (
            self.db.execute(
                """INSERT INTO discover_follows (user_id, kind, target_id) VALUES (:user_id, :kind, :target_id)
                   ON CONFLICT DO NOTHING""",
                {"user_id": user_id, "kind": kind, "target_id": target_id},
            )
            > 0
        )

    def unfollow(self, user_id: str, kind: str, target_id: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM discover_follows WHERE user_id = :user_id AND kind = :kind AND target_id = :target_id",
                {"user_id": user_id, "kind": kind, "target_id": target_id},
            )
            > 0
        )

    def follows(self, user_id: str) -> list[dict[str, Any]]:
        return self.db.query(
            """SELECT f.kind, f.target_id, COALESCE(s.name, a.name) AS name, f.created_at
               FROM discover_follows f
               LEFT JOIN discover_sources s ON f.kind = 'source' AND s.source_id = f.target_id
               LEFT JOIN artists a ON f.kind = 'artist' AND a.artist_id = f.target_id
               WHERE f.user_id = :user_id ORDER BY f.created_at DESC, f.target_id LIMIT 500""",
            {"user_id": user_id},
        )

    def feed(self, user_id: str, *, before: tuple[int, str] | None, limit: int) -> list[dict[str, Any]]:
        return self.db.query(
            f"""SELECT {_POST_COLUMNS} FROM discover_posts p JOIN discover_sources s ON s.source_id = p.source_id
                WHERE s.status <> 'suggested'
                  AND (p.source_id IN (SELECT target_id FROM discover_follows WHERE user_id = :user_id AND kind = 'source')
                       OR p.post_id IN (
                           SELECT ps.post_id FROM discover_post_songs ps
                           JOIN song_artists sa ON sa.track_id = ps.track_id
                           WHERE sa.artist_id IN (SELECT target_id FROM discover_follows WHERE user_id = :user_id AND kind = 'artist')))
                  AND {_CURSOR}
                ORDER BY p.published_at DESC, p.post_id DESC LIMIT :limit""",
            {"user_id": user_id, "limit": limit, **_before(before)},
        )

    def starter_feed(self, languages: list[str], *, before: tuple[int, str] | None, limit: int, sources: int = 10) -> list[dict[str, Any]]:
        """Posts of the most followed active sources in ``languages`` (any language when none match)."""
        return self.db.query(
            f"""WITH ranked AS (
                    SELECT s.source_id, count(f.user_id) AS followers,
                           (s.language IN (SELECT jsonb_array_elements_text(CAST(:languages AS jsonb)))) AS in_language
                    FROM discover_sources s
                    LEFT JOIN discover_follows f ON f.kind = 'source' AND f.target_id = s.source_id
                    WHERE s.status = 'active' GROUP BY s.source_id),
                top AS (
                    SELECT source_id FROM ranked
                    WHERE in_language IS TRUE OR NOT EXISTS (SELECT 1 FROM ranked WHERE in_language IS TRUE)
                    ORDER BY followers DESC, source_id LIMIT :sources)
                SELECT {_POST_COLUMNS} FROM discover_posts p JOIN discover_sources s ON s.source_id = p.source_id
                WHERE p.source_id IN (SELECT source_id FROM top) AND {_CURSOR}
                ORDER BY p.published_at DESC, p.post_id DESC LIMIT :limit""",
            {"languages": languages, "limit": limit, "sources": sources, **_before(before)},
        )


def _before(before: tuple[int, str] | None) -> dict[str, Any]:
    return {"before_s": before[0] if before else None, "before_id": before[1] if before else None}
