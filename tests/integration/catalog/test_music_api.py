"""Search, track and trending through the API on real PostgreSQL (unique schema) and moto."""

from __future__ import annotations

import pytest

from tests.conftest import auth_header

pytestmark = pytest.mark.integration

KOLAVERI = "trk_6a39cf47406f"
TUM_HI_HO = "trk_722773a7d7ce"


@pytest.fixture()
def headers(user_headers):
    return user_headers()


def search(client, headers, **params):
    return client.get("/api/v1/music/search", params=params, headers=headers)


def test_music_routes_need_a_signed_in_user(client):
    assert client.get("/api/v1/music/search", params={"q": "tum"}).status_code == 401
    assert client.get(f"/api/v1/music/track/{TUM_HI_HO}").status_code == 401
    assert client.get("/api/v1/music/trending").status_code == 401


def test_romanised_query_finds_the_devanagari_title(client, headers):
    body = search(client, headers, q="tum hee ho").json()
    top = body["items"][0]
    assert top["id"] == TUM_HI_HO and top["title"] == "तुम ही हो"
    assert top["matched"] == ["title"]
    assert set(top) >= {"id", "title", "title_latin", "artists", "album", "language", "duration_s", "matched"}
    assert body["sources"]["catalog"]["status"] == "ok"


def test_native_query_and_tamil_song(client, headers):
    assert search(client, headers, q="तुम ही हो").json()["items"][0]["id"] == TUM_HI_HO
    assert search(client, headers, q="kolaveri").json()["items"][0]["id"] == KOLAVERI
    assert search(client, headers, q="kolavari di").json()["items"][0]["id"] == KOLAVERI  # a typo


def test_short_prefix_and_artist_plus_title(client, headers):
    items = search(client, headers, q="tu").json()["items"]
    assert len(items) >= 5 and all(i["matched"] for i in items)
    assert all("title" in i["matched"] for i in items[:3])  # titles starting with "tu" first
    top = search(client, headers, q="arijit tum hi ho").json()["items"][0]
    assert top["id"] == TUM_HI_HO and set(top["matched"]) == {"title", "artists"}


def test_language_filter_and_paging(client, headers):
    items = search(client, headers, q="tum", language="ta").json()["items"]
    assert all(i["language"] == "ta" for i in items)
    first = search(client, headers, q="tu", limit=2).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    second = search(client, headers, q="tu", limit=2, offset=2).json()
    assert {i["id"] for i in second["items"]}.isdisjoint({i["id"] for i in first["items"]})


BAD_PARAMS = [
    ({"q": "  "}, "empty_query"),
    ({}, "empty_query"),
    ({"q": "tum", "limit": "0"}, "invalid_limit"),
    ({"q": "tum", "limit": "500"}, "invalid_limit"),
    ({"q": "tum", "limit": "ten"}, "invalid_limit"),
    ({"q": "tum", "offset": "-1"}, "invalid_offset"),
    ({"q": "tum", "offset": "abc"}, "invalid_offset"),
    ({"q": "tum", "language": "xx"}, "unknown_language"),
    ({"q": "tum", "source": "spotify"}, "invalid_source"),
    ({"q": "x" * 201}, "query_too_long"),
]


def test_bad_parameters_are_422_with_a_code(client, headers):
    for params, code in BAD_PARAMS:
        response = search(client, headers, **params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == code, params


def test_a_real_otp_login_can_search(client, login):
    access, _, _ = login()
    assert search(client, auth_header(access), q="kesariya").json()["items"][0]["title"] == "केसरिया"


def test_track_details_and_unknown_track(client, headers):
    body = client.get(f"/api/v1/music/track/{TUM_HI_HO}", headers=headers).json()
    assert body["title_latin"] == "Tum Hi Ho" and body["artists"] == ["Arijit Singh"]
    assert body["has_audio"] is False and body["instrumental_status"] == "none"
    assert body["artist_details"][0]["name"] == "Arijit Singh"
    missing = client.get("/api/v1/music/track/trk_doesnotexist", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "track_not_found"


def test_plays_feed_trending(client, headers):
    for _ in range(3):
        assert client.post(f"/api/v1/library/{KOLAVERI}/plays", headers=headers).status_code == 200
    body = client.get("/api/v1/music/trending", params={"timeframe": "daily"}, headers=headers).json()
    assert body["items"][0]["id"] == KOLAVERI and body["items"][0]["plays"] >= 3
    tamil = client.get("/api/v1/music/trending", params={"language": "hi"}, headers=headers).json()
    assert all(i["language"] == "hi" for i in tamil["items"])
    bad = client.get("/api/v1/music/trending", params={"timeframe": "yearly"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_timeframe"



def test_paging_never_hands_out_an_offset_it_would_refuse(client, headers, services, monkeypatch):
    from melody.catalog.models import SearchPage

    real = services.search.search

    def deep(query, *, language, limit, offset, source):
        page = real(query, language=language, limit=limit, offset=0, source=source)
        return SearchPage(hits=page.hits, next_offset=offset + limit, sources=page.sources)  # "more after this"

    monkeypatch.setattr(services.search, "search", deep)
    assert search(client, headers, q="tum", offset="480", limit="20").json()["next_offset"] == 500
    assert search(client, headers, q="tum", offset="490", limit="20").json()["next_offset"] is None
    assert search(client, headers, q="tum", offset="500").status_code == 200
