"""One crawl: due sources fetched politely, parsed, their posts stored once and their songs matched.

A source's failures never stop the crawl: each ends in the source's health (``last_error``,
``consecutive_failures``) and a backoff before its next try (doubling, capped at a day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from melody.core.observability import logger
from melody.discover.extract import extract_songs
from melody.discover.fetch import FetchError
from melody.discover.parse import ParseError, parse_document
from melody.discover.sanitise import plain_text, shorten
from melody.discover.urls import canonical_url

if TYPE_CHECKING:
    from melody.core.clock import Clock
    from melody.discover.parse import FeedItem, ParsedDocument
    from melody.discover.ports import DocumentFetcher, SongMatcher
    from melody.discover.postgres import DiscoverRepository

__all__ = ["CrawlReport", "Crawler", "SourceReport", "post_id_for"]

TITLE_MAX = 300
SUMMARY_MAX = 400
MAX_ITEMS = 100  # per fetch: the newest a feed lists; a page of a thousand items is not read whole
MAX_BACKOFF_S = 24 * 3600


@dataclass
class SourceReport:
    source_id: str
    status: str  # "fetched", "not_modified", "failed"
    new_posts: int = 0
    updated_posts: int = 0
    songs: int = 0
    error: str | None = None


@dataclass
class CrawlReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def new_posts(self) -> int:
        return sum(s.new_posts for s in self.sources)

    @property
    def updated_posts(self) -> int:
        return sum(s.updated_posts for s in self.sources)

    @property
    def not_modified(self) -> int:
        return sum(s.status == "not_modified" for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(s.status == "failed" for s in self.sources)

    def summary(self) -> dict[str, int]:
        return {
            "sources": len(self.sources),
            "new_posts": self.new_posts,
            "updated_posts": self.updated_posts,
            "not_modified": self.not_modified,
            "failed": self.failed,
        }


def post_id_for(source_id: str, canonical: str) -> str:
    return "pst_" + hashlib.sha256(f"{source_id}|{canonical}".encode()).hexdigest()[:16]


class Crawler:
    def __init__(
        self,
        repo: DiscoverRepository,
        fetcher: DocumentFetcher,
        matcher: SongMatcher,
        clock: Clock,
        *,
        interval_s: int = 3600,
        backoff_base_s: int = 900,
        workers: int = 8,
    ) -> None:
        self.repo = repo
        self.fetcher = fetcher
        self.matcher = matcher
        self.clock = clock
        self.interval_s = interval_s
        self.backoff_base_s = backoff_base_s
        self.workers = workers

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC)

    def crawl_due(self, *, limit: int = 500, force: bool = False) -> CrawlReport:
        """Every due active source (``force``: every active one), several hosts at a time."""
        now = self._now()
        horizon = now + dt.timedelta(days=3650) if force else now
        sources = self.repo.due_sources(horizon, limit=limit)
        report = CrawlReport()
        if not sources:
            return report
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(sources)))) as pool:
            report.sources.extend(pool.map(self.crawl_source, sources))
        return report

    def crawl_source(self, source: dict[str, Any]) -> SourceReport:
        source_id = source["source_id"]
        try:
            return self._crawl(source)
        except (FetchError, ParseError) as exc:
            code = exc.code if isinstance(exc, FetchError) else "parse_error"
            self._fail(source, code)
            return SourceReport(source_id, "failed", error=code)
        except Exception as exc:  # one broken source never stops the crawl
            logger.exception("discover: crawl failed", extra={"source_id": source_id, "error": type(exc).__name__})
            self._fail(source, "internal_error")
            return SourceReport(source_id, "failed", error="internal_error")

    def _fail(self, source: dict[str, Any], code: str) -> None:
        failures = int(source.get("consecutive_failures") or 0) + 1
        delay = min(MAX_BACKOFF_S, self.backoff_base_s * 2 ** min(failures - 1, 16))
        now = self._now()
        self.repo.record_failure(source["source_id"], now=now, next_at=now + dt.timedelta(seconds=delay), error=code)

    def _crawl(self, source: dict[str, Any]) -> SourceReport:
        source_id = source["source_id"]
        feed_url = source.get("feed_url")
        url = feed_url or source["url"]
        result = self.fetcher.fetch(url, etag=source.get("etag"), last_modified=source.get("last_modified"))
        now = self._now()
        next_at = now + dt.timedelta(seconds=self.interval_s)
        if result.status == 304:
            self.repo.record_fetched(
                source_id, now=now, next_at=next_at, feed_url=None, etag=source.get("etag"), last_modified=source.get("last_modified")
            )
            return SourceReport(source_id, "not_modified")
        document = parse_document(result.body, result.content_type, result.url)
        if document.kind == "html" and document.feed_links and not feed_url:
            # A page that names its feed: read the feed (and remember it; its validators are the feed's).
            feed_url = document.feed_links[0]
            result = self.fetcher.fetch(feed_url)
            document = parse_document(result.body, result.content_type, result.url)
        report = self._store(source_id, document, now)
        self.repo.record_fetched(
            source_id, now=now, next_at=next_at, feed_url=feed_url, etag=result.etag, last_modified=result.last_modified
        )
        return report

    def _store(self, source_id: str, document: ParsedDocument, now: dt.datetime) -> SourceReport:
        report = SourceReport(source_id, "fetched")
        items: dict[str, FeedItem] = {}
        for item in document.items[:MAX_ITEMS]:
            items.setdefault(canonical_url(item.url), item)
        guids = [i.guid for i in items.values() if i.guid]
        existing = self.repo.existing_posts(source_id, list(items), guids)
        by_url = {row["canonical_url"]: row for row in existing}
        by_guid = {row["guid"]: row for row in existing if row["guid"]}
        claimed: set[str] = set()
        for canonical, item in items.items():
            # Same post: the same canonical URL, or the same GUID under a new URL.
            row = by_url.get(canonical) or (by_guid.get(item.guid) if item.guid else None)
            if row is not None and row["post_id"] in claimed:
                continue
            title = shorten(plain_text(item.title), TITLE_MAX) or canonical
            text = plain_text(item.html)
            summary = shorten(text, SUMMARY_MAX)
            content_hash = hashlib.sha256(f"{title}\x00{item.html}".encode()).hexdigest()[:32]
            post_id = row["post_id"] if row else post_id_for(source_id, canonical)
            claimed.add(post_id)
            if row is not None and row["content_hash"] == content_hash:
                continue  # unchanged: a re-crawl adds and rewrites nothing
            published = item.published if item.published and item.published <= now + dt.timedelta(days=1) else now
            mentions = extract_songs(title, item.html, item.url)
            songs = []
            for position, mention in enumerate(mentions):
                songs.append(
                    {
                        "position": position,
                        "artist": mention.artist,
                        "title": mention.title,
                        "provider": mention.provider,
                        "external_id": mention.external_id,
                        "url": mention.url,
                        "track_id": self.matcher.match(mention, post_id),
                    }
                )
            post = {
                "post_id": post_id,
                "source_id": source_id,
                "guid": item.guid,
                "canonical_url": row["canonical_url"] if row else canonical,
                "url": item.url,
                "title": title,
                "summary": summary,
                "content_hash": content_hash,
                "published_at": published.replace(microsecond=0),
            }
            self.repo.save_post(post, songs, new=row is None)
            report.songs += len(songs)
            if row is None:
                report.new_posts += 1
            else:
                report.updated_posts += 1
        return report
