"""Shared HTTP handling of the providers: one AsyncClient per call, errors as ProviderFailure."""

from __future__ import annotations

import re
from typing import Any

import httpx

from melody.catalog.models import LANGUAGES, SongIn
from melody.catalog.service import ProviderFailure


class HttpProvider:
    name = "provider"

    def __init__(self, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = timeout
        self.transport = transport

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=httpx.Timeout(self.timeout))

    async def get_json(self, client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
        try:
            response = await client.get(url, **kwargs)
        except httpx.TimeoutException:
            raise ProviderFailure("timeout", f"{self.name} timed out") from None
        except httpx.HTTPError as exc:
            raise ProviderFailure("error", f"{self.name}: {type(exc).__name__}") from None
        check(response, self.name)
        try:
            return response.json()
        except ValueError:
            raise ProviderFailure("error", f"{self.name} answered with invalid JSON") from None


def check(response: httpx.Response, name: str) -> None:
    if response.status_code == 429:
        raise ProviderFailure("rate_limited", f"{name} is rate limiting", retry_after_s=retry_after(response))
    if response.status_code >= 400:
        raise ProviderFailure("error", f"{name} answered HTTP {response.status_code}")


def retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After")
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def iso8601_seconds(value: str | None) -> int | None:
    match = _ISO_DURATION.match(value or "")
    if not match or not any(match.groups()):
        return None
    d, h, m, s = (int(g or 0) for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def provider_language(tag: str | None) -> str | None:
    """A song language from what a provider says (a BCP-47 tag such as ``hi`` or ``en-US``), else None.

    Never the query's ``language`` filter: a provider returns songs of other languages for it too.
    """
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


class SkippedProvider:
    """A provider without credentials: reported as skipped, never called."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def search(self, query: str, *, language: str | None, limit: int) -> list[SongIn]:
        raise ProviderFailure("skipped", "no credentials configured")
