"""Providers through httpx.MockTransport with recorded response shapes; no network."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

from melody.catalog.models import SongIn
from melody.catalog.providers import build_providers
from melody.catalog.providers.base import iso8601_seconds
from melody.catalog.providers.lastfm import LastFmProvider
from melody.catalog.providers.spotify import SpotifyProvider
from melody.catalog.providers.youtube import YouTubeProvider
from melody.catalog.service import MusicSearchService, ProviderFailure

SPOTIFY_SEARCH = {
    "tracks": {
        "href": "https://api.spotify.com/v1/search?query=kesariya&type=track&offset=0&limit=2",
        "items": [
            {
                "album": {"album_type": "album", "name": "Brahmastra", "release_date": "2022-07-17"},
                "artists": [{"id": "4YRxDV8wJFPHPTeXepOstw", "name": "Pritam"}, {"id": "4fEkbug6kZzzJ8eYX6Kbbp", "name": "Arijit Singh"}],
                "duration_ms": 268426,
                "external_ids": {"isrc": "INZ031422282"},
                "external_urls": {"spotify": "https://open.spotify.com/track/6VBhH7CyP56BXjp8VsDFPZ"},
                "id": "6VBhH7CyP56BXjp8VsDFPZ",
                "name": "Kesariya (From \"Brahmastra\")",
                "type": "track",
            }
        ],
        "limit": 2,
        "total": 1,
    }
}
YT_SEARCH = {
    "kind": "youtube#searchListResponse",
    "items": [
        {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": "YR12Z8f1Dh8"},
         "snippet": {"title": "Why This Kolaveri Di Full Song Promo Video in HD", "channelTitle": "Sony Music South"}},
        {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": "abc123"},
         "snippet": {"title": "Dhanush - Kolaveri Di &amp; more", "channelTitle": "x"}},
    ],
}
YT_VIDEOS = {"items": [{"id": "YR12Z8f1Dh8", "contentDetails": {"duration": "PT4M10S"}},
                       {"id": "abc123", "contentDetails": {"duration": "PT1H2M3S"}}]}
LASTFM_SEARCH = {
    "results": {
        "opensearch:totalResults": "1",
        "trackmatches": {"track": [{"name": "Tum Hi Ho", "artist": "Arijit Singh", "url": "https://www.last.fm/music/Arijit+Singh/_/Tum+Hi+Ho",
                                     "listeners": "312000", "mbid": ""}]},
    }
}


def run(coro):
    return asyncio.run(coro)


def test_spotify_token_is_cached_until_expiry_and_results_map():
    calls = {"token": 0, "search": 0}
    now = [1000.0]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            calls["token"] += 1
            assert request.headers["Authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": f"tok{calls['token']}", "token_type": "Bearer", "expires_in": 3600})
        calls["search"] += 1
        assert request.headers["Authorization"] == f"Bearer tok{calls['token']}"
        assert request.url.params["limit"] == "10"  # Spotify's current maximum
        return httpx.Response(200, json=SPOTIFY_SEARCH)

    provider = SpotifyProvider("id", "secret", timeout=1, transport=httpx.MockTransport(handler), clock=lambda: now[0])
    songs = run(provider.search("kesariya", language="hi", limit=20))
    run(provider.search("kesariya", language="hi", limit=20))
    assert calls == {"token": 1, "search": 2}
    now[0] += 3600
    run(provider.search("kesariya", language="hi", limit=20))
    assert calls["token"] == 2
    song = songs[0]
    assert song.isrc == "INZ031422282" and song.duration_s == 268 and song.artists == ["Pritam", "Arijit Singh"]
    assert song.external_ids == {"spotify": "6VBhH7CyP56BXjp8VsDFPZ"} and song.year == 2022


def test_spotify_429_reports_retry_after():
    def handler(request):
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(429, headers={"Retry-After": "17"}, json={"error": {"status": 429}})

    provider = SpotifyProvider("id", "secret", timeout=1, transport=httpx.MockTransport(handler))
    with pytest.raises(ProviderFailure) as info:
        run(provider.search("x", language=None, limit=5))
    assert info.value.status == "rate_limited" and info.value.retry_after_s == 17


def test_youtube_search_then_videos_for_durations():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        if request.url.path.endswith("/search"):
            assert request.url.params["videoCategoryId"] == "10" and request.url.params["key"] == "k"
            return httpx.Response(200, json=YT_SEARCH)
        assert request.url.params["id"] == "YR12Z8f1Dh8,abc123"
        return httpx.Response(200, json=YT_VIDEOS)

    songs = run(YouTubeProvider("k", timeout=1, transport=httpx.MockTransport(handler)).search("kolaveri", language="ta", limit=5))
    assert seen == ["/youtube/v3/search", "/youtube/v3/videos"]
    assert [s.duration_s for s in songs] == [250, 3723]
    assert songs[1].title == "Kolaveri Di & more" and songs[1].artists == ["Dhanush"]
    assert songs[0].artists == ["Sony Music South"]


def test_lastfm_error_with_http_200_is_a_failure():
    def handler(request):
        return httpx.Response(200, json={"error": 29, "message": "Rate Limit Exceded"})

    with pytest.raises(ProviderFailure) as info:
        run(LastFmProvider("k", timeout=1, transport=httpx.MockTransport(handler)).search("x", language=None, limit=5))
    assert info.value.status == "rate_limited"

    ok = httpx.MockTransport(lambda r: httpx.Response(200, json=LASTFM_SEARCH))
    songs = run(LastFmProvider("k", timeout=1, transport=ok).search("tum hi ho", language=None, limit=5))
    assert songs[0].title == "Tum Hi Ho" and songs[0].artists == ["Arijit Singh"]


def test_iso8601_durations():
    assert iso8601_seconds("PT4M10S") == 250 and iso8601_seconds("P1DT1S") == 86401 and iso8601_seconds("bad") is None


def test_providers_without_credentials_are_skipped():
    settings = SimpleNamespace(provider_secret_id=None, provider_timeout_s=1.0, providers_enabled="spotify,youtube,lastfm")
    providers = build_providers(settings, credentials={"youtube": {"api_key": "k"}})
    assert [type(p).__name__ for p in providers] == ["SkippedProvider", "YouTubeProvider", "SkippedProvider"]


class FakeCatalog:
    def __init__(self):
        self.upserted: list[SongIn] = []
        self.links = []

    def recall(self, terms, *, language, cap):
        return []

    def vocab_fuzzy(self, words, *, per_word=40):
        return {}

    def known_tokens(self, tokens):
        return set()

    def find_duplicate(self, song):
        return "trk_existing" if song.isrc == "DUP" else None

    def add_external_id(self, track_id, provider, ext, url):
        self.links.append((track_id, provider, ext))

    def upsert_songs(self, songs):
        self.upserted.extend(songs)
        return len(songs)


class DictCache:
    def __init__(self):
        self.data = {}

    def get(self, key, *, now):
        hit = self.data.get(key)
        return hit[0] if hit and hit[1] > now else None

    def put(self, key, value, *, expires_at):
        self.data[key] = (value, expires_at)


class Fake:
    def __init__(self, name, result=None, delay=0.0, error=None):
        self.name, self.result, self.delay, self.error, self.calls = name, result or [], delay, error, 0

    async def search(self, query, *, language, limit):
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return self.result


def test_fan_out_gives_partial_results_merges_duplicates_and_caches():
    same_a = SongIn(title="Kesariya", artists=["Arijit Singh"], duration_s=268, external_ids={"spotify": "s1"})
    same_b = SongIn(title="Kesariya (Official Video)", artists=["Arijit Singh"], duration_s=270, external_ids={"youtube": "y1"})
    dup = SongIn(title="Known", artists=["A"], isrc="DUP", external_ids={"spotify": "s2"})
    slow = Fake("lastfm", delay=2)
    failing = Fake("youtube", error=ProviderFailure("rate_limited", "429", retry_after_s=5))
    good = Fake("spotify", result=[same_a, dup])
    also = Fake("deezer", result=[same_b])
    catalog, cache = FakeCatalog(), DictCache()
    service = MusicSearchService(
        catalog, providers=lambda: [good, failing, slow, also], cache=lambda: cache,
        clock=SimpleNamespace(now=lambda: 1000.0), cache_ttl_s=60, provider_timeout_s=0.2,
    )
    page = service.search("kesariya", language=None, limit=10, offset=0, source="all")
    s = {k: v.status for k, v in page.sources.items()}
    assert s == {"catalog": "ok", "spotify": "ok", "youtube": "rate_limited", "lastfm": "timeout", "deezer": "ok"}
    assert page.sources["youtube"].retry_after_s == 5
    assert len(catalog.upserted) == 1  # the two Kesariya hits are one song, with both ids
    assert catalog.upserted[0].external_ids == {"spotify": "s1", "youtube": "y1"}
    assert catalog.links == [("trk_existing", "spotify", "s2")]  # an ISRC match links to the catalog song
    again = service.search("kesariya", language=None, limit=10, offset=0, source="all")
    assert again.sources["spotify"].status == "cached" and good.calls == 1
    catalog_only = service.search("kesariya", language=None, limit=10, offset=0, source="catalog")
    assert set(catalog_only.sources) == {"catalog"}


# --- a hit's language is what the provider says, never the query's filter -------------------------


def test_spotify_and_lastfm_hits_do_not_inherit_the_query_language():
    def spotify(request):
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=SPOTIFY_SEARCH)

    hits = run(SpotifyProvider("id", "secret", timeout=1, transport=httpx.MockTransport(spotify))
               .search("kesariya", language="ta", limit=5))
    assert hits and all(h.language is None for h in hits)  # Spotify names no language
    lastfm = httpx.MockTransport(lambda r: httpx.Response(200, json=LASTFM_SEARCH))
    hits = run(LastFmProvider("k", timeout=1, transport=lastfm).search("tum hi ho", language="hi", limit=5))
    assert hits and all(h.language is None for h in hits)


def test_youtube_language_comes_from_the_declared_audio_language():
    videos = {"items": [
        {"id": "YR12Z8f1Dh8", "contentDetails": {"duration": "PT4M10S"}, "snippet": {"defaultAudioLanguage": "ta"}},
        {"id": "abc123", "contentDetails": {"duration": "PT3M"}, "snippet": {"defaultAudioLanguage": "en-US"}},
    ]}
    parts = []

    def handler(request):
        if request.url.path.endswith("/search"):
            assert request.url.params["relevanceLanguage"] == "hi"  # the filter only biases the search
            return httpx.Response(200, json=YT_SEARCH)
        parts.append(request.url.params["part"])
        return httpx.Response(200, json=videos)

    songs = run(YouTubeProvider("k", timeout=1, transport=httpx.MockTransport(handler)).search("x", language="hi", limit=5))
    assert "snippet" in parts[0].split(",") and "contentDetails" in parts[0].split(",")
    assert [s.language for s in songs] == ["ta", "en"]
    # No declared language (or "zxx", no linguistic content): unknown, not the query's "hi".
    bare = httpx.MockTransport(lambda r: httpx.Response(200, json=YT_SEARCH if r.url.path.endswith("/search") else {
        "items": [{"id": "YR12Z8f1Dh8", "contentDetails": {"duration": "PT4M10S"}, "snippet": {"defaultAudioLanguage": "zxx"}},
                  {"id": "abc123", "contentDetails": {"duration": "PT3M"}}]}))
    songs = run(YouTubeProvider("k", timeout=1, transport=bare).search("x", language="hi", limit=5))
    assert [s.language for s in songs] == [None, None]


def test_fan_out_keeps_same_titled_songs_of_other_artists_apart():
    a = SongIn(title="Tum Hi Ho", artists=["Arijit Singh"], duration_s=262, external_ids={"spotify": "s1"})
    b = SongIn(title="Tum Hi Ho", artists=["Some Cover Band"], duration_s=262, external_ids={"youtube": "y1"})
    c = SongIn(title="Tum Hi Ho (From \"Aashiqui 2\")", artists=["Mithoon", "Arijit Singh"], external_ids={"lastfm": "l1"})
    d = SongIn(title="Tum Hi Ho", artists=["Arijit Singh"], duration_s=300, external_ids={"deezer": "d1"})  # another cut
    catalog = FakeCatalog()
    service = MusicSearchService(
        catalog, providers=lambda: [Fake("spotify", result=[a, b]), Fake("lastfm", result=[c, d])], cache=lambda: None,
        clock=SimpleNamespace(now=lambda: 1000.0), cache_ttl_s=0, provider_timeout_s=1,
    )
    service.search("tum hi ho", language=None, limit=10, offset=0, source="all")
    ids = sorted(sorted(s.external_ids) for s in catalog.upserted)
    # a + c (shared artist, c has no duration), b (other artist), d (same artist, 38 s longer)
    assert ids == [["deezer"], ["lastfm", "spotify"], ["youtube"]]


def test_a_hit_without_url_is_kept_not_a_failed_provider():
    item = {k: v for k, v in SPOTIFY_SEARCH["tracks"]["items"][0].items() if k != "external_urls"}

    def spotify(request):
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"tracks": {"items": [item]}})

    hits = run(SpotifyProvider("id", "secret", timeout=1, transport=httpx.MockTransport(spotify)).search("k", language=None, limit=5))
    assert len(hits) == 1 and hits[0].external_urls == {}
    track = {k: v for k, v in LASTFM_SEARCH["results"]["trackmatches"]["track"][0].items() if k != "url"}
    lastfm = httpx.MockTransport(lambda r: httpx.Response(200, json={"results": {"trackmatches": {"track": [track]}}}))
    hits = run(LastFmProvider("k", timeout=1, transport=lastfm).search("tum hi ho", language=None, limit=5))
    assert len(hits) == 1 and hits[0].external_urls == {}
