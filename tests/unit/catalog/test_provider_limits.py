"""Providers' rate limits (Retry-After in both forms, YouTube's 403 quota errors) and per-provider timeouts.

Recorded response shapes through httpx.MockTransport; no network.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest
from pydantic import ValidationError

from melody.catalog.providers import build_providers
from melody.catalog.providers.base import MAX_RETRY_AFTER_S, retry_after
from melody.catalog.providers.spotify import SpotifyProvider
from melody.catalog.providers.youtube import YouTubeProvider
from melody.catalog.service import MusicSearchService, ProviderFailure
from melody.core.settings import CatalogSettings
from tests.unit.catalog.test_providers import LASTFM_SEARCH, YT_SEARCH, YT_VIDEOS, FakeCatalog


def run(coro):
    return asyncio.run(coro)


# --- Retry-After: delta-seconds or an HTTP-date -------------------------------------------------


def _429(headers):
    return httpx.Response(429, headers=headers)


def test_retry_after_as_delta_seconds_and_as_http_date():
    assert retry_after(_429({"Retry-After": " 17 "})) == 17
    # An HTTP-date is measured against the response's own Date (immune to our clock's skew)...
    dated = _429({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "Date": "Wed, 21 Oct 2015 07:27:00 GMT"})
    assert retry_after(dated) == 60
    # ...else against our clock.
    at = 1445412420.0  # 2015-10-21T07:27:00Z
    assert retry_after(_429({"Retry-After": "Wed, 21 Oct 2015 07:29:30 GMT"}), now=at) == 150
    assert retry_after(_429({"Retry-After": "Wednesday, 21-Oct-15 07:28:00 GMT"}), now=at) == 60  # RFC 850 form


def test_retry_after_is_clamped_and_garbage_is_none():
    at = 1445412420.0
    assert retry_after(_429({"Retry-After": "Wed, 21 Oct 2015 07:00:00 GMT"}), now=at) == 0  # already past
    assert retry_after(_429({"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}), now=at) == MAX_RETRY_AFTER_S
    assert retry_after(_429({"Retry-After": "99999999999"})) == MAX_RETRY_AFTER_S
    for bad in ("soon", "-5", "1.5", "", "Wed, 99 Foo 2015"):
        assert retry_after(_429({"Retry-After": bad})) is None, bad
    assert retry_after(_429({})) is None


def test_spotify_429_with_an_http_date_reports_retry_after():
    def handler(request):
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT",
                                            "Date": "Wed, 21 Oct 2015 07:28:00 GMT"})

    with pytest.raises(ProviderFailure) as info:
        run(SpotifyProvider("id", "secret", timeout=1, transport=httpx.MockTransport(handler)).search("x", language=None, limit=5))
    assert info.value.status == "rate_limited" and info.value.retry_after_s == 30


# --- YouTube reports its quota with HTTP 403 ------------------------------------------------------


def _youtube_error(code: int, reason: str, message: str) -> dict:
    """The Data API v3 error body (``error.errors[].reason``), as recorded from the API."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "youtube.quota", "reason": reason}],
        }
    }


QUOTA = _youtube_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
                       "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.")


@pytest.mark.parametrize("reason", ["quotaExceeded", "rateLimitExceeded", "dailyLimitExceeded", "userRateLimitExceeded"])
def test_youtube_quota_403_is_rate_limited(reason):
    transport = httpx.MockTransport(lambda r: httpx.Response(403, json=_youtube_error(403, reason, "quota")))
    with pytest.raises(ProviderFailure) as info:
        run(YouTubeProvider("k", timeout=1, transport=transport).search("x", language=None, limit=5))
    assert info.value.status == "rate_limited"
    assert reason in info.value.detail


def test_youtube_quota_on_videos_list_is_rate_limited_with_retry_after():
    def handler(request):
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json=YT_SEARCH)
        return httpx.Response(403, headers={"Retry-After": "120"}, json=QUOTA)

    with pytest.raises(ProviderFailure) as info:
        run(YouTubeProvider("k", timeout=1, transport=httpx.MockTransport(handler)).search("x", language=None, limit=5))
    assert info.value.status == "rate_limited" and info.value.retry_after_s == 120


def test_other_youtube_403s_stay_errors():
    forbidden = _youtube_error(403, "forbidden", "Access forbidden.")
    for response in (httpx.Response(403, json=forbidden), httpx.Response(403, text="<html>nope</html>"),
                     httpx.Response(403, json={"error": "x"}), httpx.Response(400, json=QUOTA)):
        transport = httpx.MockTransport(lambda r, response=response: response)
        with pytest.raises(ProviderFailure) as info:
            run(YouTubeProvider("k", timeout=1, transport=transport).search("x", language=None, limit=5))
        assert info.value.status == "error"


