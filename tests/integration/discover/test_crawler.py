"""The crawler against a local server of real-shaped feeds and pages, and hostile ones."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.integration

TUM_HI_HO = "trk_722773a7d7ce"
CHANNA_MEREYA = "trk_270c25207982"
SUN_RAHA_HAI = "trk_9d4e756063a8"


def _add(services, url: str, name: str | None = None) -> str:
    return services.discover.add_source(url, name=name, language=None)["source_id"]


def _songs(services, source_id: str) -> dict[str, list[dict]]:
    rows = services.discover_store.db.query(
        """SELECT p.title, ps.artist, ps.title AS song, ps.provider, ps.external_id, ps.track_id
           FROM discover_posts p LEFT JOIN discover_post_songs ps ON ps.post_id = p.post_id
           WHERE p.source_id = :s ORDER BY p.published_at DESC, ps.position""",
        {"s": source_id},
    )
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["title"], [])
        if r["song"] or r["provider"]:
            out[r["title"]].append(r)
    return out


def test_real_shaped_sources_give_posts_and_songs_and_a_recrawl_is_all_304s(services, feeds):
    ids = {name: _add(services, feeds.base + path) for name, path in (
        ("rss", "/rss.xml"), ("atom", "/atom.xml"), ("json", "/feed.json"), ("wp", "/wp/"), ("blogger", "/blogger/"), ("alt", "/alt/"),
    )}  # fmt: skip
    report = services.discover_crawler.crawl_due()
    assert report.failed == 0, report.sources
    assert report.new_posts == 2 + 1 + 2 + 2 + 1 + 1

    rss = _songs(services, ids["rss"])
    assert set(rss) == {"Arijit Singh – Tum Hi Ho", "This week's five: new Hindi songs"}
    first = rss["Arijit Singh – Tum Hi Ho"]
    assert {(s["provider"], s["track_id"]) for s in first} >= {("youtube", TUM_HI_HO), ("spotify", TUM_HI_HO)}
    five = {(s["artist"], s["song"]): s for s in rss["This week's five: new Hindi songs"]}
    assert five[("Arijit Singh", "Channa Mereya")]["track_id"] == CHANNA_MEREYA
    assert five[("Arijit Singh", "Channa Mereya")]["provider"] == "youtube"
    assert five[("Ankit Tiwari", "Sun Raha Hai")]["track_id"] == SUN_RAHA_HAI
    assert five[("Ankit Tiwari", "Sun Raha Hai")]["provider"] == "soundcloud"
    # Not in the catalog: created, marked as discovered.
    monsoon = five[("Nila Rao", "Monsoon Letters")]["track_id"]
    assert monsoon and services.discover_store.db.query("SELECT 1 AS x FROM discovered_tracks WHERE track_id = :t", {"t": monsoon})

    atom = _songs(services, ids["atom"])
    assert [(s["artist"], s["song"], s["provider"]) for s in atom["Premiere: Kavi Ray – Paper Boats"]] == [
        ("Kavi Ray", "Paper Boats", "bandcamp")
    ]
    json_feed = _songs(services, ids["json"])
    assert [(s["artist"], s["song"], s["provider"]) for s in json_feed["Lucky Ali shares new single “Safarnama”"]] == [
        ("Lucky Ali", "Safarnama", "youtube")
    ]
    assert json_feed["A note on our playlists"] == []
    wp = _songs(services, ids["wp"])
    assert [(s["artist"], s["song"], s["provider"]) for s in wp["Nila Rao – Monsoon Letters"]] == [
        ("Nila Rao", "Monsoon Letters", "youtube")
    ]
    assert wp["Nila Rao – Monsoon Letters"][0]["track_id"] == monsoon  # the same discovered song, not a second one
    assert [s["track_id"] for s in wp["Gig notes from Pune"]] == [TUM_HI_HO]
    blogger = _songs(services, ids["blogger"])
    assert [(s["artist"], s["song"], s["provider"]) for s in blogger["Nucleya - Bass Rani"]] == [("Nucleya", "Bass Rani", "spotify")]
    alt = services.discover.source(ids["alt"])
    assert alt["feed_url"] == feeds.base + "/alt-feed.xml"
    assert [s["song"] for s in _songs(services, ids["alt"])["Shreya Ghoshal – Sun Raha Hai (Female)"]] == ["Sun Raha Hai (Female)"]

    posts_before = services.discover_store.count_posts()
    before_304 = feeds.not_modified
    again = services.discover_crawler.crawl_due(force=True)
    assert again.not_modified == 6 and again.new_posts == 0 and again.updated_posts == 0
    assert feeds.not_modified - before_304 == 6
    assert services.discover_store.count_posts() == posts_before
    # robots.txt was read once per host and cached.
    assert feeds.hits["/robots.txt"] == 1


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/malformed.xml", "parse_error"),
        ("/huge.xml", "too_large"),
        ("/loop/0", "too_many_redirects"),
        ("/slow.xml", "timeout"),
        ("/private/feed.xml", "robots_disallowed"),
        ("/missing.xml", "http_404"),
    ],
)
def test_hostile_sources_fail_alone_with_health_and_backoff(services, feeds, path, error):
    bad = _add(services, feeds.base + path)
    good = _add(services, feeds.base + "/atom.xml")
    report = services.discover_crawler.crawl_due()
    by_id = {s.source_id: s for s in report.sources}
    assert by_id[bad].status == "failed" and by_id[bad].error == error
    assert by_id[good].status == "fetched" and by_id[good].new_posts == 1
    health = services.discover.source(bad)
    assert health["consecutive_failures"] == 1 and health["last_error"] == error
    assert health["next_crawl_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    if path == "/private/feed.xml":
        assert feeds.hits["/private/feed.xml"] == 0  # never fetched
    if path == "/loop/0":
        assert sum(n for p, n in feeds.hits.items() if p.startswith("/loop/")) == 6  # the first and 5 redirects


def test_a_feed_that_changes_guids_every_fetch_is_deduplicated_by_canonical_url(services, feeds):
    source = _add(services, feeds.base + "/guid-changing.xml")
    first = services.discover_crawler.crawl_due()
    second = services.discover_crawler.crawl_due(force=True)
    assert first.new_posts == 3 and second.new_posts == 0 and second.updated_posts == 0
    assert services.discover_store.count_posts(source) == 3
    urls = [
        r["canonical_url"]
        for r in services.discover_store.db.query("SELECT canonical_url FROM discover_posts WHERE source_id = :s", {"s": source})
    ]
    assert all("utm_" not in u and "fbclid" not in u for u in urls)


def test_script_injection_is_stored_as_plain_text_and_javascript_links_are_dropped(services, feeds):
    source = _add(services, feeds.base + "/xss.xml")
    services.discover_crawler.crawl_due()
    rows = services.discover_store.db.query("SELECT title, summary, url FROM discover_posts WHERE source_id = :s", {"s": source})
    assert len(rows) == 1  # the javascript: item is not a post
    row = rows[0]
    for text in (row["title"], row["summary"]):
        assert "<" not in text and "onerror" not in text and "alert" not in text and "steal" not in text
    assert row["title"].endswith("Arijit Singh – Tum Hi Ho") and row["summary"] == "Hello click"
    assert row["url"].startswith("http://")
    assert [s["track_id"] for s in _songs(services, source)[row["title"]]] == [TUM_HI_HO]


def test_loopback_is_refused_unless_the_setting_allows_it(services, feeds):
    from melody.core.services import Services

    strict = Services(services.settings.model_copy(update={"discover_allow_loopback": False}), executor=services.executor)
    source = _add(services, feeds.base + "/rss.xml")
    report = strict.discover_crawler.crawl_due()
    assert [s.error for s in report.sources] == ["unsafe_url"]
    assert sum(feeds.hits.values()) == 0
    assert strict.discover.source(source)["last_error"] == "unsafe_url"
