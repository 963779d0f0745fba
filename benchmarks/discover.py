"""Discover: crawl N local blogs of M posts each, then measure what the issue asks.

    .venv/bin/python -m benchmarks.discover [--sources 200] [--posts 20] [--min-host-delay 1.0] [--workers 8]

Creates a scratch schema in ``DATABASE_URL`` (default: the local test server), migrates it and loads
the seed catalogue, serves each generated blog (``tests/integration/discover/fixtures/generate.py``:
RSS 2.0 + content:encoded, WordPress-shaped, ETag/Last-Modified) from its own loopback HTTP server
(one host each, so per-host politeness applies as on the web), and reports:

* the first crawl: wall time, requests (robots.txt + feeds), posts, songs stored;
* the second crawl: requests and the share answered 304 (nothing re-downloaded, nothing re-stored);
* song extraction against the fixtures' known songs, measured on what the crawler stored, next to a
  naive baseline (regexes over the raw HTML: "X - Y" anywhere in the text, YouTube ids);
* the feed for a user following 50 sources: p50/p95 over repeated first pages and keyset pages,
  next to the same queries with the feed index dropped (the baseline), in the same run.

Drops the schema at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
sys.path.insert(0, str(ROOT))

SEED = Path(os.environ.get("MELODY_SEED_CATALOG", ROOT.parent / "shared" / "catalog" / "songs.jsonl"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _fold(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def song_keys(song) -> set[tuple[str, ...]]:  # noqa: ANN001 - generate.Song
    keys: set[tuple[str, ...]] = {("text", _fold(song.artist), _fold(song.title))}
    if song.provider:
        keys.add(("link", song.provider, song.external_id))
    return keys


def mention_keys(artist: str | None, title: str | None, provider: str | None, external_id: str | None) -> set[tuple[str, ...]]:
    keys: set[tuple[str, ...]] = set()
    if title:
        keys.add(("text", _fold(artist), _fold(title)))
    if provider and external_id:
        keys.add(("link", provider, external_id))
    return keys


def score(truth: dict[str, list[set]], found: dict[str, list[set]]) -> tuple[float, float, int, int]:
    """Precision (mentions that name a real song of their post) and recall (real songs named by a mention)."""
    true_pos = false_pos = hit = total = 0
    for key, songs in truth.items():
        mentions = found.get(key, [])
        hits = [False] * len(songs)
        for m in mentions:
            matched = [i for i, s in enumerate(songs) if m & s]
            for i in matched:
                hits[i] = True
            true_pos += bool(matched)
            false_pos += not matched
        hit += sum(hits)
        total += len(songs)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    return precision, hit / total if total else 1.0, true_pos + false_pos, total


_TAGS = re.compile(r"<[^>]+>")
_NAIVE_CREDIT = re.compile(r"([A-Z][\w.&' ]{1,40}?)\s+[-–]\s+([\w.&'’ ]{1,60})")
_NAIVE_YT = re.compile(r"(?:youtube\.com/embed/|youtu\.be/|v=)([A-Za-z0-9_-]{11})")


def naive_extract(title: str, html: str) -> list[set]:
    """The baseline a quick scraper would write: regexes over the raw HTML and the title."""
    text = _TAGS.sub("\n", html)
    found = [mention_keys(a.strip(), t.strip(), None, None) for a, t in _NAIVE_CREDIT.findall(title + "\n" + text)]
    found += [mention_keys(None, None, "youtube", vid) for vid in _NAIVE_YT.findall(html)]
    return found


def main() -> int:  # noqa: PLR0915 - one linear script
    import psycopg
    from pydantic import SecretStr

    from melody.catalog.postgres.loader import ensure_catalog
    from melody.core.services import Services
    from melody.core.settings import DiscoverSettings
    from melody.core.sql.executor import PsycopgExecutor
    from tests.integration.discover.fixtures.generate import generated_sources, rss, with_base
    from tests.integration.discover.fixtures.server import FixtureServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--min-host-delay", type=float, default=1.0, help="seconds between two requests to one host")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--follow", type=int, default=50)
    parser.add_argument("--feed-runs", type=int, default=200)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = "bench_discover_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    executor = PsycopgExecutor(url, schema=schema, pool_size=max(2, args.workers))
    servers: list[FixtureServer] = []
    try:
        ensure_catalog(executor, SEED)
        settings = DiscoverSettings(
            _env_file=None,
            stage="test",
            database_url=SecretStr(url),
            catalog_db_schema=schema,
            discover_allow_loopback=True,
            discover_min_host_delay_s=args.min_host_delay,
            discover_crawl_workers=args.workers,
        )
        services = Services(settings, executor=executor)
        discover, crawler, fetcher = services.discover, services.discover_crawler, services.discover_fetcher

        # -- the blogs: one loopback server (host:port) each --------------------------------------
        truth: dict[str, list[set]] = {}
        naive: dict[str, list[set]] = {}
        for name, posts in generated_sources(args.sources, args.posts):
            server = FixtureServer()
            posts = with_base(posts, server.base)
            server.extra["/feed.xml"] = (rss(server.base, name, posts), "application/rss+xml")
            servers.append(server.start())
            source = discover.add_source(server.base + "/feed.xml", name=name, language="hi")
            for p in posts:
                truth[f"{source['source_id']}|{p.guid}"] = [song_keys(s) for s in p.songs]
                naive[f"{source['source_id']}|{p.guid}"] = naive_extract(p.title, p.html)

        # Where the first crawl's time goes: thread-seconds in catalog matching (search + creating
        # discovered songs) and in fetching (politeness waits included), summed over the workers.
        spent = {"match": 0.0, "fetch": 0.0}
        lock = threading.Lock()

        def timed_call(name: str, fn):  # noqa: ANN001, ANN202
            def call(*a, **kw):  # noqa: ANN002, ANN003, ANN202
                t = time.perf_counter()
                try:
                    return fn(*a, **kw)
                finally:
                    with lock:
                        spent[name] += time.perf_counter() - t

            return call

        crawler.matcher.match = timed_call("match", crawler.matcher.match)
        fetcher.fetch = timed_call("fetch", fetcher.fetch)

        # -- crawl 1, crawl 2 --------------------------------------------------------------------
        started = time.perf_counter()
        first = crawler.crawl_due()
        first_s = time.perf_counter() - started
        first_requests = fetcher.stats.requests
        posts_stored = executor.query("SELECT count(*) AS n FROM discover_posts")[0]["n"]
        songs_stored = executor.query("SELECT count(*) AS n FROM discover_post_songs")[0]["n"]
        matched = executor.query("SELECT count(*) AS n FROM discover_post_songs WHERE track_id IS NOT NULL")[0]["n"]
        served_304 = sum(s.not_modified for s in servers)
        first_spent = dict(spent)

        started = time.perf_counter()
        second = crawler.crawl_due(force=True)
        second_s = time.perf_counter() - started
        second_requests = fetcher.stats.requests - first_requests
        second_304 = sum(s.not_modified for s in servers) - served_304
        posts_after = executor.query("SELECT count(*) AS n FROM discover_posts")[0]["n"]

        # -- extraction quality, on what the crawler stored ----------------------------------------
        found: dict[str, list[set]] = {}
        for row in executor.query(
            """SELECT p.source_id, p.guid, s.artist, s.title, s.provider, s.external_id
               FROM discover_posts p JOIN discover_post_songs s ON s.post_id = p.post_id"""
        ):
            key = f"{row['source_id']}|{row['guid']}"
            found.setdefault(key, []).append(mention_keys(row["artist"], row["title"], row["provider"], row["external_id"]))
        unknown = [k for k in found if k not in truth]
        ours = score(truth, found)
        base = score(truth, naive)

        # -- the feed for a user following 50 sources ------------------------------------------------
        user = "usr_bench_" + uuid.uuid4().hex[:12]
        rng = random.Random(5)
        for row in rng.sample(discover.list_sources(statuses=["active"], limit=1000, offset=0), min(args.follow, args.sources)):
            discover.follow(user, "source", row["source_id"])
        executor.execute("ANALYZE")

        def timed() -> tuple[list[float], int]:
            out: list[float] = []
            seen = 0
            for i in range(args.feed_runs):
                cursor = None
                for _page in range(1 if i % 4 else 3):  # every 4th run pages on twice (keyset)
                    t = time.perf_counter()
                    page = discover.feed(user, cursor=cursor, limit=20)
                    out.append((time.perf_counter() - t) * 1000)
                    seen += len(page.posts)
                    cursor = page.next_cursor
                    if not cursor:
                        break
            return out, seen

        timed()  # warm
        feed_ms, feed_posts = timed()
        executor.execute("DROP INDEX discover_posts_source_published")
        executor.execute("ANALYZE discover_posts")
        timed()
        noindex_ms, _ = timed()
        executor.execute("CREATE INDEX discover_posts_source_published ON discover_posts (source_id, published_at DESC, post_id DESC)")

        pg = executor.query("SHOW server_version")[0]["server_version"]
        print(f"discover: {args.sources} sources x {args.posts} posts on loopback (one host each), "
              f"min host delay {args.min_host_delay:g} s, {args.workers} workers, PostgreSQL {pg}")  # fmt: skip
        print(f"{'crawl':<34}{'wall s':>8}{'requests':>10}{'304s':>7}{'new posts':>11}{'failed':>8}")
        print(f"{'first crawl':<34}{first_s:>8.1f}{first_requests:>10}{served_304:>7}{first.new_posts:>11}{first.failed:>8}")
        print(f"{'second crawl (nothing changed)':<34}{second_s:>8.1f}{second_requests:>10}{second_304:>7}"
              f"{second.new_posts:>11}{second.failed:>8}")  # fmt: skip
        feeds = args.sources
        print(f"second crawl: {second_304}/{feeds} feeds answered 304 (ratio {second_304 / feeds:.3f}), "
              f"{second.updated_posts} posts updated, posts {posts_stored} -> {posts_after}")  # fmt: skip
        print(f"first crawl, thread-seconds over {args.workers} workers: fetching {first_spent['fetch']:.0f} s "
              f"(politeness waits included), catalog matching {first_spent['match']:.0f} s for {songs_stored} mentions")  # fmt: skip
        print(f"stored: {posts_stored} posts, {songs_stored} song mentions, {matched} linked to a catalog track")
        print(f"{'extraction':<34}{'precision':>10}{'recall':>8}{'mentions':>10}{'songs':>7}")
        print(f"{'melody (stored by the crawler)':<34}{ours[0]:>10.3f}{ours[1]:>8.3f}{ours[2]:>10}{ours[3]:>7}")
        print(f"{'naive regex baseline':<34}{base[0]:>10.3f}{base[1]:>8.3f}{base[2]:>10}{base[3]:>7}")
        if unknown:
            print(f"warning: {len(unknown)} stored posts have no known GUID (not scored)")
        print(f"{'feed, following ' + str(args.follow) + ' sources':<34}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'calls':>7}")
        for label, values in (("melody feed (indexed)", feed_ms), ("baseline: feed index dropped", noindex_ms)):
            print(f"{label:<34}{statistics.median(values):>8.2f}{percentile(values, 0.95):>8.2f}{max(values):>8.2f}{len(values):>7}")
        print(f"targets: precision >= 0.9 ({'met' if ours[0] >= 0.9 else 'MISSED'}), recall >= 0.85 "
              f"({'met' if ours[1] >= 0.85 else 'MISSED'}), feed p95 <= 50 ms "
              f"({'met' if percentile(feed_ms, 0.95) <= 50 else 'MISSED'}); {feed_posts} posts served in the timed runs")  # fmt: skip
        return 0
    finally:
        for server in servers:
            server.stop()
        executor.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
