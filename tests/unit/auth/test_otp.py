from __future__ import annotations

import collections

import pytest

from melody.auth.otp import OtpPolicy, OtpService, code_mac, generate_code
from melody.core.errors import Gone, InvalidInput, NotFound, RateLimited, Unauthorized
from tests.unit.auth.fakes import FakeClock, MemoryChallenges, MemoryLimiter, RecordingSender

KEY = b"k" * 32


def make_service(**policy):
    store, limiter, sender, clock = MemoryChallenges(), MemoryLimiter(), RecordingSender(), FakeClock()
    service = OtpService(store, limiter, sender, clock, hmac_key=KEY, policy=OtpPolicy(**policy))
    return service, store, sender, clock


def test_codes_are_six_digits_and_every_digit_occurs_in_every_position():
    codes = [generate_code() for _ in range(5000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    for position in range(6):
        counts = collections.Counter(c[position] for c in codes)
        assert set(counts) == set("0123456789")
        # Uniform: each digit near 10 % (5000 draws → 500 expected; 6 sigma is about 127).
        assert all(370 < n < 630 for n in counts.values()), counts


def test_only_an_hmac_of_the_code_is_stored():
    service, store, sender, _ = make_service()
    issued = service.request("98765 43210", None, "1.2.3.4")
    (_, code), = sender.sent
    stored = store.items[issued.challenge_id]
    assert code not in stored.model_dump_json()
    assert stored.code_mac == code_mac(KEY, issued.challenge_id, code)


def test_request_normalises_to_e164_with_india_default():
    service, _, sender, _ = make_service()
    issued = service.request("098765 43210", None, "1.2.3.4")
    assert issued.phone_e164 == "+919876543210"
    assert sender.sent[0][0] == "+919876543210"


def test_verify_succeeds_once_then_is_gone():
    service, _, sender, _ = make_service()
    issued = service.request("9876543210", None, "ip")
    code = sender.sent[-1][1]
    assert service.verify(issued.challenge_id, code) == "+919876543210"
    with pytest.raises(Gone) as exc:
        service.verify(issued.challenge_id, code)
    assert exc.value.code == "otp_already_used"


def test_expired_code_is_refused():
    service, _, sender, clock = make_service(ttl_s=300)
    issued = service.request("9876543210", None, "ip")
    clock.advance(301)
    with pytest.raises(Gone) as exc:
        service.verify(issued.challenge_id, sender.sent[-1][1])
    assert exc.value.code == "otp_expired"


def test_lifetime_is_capped_at_ten_minutes():
    with pytest.raises(ValueError):
        OtpPolicy(ttl_s=601)


def test_attempts_are_limited_and_the_right_code_is_then_refused():
    service, _, sender, _ = make_service(max_attempts=3)
    issued = service.request("9876543210", None, "ip")
    code = sender.sent[-1][1]
    wrong = "000000" if code != "000000" else "111111"
    remaining = []
    for _ in range(3):
        with pytest.raises(Unauthorized) as exc:
            service.verify(issued.challenge_id, wrong)
        remaining.append(exc.value.details["attempts_remaining"])
    assert remaining == [2, 1, 0]
    with pytest.raises(RateLimited) as exc:
        service.verify(issued.challenge_id, code)
    assert exc.value.code == "otp_attempts_exceeded"


def test_unknown_challenge():
    service, *_ = make_service()
    with pytest.raises(NotFound):
        service.verify("otp_doesnotexist", "123456")


def test_resend_interval_and_hourly_limit_per_number():
    service, _, _, clock = make_service(resend_after_s=30, per_number_per_hour=3)
    service.request("9876543210", None, "a")
    with pytest.raises(RateLimited) as exc:
        service.request("9876543210", None, "b")
    assert exc.value.code == "otp_resend_too_soon"
    assert 1 <= exc.value.retry_after_s <= 31
    assert exc.value.headers["Retry-After"] == str(exc.value.retry_after_s)
    clock.advance(31)
    service.request("9876543210", None, "c")
    clock.advance(31)
    service.request("9876543210", None, "d")
    clock.advance(31)
    with pytest.raises(RateLimited):
        service.request("9876543210", None, "e")


def test_per_ip_limit_spans_numbers():
    service, *_ = make_service(per_ip_per_minute=2)
    service.request("9876543210", None, "9.9.9.9")
    service.request("9876543211", None, "9.9.9.9")
    with pytest.raises(RateLimited):
        service.request("9876543212", None, "9.9.9.9")
    service.request("9876543212", None, "8.8.8.8")


@pytest.mark.parametrize("raw", ["12", "abcdefgh", "+91 12345", "0000000000"])
def test_invalid_numbers_are_refused(raw):
    service, *_ = make_service()
    with pytest.raises(InvalidInput) as exc:
        service.request(raw, None, "ip")
    assert exc.value.code == "invalid_phone_number"
    assert exc.value.status == 422
