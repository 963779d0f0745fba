"""Shared HTTP handling of the providers: one AsyncClient per call, errors as ProviderFailure."""

from __future__ import annotations

import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
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
        self.check(response)
        try:
            return response.json()
        except ValueError:
            raise ProviderFailure("error", f"{self.name} answered with invalid JSON") from None

    def check(self, response: httpx.Response) -> None:
        """Raise the ProviderFailure an error response means (a provider may know more shapes)."""
        check(response, self.name)


def check(response: httpx.Response, name: str) -> None:
    if response.status_code == 429:
        raise ProviderFailure("rate_limited", f"{name} is rate limiting", retry_after_s=retry_after(response))
    if response.status_code >= 400:
        raise ProviderFailure("error", f"{name} answered HTTP {response.status_code}")


# A Retry-After is reported as given, within [0, a day]: enough for a daily quota, and a wild value
# (or a date years ahead) cannot tell clients to stay away for ever.
MAX_RETRY_AFTER_S = 24 * 3600


def retry_after(response: httpx.Response, *, now: float | None = None) -> int | None:
    """Seconds from ``Retry-After``: delta-seconds or an HTTP-date (RFC 9110 §10.2.3), clamped; else None.

    A date is measured from the response's own ``Date`` when it has one (so our clock's skew does not
    matter), else from ``now`` (default: the current time).
    """
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(int(value), MAX_RETRY_AFTER_S)
    until = _http_date(value)
    if until is None:
        return None
    base = _http_date(response.headers.get("Date") or "")
    reference = base if base is not None else (time.time() if now is None else now)
    return int(min(max(until - reference, 0), MAX_RETRY_AFTER_S))


def _http_date(value: str) -> float | None:
    """An HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime forms) as a POSIX time, else None."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" or asctime: HTTP dates are always UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


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
