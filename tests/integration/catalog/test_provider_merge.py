"""`source=all` on real PostgreSQL: provider hits merged into the catalog or upserted, once.

This module has its own schema (the fixtures below override the session ones), so the songs it
adds never reach other tests' searches.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from melody.catalog.models import SongIn

from .conftest import own_catalog

pytestmark = pytest.mark.integration

CHAAHUN = "trk_54cc98a45184"  # चाहूँ मैं या ना — Arijit Singh, Palak Muchhal — 304 s, no Latin title
TUM_HI_HO = "trk_722773a7d7ce"  # तुम ही हो / Tum Hi Ho — Arijit Singh — 262 s, popularity 88


catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_merge_")  # merged songs stay here


@pytest.fixture()
def providers():
    """Tests append their providers; the search service reads this list on every search."""
    return []


@pytest.fixture()
def headers(user_headers):
    return user_headers()


class FakeProvider:
    def __init__(self, name: str, hits: list[SongIn]) -> None:
        self.name, self.hits, self.calls = name, hits, 0

    async def search(self, query, *, language, limit):
        self.calls += 1
        return [h.model_copy(deep=True) for h in self.hits]


def search(client, headers, **params):
    response = client.get("/api/v1/music/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def fresh(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"  # the provider name is part of the search cache key


def test_spelling_variant_two_seconds_off_is_merged_not_inserted(client, headers, providers, seeded_catalog):
    if not seeded_catalog.exists(CHAAHUN):
        pytest.skip("the seed catalogue lacks चाहूँ मैं या ना")
    name = fresh("fakefy")
    providers.append(FakeProvider(name, [SongIn(
        title="Chahun Main Ya Naa (From \"Aashiqui 2\")", artists=["Palak Muchhal", "Arijit Singh"], duration_s=306,
        external_ids={name: "ext-chahun"},
    )]))
    before = seeded_catalog.count()
    body = search(client, headers, q="chahun main ya naa", source="all")
    assert seeded_catalog.count() == before  # 306 s vs 304 s: other 10-second buckets, one song
    assert body["sources"][name] == {"status": "ok", "count": 1, "detail": None, "retry_after_s": None}
    assert body["sources"]["catalog"]["status"] == "ok"
    assert body["items"][0]["id"] == CHAAHUN
    links = seeded_catalog.details(CHAAHUN).external_links
    assert [(link.provider, link.external_id) for link in links] == [(name, "ext-chahun")]


def test_a_new_song_is_upserted_once(client, headers, providers, seeded_catalog, catalog_executor):
    name = fresh("fakefm")
    title = "Zephyr Quokka " + uuid.uuid4().hex[:4]
    provider = FakeProvider(name, [SongIn(title=title, artists=["Nobody Known"], duration_s=201,
                                          external_ids={name: "ext-new"})])
    providers.append(provider)
    before = seeded_catalog.count()
    first = search(client, headers, q=title, source="all")
    assert seeded_catalog.count() == before + 1
    assert first["sources"][name]["status"] == "ok" and first["sources"][name]["count"] == 1
    assert first["items"][0]["title"] == title and first["items"][0]["duration_s"] == 201
    new_id = first["items"][0]["id"]
    again = search(client, headers, q=title, source="all")
    assert seeded_catalog.count() == before + 1  # the second search finds the song it added
    assert again["sources"][name]["status"] == "cached" and provider.calls == 1
    assert [i["id"] for i in again["items"]].count(new_id) == 1
    rows = catalog_executor.query("SELECT dedup_key FROM songs WHERE track_id = :id", {"id": new_id})
    assert rows[0]["dedup_key"]  # written with its key, so later hits meet it


def test_hit_without_duration_merges_with_the_most_popular_candidate(client, headers, providers, seeded_catalog):
    from melody.catalog.providers.lastfm import LastFmProvider

    if not seeded_catalog.exists(TUM_HI_HO):
        pytest.skip("the seed catalogue lacks तुम ही हो")
    # A less popular, shorter "Tum Hi Ho" by the same artist: a hit without duration must not pick it.
    seeded_catalog.upsert_songs([SongIn(id="trk_tumhiho_short", title="Tum Hi Ho", artists=["Arijit Singh"],
                                        duration_s=95, popularity=5, language="hi")])
    lastfm = {"results": {"trackmatches": {"track": [{"name": "Tum Hi Ho", "artist": "Arijit Singh", "mbid": "",
                                                      "url": "https://www.last.fm/music/Arijit+Singh/_/Tum+Hi+Ho"}]}}}
    provider = LastFmProvider("key", timeout=2, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=lastfm)))
    provider.name = fresh("lastfm")  # its own cache key in this session
    providers.append(provider)
    before = seeded_catalog.count()
    body = search(client, headers, q="tum hi ho arijit", source="all")
    assert seeded_catalog.count() == before
    assert body["sources"][provider.name]["status"] == "ok"
    assert [link.provider for link in seeded_catalog.details(TUM_HI_HO).external_links] == ["lastfm"]
    assert seeded_catalog.details("trk_tumhiho_short").external_links == []


def test_hits_keep_the_language_the_provider_gives_not_the_filter(client, headers, providers, seeded_catalog,
                                                                   catalog_executor):
    from melody.catalog.providers.spotify import SpotifyProvider

    title = "Velvet Harbour " + uuid.uuid4().hex[:4]
    track = {"name": title, "id": "sp" + uuid.uuid4().hex[:8], "duration_ms": 187000, "artists": [{"name": "Kite Parade"}],
             "album": {"name": "Harbour", "release_date": "2021-03-01"},
             "external_urls": {"spotify": "https://open.spotify.com/track/x"}}

    def handler(request):
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"tracks": {"items": [track]}})

    provider = SpotifyProvider("id", "secret", timeout=2, transport=httpx.MockTransport(handler))
    provider.name = fresh("spotify")
    providers.append(provider)
    body = search(client, headers, q=title, language="hi", source="all")
    assert body["sources"][provider.name]["count"] == 1
    rows = catalog_executor.query(
        "SELECT s.track_id, s.language FROM songs s JOIN external_ids e ON e.track_id = s.track_id"
        " WHERE e.provider = 'spotify' AND e.external_id = :id", {"id": track["id"]})
    assert len(rows) == 1 and rows[0]["language"] is None  # stored as unknown, not as Hindi
    assert all(i["language"] == "hi" for i in body["items"])  # kept out of the Hindi-filtered page
    assert rows[0]["track_id"] not in {i["id"] for i in body["items"]}
    unfiltered = search(client, headers, q=title)
    assert unfiltered["items"][0]["id"] == rows[0]["track_id"] and unfiltered["items"][0]["language"] is None


def _distinct_artists(count: int) -> list[str]:
    """``count`` artist names no two of which ``artists_match`` (distinct phonetic given names)."""
    from melody.catalog.keys import artists_match

    consonants, vowels = "bdfklmnprstvz", "aiou"
    names: list[str] = []
    for first in consonants:
        for v1 in vowels:
            for second in consonants:
                name = f"{first}{v1}{second}o{first}".capitalize() + " Quill"  # "Bakob Quill"
                if not any(artists_match([name], [other]) for other in names):
                    names.append(name)
                if len(names) == count:
                    return names
    raise AssertionError("not enough distinct artist names")


def test_hit_without_duration_finds_its_artist_beyond_the_first_candidates(client, headers, providers,
                                                                            seeded_catalog, catalog_executor):
    """60 songs share the title key, each by another artist; the hit is by the least popular one and,
    like a Last.fm hit, has no duration: it is merged with that song, not inserted (the old query
    compared only the 20 best candidates)."""
    from melody.catalog.keys import artists_match

    title = "Marigold Lantern " + uuid.uuid4().hex[:4]
    artists = _distinct_artists(60)
    songs = [SongIn(id=f"trk_lantern_{i:04d}_{uuid.uuid4().hex[:6]}", title=title, artists=[name],
                    duration_s=180 + i, popularity=100 - i) for i, name in enumerate(artists)]
    seeded_catalog.upsert_songs(songs)
    least_popular = songs[-1]
    hit = SongIn(title=title.upper(), artists=[least_popular.artists[0]], duration_s=None)
    assert [s.track_id() for s in songs if artists_match(hit.artists, s.artists)] == [least_popular.track_id()]

    assert seeded_catalog.find_duplicate(hit) == least_popular.track_id()
    assert seeded_catalog.find_duplicate(hit.model_copy(update={"artists": ["Nobody Sings This"]})) is None

    name = fresh("fakefm")
    providers.append(FakeProvider(name, [hit.model_copy(update={"external_ids": {name: "ext-lantern"}})]))
    before = seeded_catalog.count()
    body = search(client, headers, q=title, source="all")
    assert seeded_catalog.count() == before  # merged, not inserted again
    assert body["sources"][name]["status"] == "ok"
    links = seeded_catalog.details(least_popular.track_id()).external_links
    assert [(link.provider, link.external_id) for link in links] == [(name, "ext-lantern")]
    rows = catalog_executor.query("SELECT count(*) AS n FROM songs WHERE title ILIKE :t", {"t": title})
    assert rows[0]["n"] == 60