def test_youtube_quota_is_a_rate_limited_source_status_in_the_search():
    transport = httpx.MockTransport(lambda r: httpx.Response(403, json=QUOTA))
    service = MusicSearchService(
        FakeCatalog(), providers=lambda: [YouTubeProvider("k", timeout=1, transport=transport)], cache=lambda: None,
        clock=SimpleNamespace(now=lambda: 1000.0), cache_ttl_s=0, provider_timeout_s=1,
    )
    page = service.search("kolaveri", language=None, limit=10, offset=0, source="all")
    assert page.sources["youtube"].status == "rate_limited"


# --- per-provider timeouts --------------------------------------------------------------------------


def _settings(**kw):
    return SimpleNamespace(provider_secret_id=None, providers_enabled="spotify,youtube,lastfm", **kw)


CREDS = {"youtube": {"api_key": "k"}, "lastfm": {"api_key": "k"}}


def test_provider_timeouts_setting_parses_validates_and_defaults(monkeypatch):
    monkeypatch.setenv("MELODY_PROVIDER_TIMEOUTS", '{"youtube": 4.0}')
    monkeypatch.setenv("MELODY_PROVIDER_TIMEOUT_S", "2")
    settings = CatalogSettings()
    assert settings.provider_timeouts == {"youtube": 4.0} and settings.provider_timeout_s == 2
    providers = build_providers(settings, credentials={**CREDS, "spotify": {"client_id": "a", "client_secret": "b"}})
    assert {p.name: p.timeout for p in providers} == {"spotify": 2.0, "youtube": 4.0, "lastfm": 2.0}
    monkeypatch.delenv("MELODY_PROVIDER_TIMEOUTS")
    assert CatalogSettings().provider_timeouts == {}
    for bad in ('{"youtub": 1}', '{"youtube": 0}', '{"youtube": 11}', '{"youtube": -1}', '["youtube"]'):
        monkeypatch.setenv("MELODY_PROVIDER_TIMEOUTS", bad)
        with pytest.raises(ValidationError):
            CatalogSettings()


def test_a_provider_past_its_own_timeout_is_partial_while_a_faster_one_succeeds():
    async def handler(request):
        if request.url.host == "www.googleapis.com":
            await asyncio.sleep(0.5)  # well within the shared 2 s, past YouTube's own 0.1 s
            return httpx.Response(200, json=YT_SEARCH if request.url.path.endswith("/search") else YT_VIDEOS)
        await asyncio.sleep(0.2)  # Last.fm: slower than YouTube's limit, within its own (the shared) one
        return httpx.Response(200, json=LASTFM_SEARCH)

    providers = build_providers(_settings(provider_timeout_s=2.0, provider_timeouts={"youtube": 0.1}),
                                credentials=CREDS, transport=httpx.MockTransport(handler))
    catalog = FakeCatalog()
    service = MusicSearchService(
        catalog, providers=lambda: providers, cache=lambda: None,
        clock=SimpleNamespace(now=lambda: 1000.0), cache_ttl_s=0, provider_timeout_s=2.0,
    )
    page = service.search("tum hi ho", language=None, limit=10, offset=0, source="all")
    statuses = {k: v.status for k, v in page.sources.items()}
    assert statuses == {"catalog": "ok", "spotify": "skipped", "youtube": "timeout", "lastfm": "ok"}
    assert "0.1" in page.sources["youtube"].detail
    assert [s.title for s in catalog.upserted] == ["Tum Hi Ho"]


def test_an_httpx_timeout_is_the_providers_timeout_status():
    def handler(request):
        if request.url.host == "www.googleapis.com":
            raise httpx.ReadTimeout("read timed out", request=request)
        return httpx.Response(200, json=LASTFM_SEARCH)

    providers = build_providers(_settings(provider_timeout_s=1.0, provider_timeouts={"youtube": 0.5}),
                                credentials=CREDS, transport=httpx.MockTransport(handler))
    service = MusicSearchService(
        FakeCatalog(), providers=lambda: providers, cache=lambda: None,
        clock=SimpleNamespace(now=lambda: 1000.0), cache_ttl_s=0, provider_timeout_s=1.0,
    )
    page = service.search("tum hi ho", language=None, limit=10, offset=0, source="all")
    assert page.sources["youtube"].status == "timeout" and page.sources["lastfm"].status == "ok"
