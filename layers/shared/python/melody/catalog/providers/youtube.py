"""YouTube Data API v3: ``search.list`` (music videos), then ``videos.list`` (durations, audio language)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from melody.catalog.models import SongIn
from melody.catalog.providers.base import HttpProvider, check, iso8601_seconds, provider_language, retry_after
from melody.catalog.service import ProviderFailure

if TYPE_CHECKING:
    import httpx

API = "https://www.googleapis.com/youtube/v3"
# The Data API says "out of quota" with HTTP 403 and one of these ``error.errors[].reason``s (not 429).
QUOTA_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded", "dailyLimitExceeded", "userRateLimitExceeded"})


def _error_reasons(response: httpx.Response) -> list[str]:
    """The ``reason`` of each entry of ``{"error": {"errors": [{"reason": ...}]}}``; [] for other bodies."""
    try:
        body = response.json()
    except ValueError:
        return []
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    if not isinstance(errors, list):
        return []
    return [e["reason"] for e in errors if isinstance(e, dict) and isinstance(e.get("reason"), str)]


def _split_title(title: str, channel: str) -> tuple[str, list[str]]:
    """"Artist - Title (Official Video)" → ("Title", ["Artist"]); else the channel is the artist."""
    title = html.unescape(title)
    channel = channel.removesuffix(" - Topic").removesuffix("VEVO").strip()
    if " - " in title:
        artist, _, rest = title.partition(" - ")
        return rest.strip(), [artist.strip()]
    return title.strip(), [channel] if channel else []


class YouTubeProvider(HttpProvider):
    name = "youtube"

    def __init__(self, api_key: str, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(timeout=timeout, transport=transport)
        self._key = api_key

    def check(self, response: httpx.Response) -> None:
        if response.status_code == 403:
            quota = [r for r in _error_reasons(response) if r in QUOTA_REASONS]
            if quota:
                raise ProviderFailure(
                    "rate_limited", f"youtube quota: {quota[0]}", retry_after_s=retry_after(response)
                )
        check(response, self.name)

    async def search(self, query: str, *, language: str | None, limit: int) -> list[SongIn]:
        async with self.client() as client:
            params = {"part": "snippet", "type": "video", "videoCategoryId": "10", "q": query,
                      "maxResults": min(limit, 25), "key": self._key}
            if language:
                params["relevanceLanguage"] = language
            found = await self.get_json(client, f"{API}/search", params=params)
            ids = [i["id"]["videoId"] for i in found.get("items") or [] if (i.get("id") or {}).get("videoId")]
            durations: dict[str, int | None] = {}
            languages: dict[str, str | None] = {}
            if ids:
                # One videos.list call (its quota cost does not grow with the parts): durations, and the audio
                # language the uploader declared (``relevanceLanguage`` above only biases the search).
                videos = await self.get_json(
                    client, f"{API}/videos",
                    params={"part": "contentDetails,snippet", "id": ",".join(ids), "key": self._key},
                )
                for v in videos.get("items") or []:
                    durations[v["id"]] = iso8601_seconds((v.get("contentDetails") or {}).get("duration"))
                    languages[v["id"]] = provider_language((v.get("snippet") or {}).get("defaultAudioLanguage"))
        songs = []
        for item in found.get("items") or []:
            video_id = (item.get("id") or {}).get("videoId")
            snippet = item.get("snippet") or {}
            if not video_id or not snippet.get("title"):
                continue
            title, artists = _split_title(snippet["title"], snippet.get("channelTitle", ""))
            songs.append(
                SongIn(
                    title=title,
                    artists=artists,
                    duration_s=durations.get(video_id),
                    language=languages.get(video_id),
                    external_ids={"youtube": video_id},
                    external_urls={"youtube": f"https://www.youtube.com/watch?v={video_id}"},
                )
            )
        return songs
