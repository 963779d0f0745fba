"""URLs the crawler may fetch (SSRF guard) and the canonical form posts are de-duplicated by."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["UnsafeUrl", "canonical_url", "check_fetchable", "checked_addresses", "is_http_url"]

# Query parameters that only say where a click came from: two links differing in them are one post.
_TRACKING = frozenset(
    "fbclid gclid dclid msclkid yclid igshid mc_cid mc_eid _ga _gl ref ref_src ref_url spm si "
    "cmpid icid ncid oly_enc_id oly_anon_id vero_id wickedid __s _hsenc _hsmi share".split()
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], list[str]]


class UnsafeUrl(ValueError):
    """A URL the crawler refuses: not http(s), or a host that resolves to a private address."""


def is_http_url(url: str) -> bool:
    """An http(s) URL with a real host name: no control characters, no unpaired surrogates, a host
    that IDNA can encode (anything else would fail later, in the id hash or the database)."""
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in url):
        return False
    try:
        url.encode("utf-8")
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
        if not host or parts.scheme not in ("http", "https"):
            return False
        host.encode("idna")
    except (ValueError, UnicodeError):
        return False
    return True


def canonical_url(url: str) -> str:
    """Scheme and host lowercased, default port and fragment dropped, tracking parameters
    (``utm_*`` and friends) removed and the rest sorted, so re-shared links are one post."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def _resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_fetchable(url: str, *, allow_loopback: bool = False, resolver: Resolver = _resolve) -> None:
    """Raise :class:`UnsafeUrl` unless ``url`` is http(s) to public addresses only.

    Every address the host resolves to must be global: no private, loopback, link-local (cloud
    metadata at 169.254.169.254), multicast or reserved ranges. ``allow_loopback`` (the local stack
    and tests only) admits loopback, never the other private ranges.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("only http and https URLs are crawled")
    if parts.username or parts.password:
        raise UnsafeUrl("URLs with credentials are not crawled")
    checked_addresses(parts.hostname, port, allow_loopback=allow_loopback, resolver=resolver)


def checked_addresses(host: str, port: int, *, allow_loopback: bool = False, resolver: Resolver = _resolve) -> list[str]:
    """The addresses ``host`` resolves to, all of them checked (see :func:`check_fetchable`).

    The crawler's transport connects to one of these very addresses (``melody.discover.transport``),
    so a name cannot resolve to a public address for the check and a private one for the connection.
    """
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise UnsafeUrl("the host does not resolve") from exc
    if not addresses:
        raise UnsafeUrl("the host does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback and allow_loopback:
            continue
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl("the host is a private or reserved address")
    return addresses
