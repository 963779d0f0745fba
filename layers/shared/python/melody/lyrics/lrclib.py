"""LRCLIB (https://lrclib.net, no key needed): ``GET /api/get`` by signature, then ``/api/search``.

``/api/get`` answers one record for (track, artist, album, duration ±2 s) or 404 ``TrackNotFound``;
when it misses (an album name spelt otherwise, a duration off by more than 2 s), ``/api/search``
by track and artist gives candidates, and the one with synced lyrics and the nearest duration wins.
LRCLIB asks clients to name themselves in ``User-Agent``. Errors, timeouts and 429s become the
search providers' ``ProviderFailure`` so the service reports them the same way.
"""

from __future__ import annotations

from typing import Any

import httpx

from melody.catalog.providers.base import HttpProvider
from melody.catalog.service import ProviderFailure
from melody.lyrics.ports import FoundLyrics, LyricsQuery

__all__ = ["DEFAULT_BASE_URL", "LrclibProvider"]

DEFAULT_BASE_URL = "https://lrclib.net"
USER_AGENT = "MelodyStudio/0.1 (+https://github.com/melody-studio)"
# A search candidate further than this from the song's duration is another recording.
SEARCH_DURATION_TOLERANCE_S = 4.0


class LrclibProvider(HttpProvider):
    name = "lrclib"

    def __init__(
        self, *, base_url: str = DEFAULT_BASE_URL, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(timeout=timeout, transport=transport)
        self.base_url = base_url.rstrip("/")

    async def lyrics(self, query: LyricsQuery) -> FoundLyrics | None:
        headers = {"User-Agent": USER_AGENT}
        async with self.client() as client:
            params: dict[str, str] = {"track_name": query.title, "artist_name": query.artist}
            if query.album:
                params["album_name"] = query.album
            if query.duration_s:
                params["duration"] = str(round(query.duration_s))
            record = await self._get_or_none(client, f"{self.base_url}/api/get", params=params, headers=headers)
            if isinstance(record, dict) and (record.get("syncedLyrics") or record.get("plainLyrics")):
                return _found(record)
            results = await self.get_json(
                client,
                f"{self.base_url}/api/search",
                params={"track_name": query.title, "artist_name": query.artist},
                headers=headers,
            )
        best = _best_candidate(results if isinstance(results, list) else [], query.duration_s)
        return _found(best) if best else None

    async def _get_or_none(self, client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
        """``/api/get``: a 404 is "no such signature" (go on to search), not a failure."""
        try:
            response = await client.get(url, **kwargs)
        except httpx.TimeoutException:
            raise ProviderFailure("timeout", "lrclib timed out") from None
        except httpx.HTTPError as exc:
            raise ProviderFailure("error", f"lrclib: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        self.check(response)
        try:
            return response.json()
        except ValueError:
            raise ProviderFailure("error", "lrclib answered with invalid JSON") from None


def _found(record: dict[str, Any]) -> FoundLyrics:
    synced = record.get("syncedLyrics")
    plain = record.get("plainLyrics")
    return FoundLyrics(
        synced=synced if isinstance(synced, str) and synced.strip() else None,
        plain=plain if isinstance(plain, str) and plain.strip() else None,
        provider_id=str(record["id"]) if record.get("id") is not None else None,
    )


def _best_candidate(results: list[Any], duration_s: float | None) -> dict[str, Any] | None:
    """Synced before plain, then the nearest duration; instrumentals and far durations are out."""
    candidates = []
    for item in results:
        if not isinstance(item, dict) or item.get("instrumental"):
            continue
        if not (item.get("syncedLyrics") or item.get("plainLyrics")):
            continue
        distance = 0.0
        if duration_s and isinstance(item.get("duration"), int | float):
            distance = abs(float(item["duration"]) - duration_s)
            if distance > SEARCH_DURATION_TOLERANCE_S:
                continue
        candidates.append((0 if item.get("syncedLyrics") else 1, distance, item))
    if not candidates:
        return None
    candidates.sort(key=lambda row: (row[0], row[1]))
    return candidates[0][2]
