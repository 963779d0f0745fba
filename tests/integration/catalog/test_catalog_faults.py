"""Fault injection: PostgreSQL stops answering, the catalog routes answer 503, then recover alone.

The services reach PostgreSQL through a TCP proxy on loopback that the test can cut (every open
connection closed, new ones refused), turn silent (connections accepted, nothing forwarded) and
restore; no real server is stopped. No restart in between: the same app and executor serve the
requests before, during and after the outage.
"""

from __future__ import annotations

import socket
import threading
import uuid

import pytest

pytestmark = pytest.mark.integration

TUM_HI_HO = "trk_722773a7d7ce"


class FaultyProxy:
    """A TCP proxy on 127.0.0.1 to ``upstream``: ``cut()``, ``silence()`` and ``restore()``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "forward"  # or "refuse" (close at once) or "silent" (accept, never answer)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, name="faulty-proxy", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                mode = self.mode
                self._open.add(client)
            if mode == "refuse":
                self._close(client)
            elif mode == "forward":
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    self._close(client)
                    continue
                server.settimeout(None)
                with self._lock:
                    self._open.add(server)
                threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
            # "silent": keep the socket open and read nothing; cut()/restore()/close() close it

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _close_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """PostgreSQL gone: every open connection reset, new ones closed at once."""
        with self._lock:
            self.mode = "refuse"
        self._close_all()

    def silence(self) -> None:
        """PostgreSQL unreachable: open connections dropped, new ones accepted but never answered."""
        with self._lock:
            self.mode = "silent"
        self._close_all()

    def restore(self) -> None:
        with self._lock:
            self.mode = "forward"
        self._close_all()  # a silent connection would otherwise hang its client

    def close(self) -> None:
        self._listener.close()
        self._close_all()


@pytest.fixture()
def proxy(database_url: str):
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(database_url)
    upstream = (str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432))
    if upstream[0].startswith("/"):
        pytest.skip("DATABASE_URL is a Unix socket: this test proxies TCP")
    faulty = FaultyProxy(upstream)
    yield faulty
    faulty.close()


@pytest.fixture()
def proxied_executor(database_url: str, catalog_schema: str, seeded_catalog, proxy: FaultyProxy):
    """The catalog's psycopg executor, through the proxy (a short connect timeout for the silent case)."""
    from psycopg.conninfo import make_conninfo

    from melody.core.sql.executor import PsycopgExecutor

    executor = PsycopgExecutor(
        make_conninfo(database_url, host="127.0.0.1", port=proxy.port), schema=catalog_schema, connect_timeout=2
    )
    yield executor
    executor.close()


@pytest.fixture()
def services(dev_settings, sms, catalog_schema, proxied_executor, providers):
    """The catalog conftest's services, with the catalog behind the proxy."""
    from melody.catalog.providers.cache import bind_search_cache_model
    from melody.core.services import Services

    settings = dev_settings.model_copy(
        update={"catalog_db_schema": catalog_schema, "provider_secret_id": None}
    )
    bind_search_cache_model(settings)
    return Services(settings, sms_sender=sms, executor=proxied_executor, providers=providers)


@pytest.fixture()
def headers(user_headers):
    return user_headers("usr_" + uuid.uuid4().hex[:24])


def search(client, headers, q="tum hi ho"):
    return client.get("/api/v1/music/search", params={"q": q}, headers=headers)


def track(client, headers, track_id=TUM_HI_HO):
    return client.get(f"/api/v1/music/track/{track_id}", headers=headers)


def assert_catalog_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "catalog_unavailable"
    assert "Traceback" not in response.text and "psycopg" not in response.text


def assert_serving(client, headers) -> None:
    found = search(client, headers)
    assert found.status_code == 200, found.text
    assert found.json()["items"][0]["id"] == TUM_HI_HO
    details = track(client, headers)
    assert details.status_code == 200, details.text
    assert details.json()["id"] == TUM_HI_HO


def test_postgres_going_away_is_a_503_and_the_routes_recover_without_a_restart(client, headers, proxy):
    assert_serving(client, headers)  # the pool now holds live connections through the proxy

    proxy.cut()
    # The first requests meet pooled connections the proxy has just reset, then new ones are refused.
    for _ in range(3):
        assert_catalog_unavailable(search(client, headers))
        assert_catalog_unavailable(track(client, headers))

    proxy.restore()
    assert_serving(client, headers)
    assert_serving(client, headers)


def test_an_unreachable_postgres_is_a_503_within_the_connect_timeout(client, headers, proxy):
    assert_serving(client, headers)

    proxy.silence()  # open connections dropped; new ones hang until the executor's connect timeout
    assert_catalog_unavailable(search(client, headers))
    assert_catalog_unavailable(track(client, headers))

    proxy.restore()
    assert_serving(client, headers)


def test_connections_dropped_while_idle_cost_no_failed_request(client, headers, proxy, proxied_executor):
    """A server restarted while the pool sat idle: the idle check finds the dead connections."""
    proxied_executor._ping_after_s = 0.0  # check every idle connection before use (default: after 10 s)
    assert_serving(client, headers)

    proxy.cut()
    proxy.restore()  # nothing asked in between: the pool still holds the connections the cut reset

    assert_serving(client, headers)
