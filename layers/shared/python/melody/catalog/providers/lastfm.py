"""Last.fm ``track.search``. Last.fm reports errors with HTTP 200 and ``{"error": N, "message"}``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from melody.catalog.models import SongIn
from melody.catalog.providers.base import HttpProvider
from melody.catalog.service import ProviderFailure

if TYPE_CHECKING:
    import httpx

API = "https://ws.audioscrobbler.com/2.0/"
RATE_LIMITED = 29


class LastFmProvider(HttpProvider):
    name = "lastfm"

    def __init__(self, api_key: str, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(timeout=timeout, transport=transport)
        self._key = api_key

    async def search(self, query: str, *, language: str | None, limit: int) -> list[SongIn]:
        async with self.client() as client:
            body = await self.get_json(
                client,
                API,
                params={"method": "track.search", "track": query, "api_key": self._key, "format": "json",
                        "limit": min(limit, 30)},
            )
        if isinstance(body, dict) and "error" in body:
            code = body.get("error")
            status = "rate_limited" if code == RATE_LIMITED else "error"
            raise ProviderFailure(status, f"lastfm error {code}: {body.get('message', '')}".strip())
        matches = ((body.get("results") or {}).get("trackmatches") or {}).get("track") or []
        if isinstance(matches, dict):  # a single match is an object, not a list
            matches = [matches]
        songs = []
        for t in matches:
            name, artist = t.get("name"), t.get("artist")
            if not name:
                continue
            ext = t.get("mbid") or f"{artist}|{name}"
            songs.append(
                SongIn(
                    title=name,
                    artists=[artist] if artist else [],
                    language=None,  # Last.fm does not say; the query's filter is no evidence
                    external_ids={"lastfm": ext[:200]},
                    external_urls={"lastfm": t["url"]} if t.get("url") else {},
                )
            )
        return songs
