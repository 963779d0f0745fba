"""Faults on the way to sending a code: the SMS provider down, the store down.

A code that does not go out answers 503 ``sms_unavailable`` and uses up none of the caller's limits
(per number per hour, resend cooldown, per IP per minute and per hour): each limit is claimed by an
atomic write and handed back when the send fails.
"""

from __future__ import annotations

import pytest

from melody.auth.otp import OtpPolicy, OtpService
from melody.core.errors import RateLimited, ServiceUnavailable
from tests.unit.auth.fakes import FailingSender, FakeClock, MemoryChallenges, MemoryLimiter, RecordingSender

KEY = b"k" * 32
# Every limit at one: any request the failed send had counted would be refused.
TIGHT = OtpPolicy(per_number_per_hour=1, per_ip_per_minute=1, per_ip_per_hour=1, resend_after_s=30)


class SwitchableSender:
    """Down until ``up`` is set, then it records like RecordingSender."""

    def __init__(self, error: Exception | None = None) -> None:
        self.down = FailingSender(error)
        self.working = RecordingSender()
        self.up = False

    def send_otp(self, phone_e164: str, code: str) -> None:
        (self.working if self.up else self.down).send_otp(phone_e164, code)


def make(sender, *, store=None, policy=TIGHT):
    limiter, clock = MemoryLimiter(), FakeClock()
    service = OtpService(store or MemoryChallenges(), limiter, sender, clock, hmac_key=KEY, policy=policy)
    return service, limiter


def test_a_failed_send_is_503_sms_unavailable_and_uses_up_no_limit():
    sender = SwitchableSender()
    service, limiter = make(sender)
    for _ in range(3):  # retrying while the provider is down is never refused by a limit
        with pytest.raises(ServiceUnavailable) as exc:
            service.request("9876543210", None, "1.2.3.4")
        assert exc.value.status == 503 and exc.value.code == "sms_unavailable"
    assert len(sender.down.attempts) == 3
    assert not any(limiter.counts.values()) and not limiter.until  # every claim was handed back

    sender.up = True  # the provider is back: the first request after it goes out at once
    issued = service.request("9876543210", None, "1.2.3.4")
    assert sender.working.sent == [(issued.phone_e164, sender.working.sent[0][1])]
    with pytest.raises(RateLimited) as refused:  # and the limits hold again
        service.request("9876543210", None, "1.2.3.4")
    assert refused.value.code == "otp_resend_too_soon"


def test_an_unexpected_sender_error_is_sms_unavailable_without_the_providers_words():
    service, limiter = make(FailingSender(RuntimeError("provider said: secret-api-key-123 rejected")))
    with pytest.raises(ServiceUnavailable) as exc:
        service.request("9876543210", None, "1.2.3.4")
    assert exc.value.code == "sms_unavailable"
    assert "secret-api-key" not in str(exc.value.to_body())
    assert not any(limiter.counts.values()) and not limiter.until


def test_a_store_failure_hands_the_claims_back_too():
    class DownStore(MemoryChallenges):
        def create(self, challenge):
            raise ServiceUnavailable("busy", code="temporarily_unavailable")

    sender = RecordingSender()
    service, limiter = make(sender, store=DownStore())
    with pytest.raises(ServiceUnavailable) as exc:
        service.request("9876543210", None, "1.2.3.4")
    assert exc.value.code == "temporarily_unavailable" and sender.sent == []
    assert not any(limiter.counts.values()) and not limiter.until


def test_a_refused_request_keeps_the_per_ip_counts_it_passed():
    """Only a failed send gives claims back: a request the number's limit refuses still counts against
    its address, so spraying numbers from one address is slowed down as before."""
    policy = OtpPolicy(per_number_per_hour=1, per_ip_per_minute=10, per_ip_per_hour=10, resend_after_s=0)
    service, limiter = make(RecordingSender(), policy=policy)
    service.request("9876543210", None, "1.2.3.4")
    with pytest.raises(RateLimited):
        service.request("9876543210", None, "1.2.3.4")
    ip_counts = [n for key, n in limiter.counts.items() if key.startswith("otp-ip-")]
    assert ip_counts == [2, 2]


def test_a_give_back_that_fails_does_not_hide_the_send_failure():
    class StuckLimiter(MemoryLimiter):
        def release(self, key, *, window_s, now):
            raise ServiceUnavailable("busy", code="temporarily_unavailable")

    service = OtpService(MemoryChallenges(), StuckLimiter(), FailingSender(), FakeClock(), hmac_key=KEY, policy=TIGHT)
    with pytest.raises(ServiceUnavailable) as exc:
        service.request("9876543210", None, "1.2.3.4")
    assert exc.value.code == "sms_unavailable"
