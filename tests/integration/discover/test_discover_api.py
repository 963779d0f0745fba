"""The Discover API: operators manage sources, listeners follow them and read their own feed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

ADMIN = "usr_discoveradmin01"
TUM_HI_HO = "trk_722773a7d7ce"


@pytest.fixture()
def admin(services, user_headers):
    services.roles_for = lambda user_id: ("admin",) if user_id == ADMIN else ()  # before tokens are built
    return user_headers(ADMIN)


def test_admin_adds_and_crawls_a_source_a_listener_follows_it_and_reads_the_feed(client, services, feeds, admin, user_headers):
    listener, other = user_headers(), user_headers()
    assert client.post("/api/v1/admin/sources", json={"url": feeds.base + "/rss.xml"}, headers=listener).status_code == 403

    added = client.post(
        "/api/v1/admin/sources", json={"url": feeds.base + "/rss.xml", "name": "Filmi Beats", "language": "hi"}, headers=admin
    )
    assert added.status_code == 201, added.text
    source = added.json()
    assert source["health"] == "new" and source["status"] == "active"
    again = client.post("/api/v1/admin/sources", json={"url": feeds.base + "/rss.xml?utm_source=x"}, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "source_exists"

    crawl = client.post(f"/api/v1/admin/sources/{source['id']}/crawl", headers=admin)
    assert crawl.status_code == 200 and crawl.json()["status"] == "fetched" and crawl.json()["new_posts"] == 2
    health = client.get(f"/api/v1/admin/sources/{source['id']}", headers=admin).json()
    assert health["health"] == "ok" and health["post_count"] == 2

    # Following nothing: the starter feed (popular sources).
    starter = client.get("/api/v1/discover/feed", headers=listener).json()
    assert starter["starter"] is True and len(starter["items"]) == 2

    assert client.put(f"/api/v1/discover/follows/source/{source['id']}", headers=listener).status_code == 201
    assert client.put(f"/api/v1/discover/follows/source/{source['id']}", headers=listener).status_code == 200
    assert client.put("/api/v1/discover/follows/source/src_000000000000", headers=listener).json()["error"]["code"] == "source_not_found"
    feed = client.get("/api/v1/discover/feed", params={"limit": 1}, headers=listener).json()
    assert feed["starter"] is False and len(feed["items"]) == 1 and feed["next_cursor"]
    post = feed["items"][0]
    assert post["title"] == "Arijit Singh – Tum Hi Ho" and post["source"]["name"] == "Filmi Beats"
    assert {s["track"]["id"] for s in post["songs"] if s["track"]} == {TUM_HI_HO}
    assert {s["listen_url"] for s in post["songs"]} >= {"https://www.youtube.com/watch?v=Umqb9KENgmk"}
    page2 = client.get("/api/v1/discover/feed", params={"limit": 1, "cursor": feed["next_cursor"]}, headers=listener).json()
    assert [p["title"] for p in page2["items"]] == ["This week's five: new Hindi songs"] and page2["next_cursor"] is None
    bad = client.get("/api/v1/discover/feed", params={"cursor": "nope"}, headers=listener)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"

    # Another user's follows are their own.
    assert client.get("/api/v1/discover/follows", headers=other).json()["items"] == []
    assert [f["id"] for f in client.get("/api/v1/discover/follows", headers=listener).json()["items"]] == [source["id"]]

    # Artists: following Arijit Singh brings posts naming his catalog songs.
    artist_id = services.discover_store.db.query("SELECT artist_id FROM song_artists WHERE track_id = :t", {"t": TUM_HI_HO})[0]["artist_id"]
    # the feed names each matched song's catalog artists, so the PWA can offer "Follow" on them
    matched = [s for s in post["songs"] if s["track"] and s["track"]["id"] == TUM_HI_HO]
    assert matched and all(artist_id in {a["id"] for a in s["artists"]} and all(a["name"] for a in s["artists"]) for s in matched)
    assert all(s["artists"] == [] for s in post["songs"] if not s["track"])
    assert client.put(f"/api/v1/discover/follows/artist/{artist_id}", headers=other).status_code == 201
    by_artist = client.get("/api/v1/discover/feed", headers=other).json()
    assert by_artist["starter"] is False and {p["title"] for p in by_artist["items"]} == {
        "Arijit Singh – Tum Hi Ho",
        "This week's five: new Hindi songs",
    }

    # A suggestion waits for an operator; pausing and removing.
    suggested = client.post("/api/v1/discover/sources", json={"url": feeds.base + "/atom.xml"}, headers=listener)
    assert suggested.status_code == 202
    assert [s["id"] for s in client.get("/api/v1/discover/sources", headers=listener).json()["items"]] == [source["id"]]
    queue = client.get("/api/v1/admin/sources", params={"status": "suggested"}, headers=admin).json()["items"]
    assert [s["suggested_by"] is not None for s in queue] == [True]
    paused = client.patch(f"/api/v1/admin/sources/{source['id']}", json={"status": "paused"}, headers=admin)
    assert paused.json()["status"] == "paused"
    assert client.delete(f"/api/v1/discover/follows/source/{source['id']}", headers=listener).status_code == 204
    assert client.delete(f"/api/v1/discover/follows/source/{source['id']}", headers=listener).status_code == 404
    assert client.delete(f"/api/v1/admin/sources/{source['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/admin/sources/{source['id']}", headers=admin).status_code == 404
