"""Discover's use cases: sources (admins add, pause, remove; listeners suggest and browse), follows,
and the feed (newest first from what the user follows, or a starter feed of popular sources)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from melody.core.errors import Conflict, InvalidInput, NotFound
from melody.discover.urls import canonical_url, is_http_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.discover.crawl import Crawler, SourceReport
    from melody.discover.ports import TrackLookup
    from melody.discover.postgres import DiscoverRepository

__all__ = ["DiscoverService", "FeedPage", "FeedPost", "FeedSong", "decode_cursor", "source_id_for"]

SOURCE_ID = re.compile(r"^src_[0-9a-f]{12}$")
ARTIST_ID = re.compile(r"^art_[A-Za-z0-9_-]{4,64}$")
_CURSOR = re.compile(r"^(\d{1,12})_(pst_[0-9a-f]{16})$")


def source_id_for(url: str) -> str:
    return "src_" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:12]


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    match = _CURSOR.match(cursor)
    if not match:
        raise InvalidInput("This cursor is not one this API returned.", code="invalid_cursor")
    return int(match.group(1)), match.group(2)


@dataclass
class FeedSong:
    artist: str | None
    title: str | None
    provider: str | None
    url: str | None
    track: Any | None  # melody.catalog.models.Track
    has_audio: bool
    artist_refs: list[dict[str, str]] = field(default_factory=list)  # the track's catalog artists: {"id", "name"}


@dataclass
class FeedPost:
    post_id: str
    source_id: str
    source_name: str
    title: str
    summary: str
    url: str
    published_at: int
    songs: list[FeedSong]


@dataclass
class FeedPage:
    posts: list[FeedPost]
    next_cursor: str | None
    starter: bool


class DiscoverService:
    def __init__(
        self,
        repo: DiscoverRepository,
        tracks: Callable[[], TrackLookup],
        *,
        languages_of: Callable[[str], list[str]],
        crawler: Callable[[], Crawler],
    ) -> None:
        self.repo = repo
        self._tracks = tracks
        self._languages_of = languages_of
        self._crawler = crawler

    # -- sources ---------------------------------------------------------------------------------

    def add_source(
        self, url: str, *, name: str | None, language: str | None, status: str = "active", suggested_by: str | None = None
    ) -> dict[str, Any]:
        if not is_http_url(url):
            raise InvalidInput("A source is an http(s) URL.", code="invalid_source_url")
        source_id = source_id_for(url)
        row = {
            "source_id": source_id,
            "url": canonical_url(url),
            "name": (name or "").strip() or (canonical_url(url).split("/")[2]),
            "language": language,
            "status": status,
            "suggested_by": suggested_by,
        }
        if not self.repo.add_source(row):
            raise Conflict("This source is already listed.", code="source_exists", details={"source_id": source_id})
        return self.source(source_id)

    def source(self, source_id: str) -> dict[str, Any]:
        row = self.repo.get_source(source_id) if SOURCE_ID.match(source_id) else None
        if row is None:
            raise NotFound("No such source.", code="source_not_found")
        return row

    def list_sources(self, *, statuses: list[str], limit: int, offset: int) -> list[dict[str, Any]]:
        return self.repo.list_sources(statuses=statuses, limit=limit, offset=offset)

    def update_source(self, source_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.source(source_id)
        if changes.get("status") == "active":
            changes = {**changes, "consecutive_failures": 0, "last_error": None}  # resuming clears the backoff
        self.repo.update_source(source_id, changes)
        return self.source(source_id)

    def remove_source(self, source_id: str) -> None:
        if not (SOURCE_ID.match(source_id) and self.repo.delete_source(source_id)):
            raise NotFound("No such source.", code="source_not_found")

    def crawl_now(self, source_id: str) -> SourceReport:
        return self._crawler().crawl_source(self.source(source_id))

    # -- follows ---------------------------------------------------------------------------------

    def follow(self, user_id: str, kind: str, target_id: str) -> bool:
        self._check_target(kind, target_id)
        return self.repo.follow(user_id, kind, target_id)

    def unfollow(self, user_id: str, kind: str, target_id: str) -> None:
        if not self.repo.unfollow(user_id, kind, target_id):
            raise NotFound("You do not follow this.", code="not_following")

    def follows(self, user_id: str) -> list[dict[str, Any]]:
        return self.repo.follows(user_id)

    def _check_target(self, kind: str, target_id: str) -> None:
        if kind == "source":
            row = self.repo.get_source(target_id) if SOURCE_ID.match(target_id) else None
            if row is None or row["status"] == "suggested":
                raise NotFound("No such source.", code="source_not_found")
        elif kind == "artist":
            if not (ARTIST_ID.match(target_id) and self.repo.artist_exists(target_id)):
                raise NotFound("No such artist in the catalog.", code="artist_not_found")
        else:
            raise NotFound("You can follow a source or an artist.", code="unknown_follow_kind")

    # -- the feed --------------------------------------------------------------------------------

    def feed(self, user_id: str, *, cursor: str | None, limit: int) -> FeedPage:
        before = decode_cursor(cursor)
        rows = self.repo.feed(user_id, before=before, limit=limit + 1)
        # No follows yet: the starter feed (popular sources in the user's languages), paged alike.
        starter = not rows and not self.repo.follows(user_id)
        if starter:
            rows = self.repo.starter_feed(self._languages_of(user_id), before=before, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        posts = self._posts(rows)
        next_cursor = f"{posts[-1].published_at}_{posts[-1].post_id}" if more and posts else None
        return FeedPage(posts, next_cursor, starter)

    def _posts(self, rows: list[dict[str, Any]]) -> list[FeedPost]:
        songs = self.repo.post_songs([r["post_id"] for r in rows])
        track_ids = list(dict.fromkeys(s["track_id"] for s in songs if s["track_id"]))
        tracks: dict[str, Any] = {}
        with_audio: set[str] = set()
        if track_ids:
            lookup = self._tracks()
            tracks = lookup.get_tracks(track_ids)
            with_audio = lookup.with_audio(track_ids)
        by_post: dict[str, list[FeedSong]] = {}
        for s in songs:
            track = tracks.get(s["track_id"]) if s["track_id"] else None
            by_post.setdefault(s["post_id"], []).append(
                FeedSong(
                    s["artist"],
                    s["title"],
                    s["provider"],
                    s["url"],
                    track,
                    bool(track and track.id in with_audio),
                    list(s.get("artist_refs") or []) if track else [],
                )  # fmt: skip
            )
        return [
            FeedPost(
                post_id=r["post_id"],
                source_id=r["source_id"],
                source_name=r["source_name"],
                title=r["title"],
                summary=r["summary"],
                url=r["url"],
                published_at=int(r["published_at"].timestamp()),
                songs=by_post.get(r["post_id"], []),
            )
            for r in rows
        ]
