"""The crawler's transport connects to the address the SSRF guard checked, never to a second DNS
answer (DNS rebinding), and the Fetcher uses it by default."""

from __future__ import annotations

import httpcore
import httpx
import pytest

from melody.discover.fetch import Fetcher, FetchPolicy
from melody.discover.transport import PinnedBackend, guarded_transport
from melody.discover.urls import UnsafeUrl, check_fetchable

PUBLIC = "93.184.215.14"


class FakeBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001
        self.connected.append((host, port))
        raise httpcore.ConnectError("fake: no network in unit tests")


def rebinding(*answers: list[str]):
    """A resolver whose answer changes on each call, as a rebinding DNS server's does."""
    calls = iter(answers)
    return lambda host, port: next(calls)


def test_the_connection_goes_to_the_checked_address_not_the_name():
    inner = FakeBackend()
    backend = PinnedBackend(allow_loopback=False, resolver=lambda h, p: [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"], inner=inner)
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("blog.example", 443)
    assert inner.connected == [(PUBLIC, 443)]


@pytest.mark.parametrize("private", ["169.254.169.254", "10.0.0.5", "127.0.0.1", "::1", "::ffff:192.168.1.1"])
def test_a_name_that_rebinds_to_a_private_address_after_the_check_is_refused(private):
    inner = FakeBackend()
    resolver = rebinding([PUBLIC], [private])
    check_fetchable("http://rebind.example/feed.xml", resolver=resolver)  # the check sees a public address
    backend = PinnedBackend(allow_loopback=False, resolver=resolver, inner=inner)
    with pytest.raises(UnsafeUrl):
        backend.connect_tcp("rebind.example", 80)  # the connection's own answer is checked again
    assert inner.connected == []


def test_loopback_only_where_allowed_and_never_unix_sockets():
    inner = FakeBackend()
    allowed = PinnedBackend(allow_loopback=True, resolver=lambda h, p: ["127.0.0.1"], inner=inner)
    with pytest.raises(httpcore.ConnectError):
        allowed.connect_tcp("blog.test", 8080)
    assert inner.connected == [("127.0.0.1", 8080)]
    with pytest.raises(UnsafeUrl):
        allowed.connect_unix_socket("/var/run/docker.sock")


def test_the_fetcher_builds_its_client_on_the_guarded_transport():
    fetcher = Fetcher(FetchPolicy(allow_loopback=False))
    try:
        transport = fetcher._client._transport  # noqa: SLF001
        assert isinstance(transport, httpx.HTTPTransport)
        pool = transport._pool  # noqa: SLF001 - fails loudly if an httpx upgrade moves the pool
        assert isinstance(pool, httpcore.ConnectionPool)
        assert isinstance(pool._network_backend, PinnedBackend) and pool._network_backend.allow_loopback is False  # noqa: SLF001
    finally:
        fetcher.close()
    assert isinstance(guarded_transport(allow_loopback=True)._pool._network_backend, PinnedBackend)  # noqa: SLF001
