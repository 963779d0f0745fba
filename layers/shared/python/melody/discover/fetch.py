"""A polite HTTP fetcher for the crawler (httpx).

Politeness: one request at a time per host (a lock per ``host:port``) and a minimum delay between
two requests to it; robots.txt read once per host (cached for ``robots_ttl_s``) and obeyed through
:mod:`urllib.robotparser`. Safety: every URL, redirect targets included, passes the SSRF guard;
redirects are followed by hand and bounded; bodies are streamed and cut at ``max_bytes`` (a 50 MB
response is never held); a whole fetch has a deadline, so a server that drips a byte a second
cannot hold a worker. Conditional GET: the caller's ETag / Last-Modified, and a 304 costs no body.
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from melody.discover.transport import guarded_transport
from melody.discover.urls import Resolver, UnsafeUrl, _resolve, check_fetchable

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FetchError", "FetchPolicy", "FetchResult", "Fetcher"]

_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "MelodyDiscoverBot/1.0 (+https://melody.studio/bot)"
    min_host_delay_s: float = 1.0
    timeout_s: float = 15.0  # the whole fetch: connect, headers and body
    connect_timeout_s: float = 5.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 5
    robots_ttl_s: float = 6 * 3600
    robots_max_bytes: int = 512 * 1024
    allow_loopback: bool = False


@dataclass
class FetchResult:
    url: str  # after redirects
    status: int  # 200 or 304
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


class FetchError(Exception):
    """A fetch that gave nothing usable; ``code`` is what admins see in the source's health."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass
class _Host:
    lock: threading.Lock = field(default_factory=threading.Lock)
    robots_lock: threading.Lock = field(default_factory=threading.Lock)  # one robots.txt read at a time
    last_request: float = float("-inf")
    robots: urllib.robotparser.RobotFileParser | None = None
    robots_at: float = float("-inf")


@dataclass
class FetchStats:
    requests: int = 0
    not_modified: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class Fetcher:
    def __init__(
        self,
        policy: FetchPolicy,
        *,
        client: httpx.Client | None = None,
        resolver: Resolver = _resolve,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        timeout = httpx.Timeout(policy.timeout_s, connect=policy.connect_timeout_s)
        # The default client connects only to addresses the SSRF guard accepted (no DNS rebinding).
        self._client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            transport=guarded_transport(allow_loopback=policy.allow_loopback, resolver=resolver),
        )
        self._resolver = resolver
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = FetchStats()

    def close(self) -> None:
        self._client.close()

    # -- public ----------------------------------------------------------------------------

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, text/html;q=0.8, */*;q=0.5"
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(self.policy.max_redirects + 1):
            self._check(url)
            if not self.allowed_by_robots(url):
                raise FetchError("robots_disallowed", "robots.txt disallows this URL")
            status, response_headers, body = self._get(url, headers, self.policy.max_bytes)
            if status in _REDIRECTS:
                location = response_headers.get("location")
                if not location:
                    raise FetchError(f"http_{status}", "a redirect without a Location")
                url = urljoin(url, location)
                continue
            if status == 304:
                return FetchResult(url=url, status=304, etag=etag, last_modified=last_modified)
            if status != 200:
                raise FetchError(f"http_{status}", f"HTTP {status}")
            return FetchResult(
                url=url,
                status=200,
                body=body,
                content_type=response_headers.get("content-type", ""),
                etag=response_headers.get("etag"),
                last_modified=response_headers.get("last-modified"),
            )
        raise FetchError("too_many_redirects", f"more than {self.policy.max_redirects} redirects")

    def allowed_by_robots(self, url: str) -> bool:
        parts = urlsplit(url)
        host = self._host(parts.netloc)
        with host.robots_lock:
            now = self._clock()
            if host.robots is None or now - host.robots_at > self.policy.robots_ttl_s:
                host.robots = self._read_robots(f"{parts.scheme}://{parts.netloc}/robots.txt")
                host.robots_at = now
            robots = host.robots
        return robots.can_fetch(self.policy.user_agent, url)

    # -- internals ---------------------------------------------------------------------------

    def _check(self, url: str) -> None:
        try:
            check_fetchable(url, allow_loopback=self.policy.allow_loopback, resolver=self._resolver)
        except UnsafeUrl as exc:
            raise FetchError("unsafe_url", str(exc)) from exc

    def _read_robots(self, robots_url: str) -> urllib.robotparser.RobotFileParser:
        """RFC 9309: a 4xx means no rules (crawl freely); a 5xx or no answer means crawl nothing for now."""
        parser = urllib.robotparser.RobotFileParser(robots_url)
        deny_all = ["User-agent: *", "Disallow: /"]
        try:
            self._check(robots_url)
            status, _headers, body = self._get(robots_url, {}, self.policy.robots_max_bytes, truncate=True)
        except FetchError:
            parser.parse(deny_all)
            return parser
        if status == 200:
            parser.parse(body.decode("utf-8", "replace").splitlines())
        else:
            parser.parse(deny_all if status >= 500 else [])
        return parser

    def _host(self, netloc: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(netloc.lower(), _Host())

    def _get(self, url: str, headers: dict[str, str], max_bytes: int, *, truncate: bool = False) -> tuple[int, httpx.Headers, bytes]:
        host = self._host(urlsplit(url).netloc)
        with host.lock:  # one request at a time per host, a pause between two
            wait = host.last_request + self.policy.min_host_delay_s - self._clock()
            if wait > 0:
                self._sleep(wait)
            try:
                return self._stream(url, headers, max_bytes, truncate=truncate)
            finally:
                host.last_request = self._clock()

    def _stream(self, url: str, headers: dict[str, str], max_bytes: int, *, truncate: bool) -> tuple[int, httpx.Headers, bytes]:
        deadline = self._clock() + self.policy.timeout_s
        request_headers = {"User-Agent": self.policy.user_agent, **headers}
        try:
            with self._client.stream("GET", url, headers=request_headers) as response:
                self._count(response.status_code)
                if response.status_code != 200:
                    return response.status_code, response.headers, b""
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes and not truncate:
                    raise FetchError("too_large", f"over {max_bytes} bytes")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        if truncate:
                            break
                        raise FetchError("too_large", f"over {max_bytes} bytes")
                    if self._clock() > deadline:
                        raise FetchError("timeout", "the response was too slow")
                return response.status_code, response.headers, bytes(body[:max_bytes])
        except UnsafeUrl as exc:  # the connection's own resolution failed the guard (transport.py)
            raise FetchError("unsafe_url", str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise FetchError("network", type(exc).__name__) from exc

    def _count(self, status: int) -> None:
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.not_modified += status == 304
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
