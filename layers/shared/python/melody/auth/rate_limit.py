"""Sliding-window rate limits from two fixed-window counters (the current and the previous window).

A plain fixed window lets twice the limit through around a window edge (5 at 10:59:59 and 5 more
at 11:00:00 for "5 per hour"). The sliding-window counter estimates the events in the last
``window_s`` seconds as ``previous * (1 - elapsed) + current``, with ``elapsed`` the fraction of the
current window gone, and admits an event only while that estimate stays within the limit. The
previous window is closed, so only the current counter needs an atomic conditional increment: the
caller increments it under ``count < current_cap(...)``.
"""

from __future__ import annotations

import ipaddress
import math


def window_index(now: float, window_s: int) -> int:
    return math.floor(now / window_s)


def elapsed_fraction(now: float, window_s: int) -> float:
    return now / window_s - window_index(now, window_s)


def current_cap(limit: int, previous: int, now: float, window_s: int) -> int:
    """How many events the current window may hold before the next one must wait."""
    carried = previous * (1.0 - elapsed_fraction(now, window_s))
    return max(0, math.floor(limit - carried + 1e-9))


def retry_after(limit: int, previous: int, current: int, now: float, window_s: int) -> int:
    """Whole seconds until one more event fits (at least 1)."""
    index, frac = window_index(now, window_s), elapsed_fraction(now, window_s)
    room = limit - current - 1  # what the previous window's carried share must shrink to
    if current < limit and previous > 0 and room >= 0:
        needed = 1.0 - room / previous  # elapsed fraction at which previous * (1 - f) <= room
        wait = (needed - frac) * window_s
    else:
        # Not within this window: at the next one, this window's count becomes the carried share.
        needed = 1.0 - (limit - 1) / current if current > 0 and limit > 0 else 0.0
        wait = (index + 1 - now / window_s) * window_s + max(0.0, needed) * window_s
    return max(1, math.ceil(wait))


def over_limit(limit: int, previous: int, current: int, now: float, window_s: int) -> bool:
    """Whether the estimate already reaches the limit (no event counted)."""
    return current >= current_cap(limit, previous, now, window_s)


def address_bucket(ip: str) -> str:
    """The unit a per-IP limit counts: an IPv4 address, or an IPv6 address's /64.

    One subscriber usually holds a whole IPv6 /64 and can pick any address in it, so counting single
    IPv6 addresses would let one phone rotate past the per-IP limits.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is an IPv4 caller
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
