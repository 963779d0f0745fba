"""Sliding-window limits and cooldowns: no double burst at a window edge, honest Retry-After."""

from __future__ import annotations

import pytest

from melody.auth import rate_limit
from melody.auth.otp import RateLimited
from tests.unit.auth.fakes import MemoryLimiter
from tests.unit.auth.test_otp import make_service

HOUR = 3600
EDGE = 1_800_000_000.0  # a multiple of 3600 and of 30: a window starts here


def test_a_full_window_carries_into_the_next_one():
    assert rate_limit.current_cap(5, previous=0, now=EDGE, window_s=HOUR) == 5
    assert rate_limit.current_cap(5, previous=5, now=EDGE + 1, window_s=HOUR) == 0  # just after the edge
    assert rate_limit.current_cap(5, previous=5, now=EDGE + HOUR / 2, window_s=HOUR) == 2  # 5 * 0.5 carried
    assert rate_limit.current_cap(5, previous=5, now=EDGE + HOUR - 1, window_s=HOUR) == 4


def test_no_double_burst_at_the_window_edge():
    limiter = MemoryLimiter()
    before = [limiter.hit("k", limit=5, window_s=HOUR, now=EDGE - 1) for _ in range(5)]
    after = [limiter.hit("k", limit=5, window_s=HOUR, now=EDGE + 1) for _ in range(5)]
    assert before == [None] * 5
    assert all(wait is not None for wait in after)  # a fixed window would have let all five through


@pytest.mark.parametrize(("previous", "current", "offset"), [(5, 0, 1), (5, 2, 1800), (0, 5, 10), (3, 2, 100), (2, 4, 5)])
def test_retry_after_is_when_the_next_event_fits(previous, current, offset):
    now = EDGE + offset
    assert rate_limit.over_limit(5, previous, current, now, HOUR)  # a refused event
    wait = rate_limit.retry_after(5, previous, current, now, HOUR)
    later = now + wait
    # At `later`, the counts as they will then be (a window may have rolled over) admit one event.
    if rate_limit.window_index(later, HOUR) == rate_limit.window_index(now, HOUR):
        assert current < rate_limit.current_cap(5, previous, later, HOUR)
        assert current >= rate_limit.current_cap(5, previous, later - 2, HOUR)  # and not much sooner
    else:
        assert 0 < rate_limit.current_cap(5, current, later, HOUR)


def test_cooldown_is_exact_across_a_window_edge():
    # A fixed 30 s window let a second code through 0.2 s after the first at the edge.
    service, _, sender, clock = make_service(resend_after_s=30)
    clock.t = EDGE - 0.1
    service.request("9876543210", None, "a")
    clock.advance(0.2)
    with pytest.raises(RateLimited) as exc:
        service.request("9876543210", None, "b")
    assert exc.value.code == "otp_resend_too_soon" and exc.value.retry_after_s == 30
    clock.advance(29.9)
    service.request("9876543210", None, "c")
    assert len(sender.sent) == 2


def test_tapping_resend_too_soon_does_not_use_up_the_hourly_codes():
    service, _, sender, clock = make_service(resend_after_s=30, per_number_per_hour=3)
    service.request("9876543210", None, "ip-0")
    for i in range(10):
        with pytest.raises(RateLimited) as exc:
            service.request("9876543210", None, f"ip-{i + 1}")
        assert exc.value.code == "otp_resend_too_soon"
    clock.advance(31)
    service.request("9876543210", None, "ip-11")
    assert len(sender.sent) == 2


def test_ipv6_callers_are_counted_per_64_and_ipv4_per_address():
    assert rate_limit.address_bucket("2001:db8:1:2:aaaa::1") == rate_limit.address_bucket("2001:db8:1:2:ffff::9")
    assert rate_limit.address_bucket("2001:db8:1:2::1") != rate_limit.address_bucket("2001:db8:1:3::1")
    assert rate_limit.address_bucket("203.0.113.7") == "203.0.113.7"
    assert rate_limit.address_bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert rate_limit.address_bucket("testclient") == "testclient"


def test_rotating_ipv6_addresses_inside_one_64_does_not_escape_the_per_ip_limit():
    service, _, sender, _ = make_service(per_ip_per_minute=2, resend_after_s=0)
    service.request("9876543210", None, "2001:db8:1:2::1")
    service.request("9876543211", None, "2001:db8:1:2::2")
    with pytest.raises(RateLimited):
        service.request("9876543212", None, "2001:db8:1:2::3")
    service.request("9876543212", None, "2001:db8:1:9::3")  # another subscriber's /64
    assert len(sender.sent) == 3


def test_tapping_resend_too_soon_does_not_use_up_the_shared_per_ip_allowance():
    service, _, sender, clock = make_service(resend_after_s=30, per_ip_per_minute=2)
    service.request("9876543210", None, "100.64.0.1")  # carrier NAT: many people, one address
    for _ in range(5):
        with pytest.raises(RateLimited) as exc:
            service.request("9876543210", None, "100.64.0.1")
        assert exc.value.code == "otp_resend_too_soon"
    service.request("9876543299", None, "100.64.0.1")  # someone else behind the same NAT still gets a code
    assert len(sender.sent) == 2
