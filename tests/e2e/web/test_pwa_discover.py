"""The Discover tab in headless Chromium: a listener follows a blog an operator added and crawled,
reads its posts (newest first, marked new on the first visit, not on the next), a hostile title
shows as text, links out open without an opener, and a song from a post plays from its row.

The blog is the fixture server on loopback; the song is a seed catalog song given audio the way
tests/e2e/web/test_pwa_catalog_instrumental.py does (media bucket + ``audio_assets``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.discover.fixtures.generate import Post, rss
from tests.integration.discover.fixtures.server import FixtureServer

from .conftest import MOBILE, ui_login
from .test_pwa_catalog_instrumental import _sees_it_play, give_track_audio
from .test_pwa_music import _require, make_song
from .waits import wait_for_js

pytestmark = pytest.mark.e2e

VASEEGARA = "trk_3eb8f90a1ee9"  # seed catalog: Bombay Jayashri, Tamil; no other test gives it audio
BLOG = f"Carnatic Notes {uuid.uuid4().hex[:4]}"  # unique: a catalog named by E2E_DATABASE_URL outlives stacks
HOSTILE = "<img src=x onerror=alert(1)> Hostile title"


@pytest.fixture()
def blog(melody_server, admin_token):
    server = FixtureServer()
    server.source_id = None
    posts = [
        Post(f"{server.base}/?p=3", "Bombay Jayashri – Vaseegara",
             "<p>Twenty-five years on, still the most requested song at our listening nights.</p>",
             datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),
        Post(f"{server.base}/?p=2", HOSTILE, "<p onclick=\"alert(2)\">Nothing to see.</p><script>alert(3)</script>",
             datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
    ]  # fmt: skip
    server.extra["/feed.xml"] = (rss(server.base, BLOG, posts, language="ta"), "application/rss+xml")
    server.start()
    yield server
    server.stop()
    admin = admin_token()
    _, suggested = melody_server.request("GET", "/api/v1/admin/sources?status=suggested&limit=100", None, admin)
    mine = [s["id"] for s in (suggested or {}).get("items", []) if s["url"].startswith(server.base)]
    for source_id in [server.source_id, *mine]:
        if source_id:
            melody_server.request("DELETE", f"/api/v1/admin/sources/{source_id}", None, admin)


def test_follow_a_blog_read_its_posts_and_play_a_song_from_one(new_page, melody_server, api_tokens, admin_token, blog, shot, tmp_path):
    _require(melody_server, api_tokens, "GET", "/api/v1/discover/feed")
    admin = admin_token()
    status, source = melody_server.request("POST", "/api/v1/admin/sources", {"url": blog.base + "/feed.xml", "name": BLOG}, admin)
    assert status == 201, source
    blog.source_id = source["id"]
    status, report = melody_server.request("POST", f"/api/v1/admin/sources/{source['id']}/crawl", None, admin)
    assert status == 200 and report["new_posts"] == 2, report
    give_track_audio(melody_server, VASEEGARA, make_song(tmp_path / "vaseegara.wav", seconds=8.0))

    _, page, errors = new_page(MOBILE)
    ui_login(page, melody_server)
    page.get_by_role("link", name="Discover").click()
    page.locator("#discover-title").wait_for()
    assert page.locator('#nav a[data-view="discover"]').get_attribute("aria-current") == "page"

    # Follow the blog from the list of sources (the feed reloads with its posts).
    page.locator(".discover-sources summary").click()
    follow = page.locator("#discover-sources").get_by_role("button", name=f"Follow {BLOG}")
    with page.expect_response(lambda r: f"/api/v1/discover/follows/source/{source['id']}" in r.url and r.status == 201):
        follow.click()
    posts = page.locator("#discover-feed > .post")
    wait_for_js(page, "document.querySelectorAll('#discover-feed > .post').length === 2 && "
                      "document.getElementById('discover-starter').hidden")  # fmt: skip
    shot(page, "discover-feed")
    assert posts.nth(0).locator(".post-title").inner_text() == "Bombay Jayashri – Vaseegara"  # newest first
    assert posts.nth(0).locator(".post-source").inner_text() == BLOG
    # First visit: every post is new.
    assert posts.locator(".badge-new").count() == 2
    assert "2 new posts" in page.locator("#discover-status").inner_text()

    # The hostile title is text: no element, no script ran.
    hostile = posts.nth(1).locator(".post-title")
    assert "Hostile title" in hostile.inner_text()
    assert page.locator("#discover-feed img").count() == 0
    assert not [e for e in errors.errors if "alert" in e] and not errors.csp

    # Links out open with no opener and no referrer.
    link = posts.nth(0).locator("a.post-link")
    assert link.get_attribute("href").startswith(blog.base + "/posts/")
    assert set(link.get_attribute("rel").split()) == {"noopener", "noreferrer"}
    assert link.get_attribute("target") == "_blank"

    # The song is an ordinary track row: Play plays the catalog song's original; the player offers
    # to make its instrumental; the artist can be followed.
    row = posts.nth(0).locator(f'.track[data-track-id="{VASEEGARA}"]')
    row.wait_for()
    row.get_by_role("button", name="Play Vaseegara").click()
    page.locator("#player-title", has_text="Vaseegara").wait_for()
    _sees_it_play(page)
    assert f"/catalog/{VASEEGARA}/" in page.evaluate("document.getElementById('audio').currentSrc")
    page.get_by_role("button", name="Make instrumental: Vaseegara").wait_for()
    artist = row.get_by_role("button", name="Follow Bombay Jayashri")
    with page.expect_response(lambda r: "/api/v1/discover/follows/artist/" in r.url and r.status == 201):
        artist.click()
    wait_for_js(page, "document.querySelector('.btn-follow[aria-label=\"Unfollow Bombay Jayashri\"]') !== null")
    shot(page, "discover-song-playing")
    page.locator("#player-toggle").click()
    wait_for_js(page, "document.getElementById('audio').paused")

    # The next visit: nothing is new any more.
    page.get_by_role("link", name="Library").click()
    page.get_by_role("link", name="Discover").click()
    wait_for_js(page, "document.querySelectorAll('#discover-feed > .post').length === 2")
    assert page.locator("#discover-feed .badge-new").count() == 0

    # Suggest a source: operators review it; the same one again is already suggested.
    page.get_by_label("Blog or feed address").fill(blog.base + "/other.xml")
    page.get_by_role("button", name="Suggest").click()
    page.locator("#suggest-status", has_text="review").wait_for()
    page.get_by_label("Blog or feed address").fill(blog.base + "/other.xml")
    page.get_by_role("button", name="Suggest").click()
    page.locator("#suggest-status", has_text="already").wait_for()
