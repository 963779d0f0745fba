"""Spotify Web API: client-credentials token (cached until it expires) and track search."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx

from melody.catalog.models import SongIn
from melody.catalog.providers.base import HttpProvider, check
from melody.catalog.service import ProviderFailure

if TYPE_CHECKING:
    from collections.abc import Callable

TOKEN_URL = "https://accounts.spotify.com/api/token"
SEARCH_URL = "https://api.spotify.com/v1/search"


def _url(provider: str, url: str | None) -> dict[str, str]:
    return {provider: url} if url else {}  # a missing URL must not fail the whole response


class SpotifyProvider(HttpProvider):
    name = "spotify"

    def __init__(self, client_id: str, client_secret: str, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(timeout=timeout, transport=transport)
        self._auth = (client_id, client_secret)
        self._token: str | None = None
        self._expires_at = 0.0
        self._clock = clock

    async def token(self, client: httpx.AsyncClient) -> str:
        if self._token and self._clock() < self._expires_at - 60:
            return self._token
        try:
            response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, auth=self._auth)
        except httpx.HTTPError as exc:
            raise ProviderFailure("timeout" if isinstance(exc, httpx.TimeoutException) else "error", "spotify token") from None
        check(response, self.name)
        body = response.json()
        self._token = body["access_token"]
        self._expires_at = self._clock() + int(body.get("expires_in", 3600))
        return self._token

    async def search(self, query: str, *, language: str | None, limit: int) -> list[SongIn]:
        async with self.client() as client:
            token = await self.token(client)
            body = await self.get_json(
                client,
                SEARCH_URL,
                params={"q": query, "type": "track", "limit": min(limit, 10)},
                headers={"Authorization": f"Bearer {token}"},
            )
        songs = []
        for item in (body.get("tracks") or {}).get("items") or []:
            if not item or not item.get("name"):
                continue
            album = item.get("album") or {}
            year = (album.get("release_date") or "")[:4]
            songs.append(
                SongIn(
                    title=item["name"],
                    title_latin=item["name"] if item["name"].isascii() else None,
                    artists=[a.get("name", "") for a in item.get("artists") or []],
                    album=album.get("name") or None,
                    year=int(year) if year.isdigit() else None,
                    duration_s=round(item["duration_ms"] / 1000) if item.get("duration_ms") else None,
                    popularity=int(item.get("popularity") or 0),
                    isrc=(item.get("external_ids") or {}).get("isrc"),
                    language=None,  # Spotify does not say; the query's filter is no evidence
                    external_ids={"spotify": item["id"]},
                    external_urls=_url("spotify", (item.get("external_urls") or {}).get("spotify")),
                )
            )
        return songs
