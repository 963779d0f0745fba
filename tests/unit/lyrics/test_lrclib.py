"""LRCLIB over httpx's MockTransport, on the response shapes lrclib.net returns (recorded)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from melody.catalog.service import ProviderFailure
from melody.lyrics.lrclib import LrclibProvider
from melody.lyrics.ports import LyricsQuery

# GET /api/get?track_name=Tum+Hi+Ho&artist_name=Arijit+Singh&album_name=Aashiqui+2&duration=262 (shape as recorded)
RECORD = {
    "id": 2210419,
    "name": "Tum Hi Ho",
    "trackName": "Tum Hi Ho",
    "artistName": "Arijit Singh",
    "albumName": "Aashiqui 2",
    "duration": 262.0,
    "instrumental": False,
    "plainLyrics": "Hum tere bin ab reh nahi sakte\nTere bina kya wajood mera",
    "syncedLyrics": "[00:38.91] Hum tere bin ab reh nahi sakte\n[00:46.52] Tere bina kya wajood mera\n[00:54.10] ",
}
# GET /api/get for an unknown signature: HTTP 404 with this body
NOT_FOUND = {"code": 404, "name": "TrackNotFound", "message": "Failed to find specified track"}
QUERY = LyricsQuery(title="Tum Hi Ho", artist="Arijit Singh", album="Aashiqui 2", duration_s=261.6)


def provider(handler) -> LrclibProvider:
    return LrclibProvider(timeout=1.0, transport=httpx.MockTransport(handler))


def run(coro):
    return asyncio.run(coro)


def test_get_by_signature_sends_all_four_fields_and_names_itself():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=RECORD)

    found = run(provider(handler).lyrics(QUERY))
    assert found is not None and found.synced and found.synced.startswith("[00:38.91]") and found.provider_id == "2210419"
    (request,) = seen
    assert request.url.path == "/api/get"
    assert dict(request.url.params) == {
        "track_name": "Tum Hi Ho", "artist_name": "Arijit Singh", "album_name": "Aashiqui 2", "duration": "262",
    }  # fmt: skip
    assert request.headers["user-agent"].startswith("MelodyStudio/")


def test_a_404_falls_back_to_search_and_picks_synced_with_the_nearest_duration():
    far = {**RECORD, "id": 1, "duration": 400.0}
    plain_only = {**RECORD, "id": 2, "syncedLyrics": None, "duration": 262.0}
    near = {**RECORD, "id": 3, "duration": 264.0}
    instrumental = {**RECORD, "id": 4, "instrumental": True, "syncedLyrics": None, "plainLyrics": None}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/get":
            return httpx.Response(404, json=NOT_FOUND)
        assert request.url.path == "/api/search"
        assert dict(request.url.params) == {"track_name": "Tum Hi Ho", "artist_name": "Arijit Singh"}
        return httpx.Response(200, json=[far, plain_only, instrumental, near])

    found = run(provider(handler).lyrics(QUERY))
    assert found is not None and found.provider_id == "3"


def test_plain_only_when_nothing_synced_and_none_when_nothing_at_all():
    plain_only = {**RECORD, "syncedLyrics": None}

    def plain(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=plain_only)

    found = run(provider(plain).lyrics(QUERY))
    assert found is not None and found.synced is None and found.plain

    def empty(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/get":
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(200, json=[])

    assert run(provider(empty).lyrics(QUERY)) is None


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(429, headers={"Retry-After": "30"}), "rate_limited"),
        (httpx.Response(500, text="oops"), "error"),
        (httpx.Response(200, text="<html>not json</html>"), "error"),
    ],
)
def test_failures_are_provider_failures(response, status):
    with pytest.raises(ProviderFailure) as info:
        run(provider(lambda request: response).lyrics(QUERY))
    assert info.value.status == status


def test_offline_and_timeouts_are_provider_failures():
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    with pytest.raises(ProviderFailure) as info:
        run(provider(offline).lyrics(QUERY))
    assert info.value.status == "error"

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderFailure) as info:
        run(provider(slow).lyrics(QUERY))
    assert info.value.status == "timeout"


def test_without_album_or_duration_those_fields_are_not_sent():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json=RECORD)

    run(provider(handler).lyrics(LyricsQuery(title="Tum Hi Ho", artist="Arijit Singh")))
    assert seen == [{"track_name": "Tum Hi Ho", "artist_name": "Arijit Singh"}]
