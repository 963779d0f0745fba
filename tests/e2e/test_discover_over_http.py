"""Discover over HTTP against ``melody dev``: an operator adds a blog served on loopback, crawls it
now, the crawl finds its posts and the catalog songs they name, a listener follows the blog and reads
them in their feed, and a second crawl is answered 304 by the blog and changes nothing.

The blog is a local HTTP server (``tests/integration/discover/fixtures/server.py``) serving a
generated WordPress-shaped RSS feed with ETag/Last-Modified; it counts every request and every 304.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.stack import DevStack
from tests.integration.discover.fixtures.generate import Post, Song, rss
from tests.integration.discover.fixtures.server import FixtureServer

pytestmark = pytest.mark.e2e

TUNAK_TUNAK_TUN = "trk_fdc982169757"  # seed catalog: Daler Mehndi, Punjabi (title in Gurmukhi)
YOUTUBE_ID = "vTIIMJ9tUc8"


def blog_posts(base: str) -> list[Post]:
    return [
        Post(
            f"{base}/?p=2",
            "Daler Mehndi – Tunak Tunak Tun (Official Video)",
            "<p>The song that started a thousand memes.</p>"
            f'<p><iframe src="https://www.youtube.com/embed/{YOUTUBE_ID}" allowfullscreen></iframe></p>'
            "<script>alert('x')</script>",
            datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            [Song("Daler Mehndi", "Tunak Tunak Tun", "youtube", YOUTUBE_ID)],
        ),
        Post(
            f"{base}/?p=1",
            "Essay: what makes a bhangra hook",
            "<p>Long before the charts noticed – and they did – the dhol was doing the work.</p>",
            datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        ),
    ]


@pytest.fixture()
def blog(dev_stack, admin_token):
    server = FixtureServer()
    server.extra["/feed.xml"] = (rss(server.base, "Bhangra Notes", blog_posts(server.base), language="pa"), "application/rss+xml")
    server.source_id = None
    server.start()
    yield server
    server.stop()
    if server.source_id:
        dev_stack.request("DELETE", f"/api/v1/admin/sources/{server.source_id}", None, admin_token())


def _login(stack: DevStack, national: str) -> str:
    return stack.login_api(national)["access_token"]


def test_admin_adds_a_source_the_crawl_finds_songs_a_follower_reads_them_and_a_recrawl_is_all_304(dev_stack, blog, admin_token):
    admin = admin_token()
    listener = _login(dev_stack, "9" + uuid.uuid4().int.__str__()[:9])
    url = blog.base + "/feed.xml"

    # Only operators add sources.
    status, body = dev_stack.request("POST", "/api/v1/admin/sources", {"url": url}, listener)
    assert status == 403, body
    status, source = dev_stack.request("POST", "/api/v1/admin/sources", {"url": url, "name": "Bhangra Notes", "language": "pa"}, admin)
    assert status == 201, source
    assert source["health"] == "new" and source["status"] == "active"
    blog.source_id = source["id"]  # removed after the test (the catalog may outlive the stack)

    # Crawl it now: robots.txt, then the feed; both posts stored, the song matched to the catalog.
    status, report = dev_stack.request("POST", f"/api/v1/admin/sources/{source['id']}/crawl", None, admin)
    assert status == 200, report
    assert report["status"] == "fetched" and report["new_posts"] == 2 and report["songs"] >= 1, report
    assert blog.hits["/robots.txt"] == 1 and blog.hits["/feed.xml"] == 1
    status, health = dev_stack.request("GET", f"/api/v1/admin/sources/{source['id']}", None, admin)
    assert status == 200 and health["health"] == "ok" and health["post_count"] == 2, health

    # The listener follows the blog and reads its posts, newest first, the song playable from the catalog.
    status, followed = dev_stack.request("PUT", f"/api/v1/discover/follows/source/{source['id']}", None, listener)
    assert status == 201, followed
    status, feed = dev_stack.request("GET", "/api/v1/discover/feed", None, listener)
    assert status == 200, feed
    assert feed["starter"] is False
    assert [p["title"] for p in feed["items"]] == ["Daler Mehndi – Tunak Tunak Tun (Official Video)", "Essay: what makes a bhangra hook"]
    first = feed["items"][0]
    assert first["source"] == {"id": source["id"], "name": "Bhangra Notes"}
    assert "<" not in first["summary"] and "alert" not in first["summary"]  # sanitised plain text, no script
    assert first["url"].startswith(blog.base + "/posts/")
    tracks = {s["track"]["id"] for s in first["songs"] if s["track"]}
    assert tracks == {TUNAK_TUNAK_TUN}, first["songs"]
    assert f"https://www.youtube.com/watch?v={YOUTUBE_ID}" in {s["listen_url"] for s in first["songs"]}
    assert any(a["name"] == "Daler Mehndi" for s in first["songs"] if s["track"] for a in s["artists"])

    # Another listener sees none of this listener's follows.
    stranger = _login(dev_stack, "9" + uuid.uuid4().int.__str__()[:9])
    status, theirs = dev_stack.request("GET", "/api/v1/discover/follows", None, stranger)
    assert status == 200 and theirs["items"] == []

    # A second crawl: the blog answers 304 (robots.txt is cached), nothing is added or changed.
    feed_hits, not_modified = blog.hits["/feed.xml"], blog.not_modified
    status, again = dev_stack.request("POST", f"/api/v1/admin/sources/{source['id']}/crawl", None, admin)
    assert status == 200, again
    assert again["status"] == "not_modified" and again["new_posts"] == 0 and again["updated_posts"] == 0, again
    assert blog.hits["/feed.xml"] == feed_hits + 1 and blog.not_modified == not_modified + 1
    assert blog.hits["/robots.txt"] == 1
    status, after = dev_stack.request("GET", "/api/v1/discover/feed", None, listener)
    assert status == 200 and after["items"] == feed["items"]
