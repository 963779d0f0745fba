"""The guarded transport over a real socket: the crawler reaches a host only at the address its own
resolver checked (the fixture server on loopback, under a name the system DNS does not know)."""

from __future__ import annotations

from melody.discover.fetch import Fetcher, FetchError, FetchPolicy


def test_the_fetch_connects_through_the_checked_resolution(feeds):
    port = feeds.server_address[1]
    names = {"blog.test": ["127.0.0.1"]}
    fetcher = Fetcher(FetchPolicy(allow_loopback=True, min_host_delay_s=0), resolver=lambda host, p: names[host])
    try:
        result = fetcher.fetch(f"http://blog.test:{port}/rss.xml")
        assert result.status == 200 and b"<rss" in result.body
        assert feeds.hits["/rss.xml"] == 1 and feeds.hits["/robots.txt"] == 1
    finally:
        fetcher.close()


def test_a_name_rebinding_to_loopback_after_the_check_never_reaches_the_server(feeds):
    port = feeds.server_address[1]
    calls: list[str] = []

    def rebinding(host: str, p: int) -> list[str]:
        calls.append(host)
        # Public for the guard's checks; loopback once a connection is made (every 2nd lookup here:
        # check_fetchable for the URL/robots, then the transport's own lookup when it connects).
        return ["127.0.0.1"] if len(calls) % 2 == 0 else ["93.184.215.14"]

    fetcher = Fetcher(FetchPolicy(allow_loopback=False, min_host_delay_s=0), resolver=rebinding)
    try:
        try:
            fetcher.fetch(f"http://rebind.test:{port}/rss.xml")
        except FetchError as exc:
            assert exc.code in ("unsafe_url", "robots_disallowed")
        else:
            raise AssertionError("a rebinding name was fetched")
        assert sum(feeds.hits.values()) == 0  # not one request reached the loopback server
    finally:
        fetcher.close()
