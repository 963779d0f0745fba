"""The crawler's httpx transport: it connects only to an address the SSRF guard has just accepted.

httpx resolves a host name again when it connects, after :func:`melody.discover.urls.check_fetchable`
resolved it for the check; a name whose DNS answer changes between the two (DNS rebinding: public for
the check, 169.254.169.254 or 10.x for the connection) would slip past the guard. Here the network
backend resolves once, checks every address and connects to the first of them, so what is checked is
what is connected to. TLS still verifies the certificate against the host name (httpcore passes the
origin's name as SNI and for verification, whatever address the socket uses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from melody.discover.urls import UnsafeUrl, _resolve, checked_addresses

if TYPE_CHECKING:
    from collections.abc import Iterable

    from melody.discover.urls import Resolver

__all__ = ["PinnedBackend", "guarded_transport"]


class PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, *, allow_loopback: bool, resolver: Resolver = _resolve, inner: httpcore.NetworkBackend | None = None) -> None:
        self.allow_loopback = allow_loopback
        self._resolver = resolver
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = checked_addresses(host, port, allow_loopback=self.allow_loopback, resolver=self._resolver)[0]
        return self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address, socket_options=socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise UnsafeUrl("the crawler connects to TCP hosts only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(*, allow_loopback: bool, resolver: Resolver = _resolve) -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` (no proxies from the environment) whose connections go through
    :class:`PinnedBackend`. httpx has no public hook for the network backend, so its connection pool
    is rebuilt with one; ``tests/unit/discover`` fails if an httpx upgrade moves that pool."""
    transport = httpx.HTTPTransport(retries=0)
    transport._pool = httpcore.ConnectionPool(  # noqa: SLF001 - see the docstring
        ssl_context=httpx.create_ssl_context(),
        max_connections=20,
        max_keepalive_connections=10,
        keepalive_expiry=5.0,
        http1=True,
        http2=False,
        network_backend=PinnedBackend(allow_loopback=allow_loopback, resolver=resolver),
    )
    return transport
