"""Plans' limits: per-second windows, the monthly quota, the IETF RateLimit headers, Retry-After."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from melody.core.errors import RateLimited
from melody.developer.rate_limit import Admission, rate_headers, seconds_to_month_end
from tests.unit.developer.fakes_keys import MovableClock, developer_service


def test_calls_within_the_rate_are_admitted_with_decreasing_remaining():
    clock = MovableClock(1_780_000_000.25)
    service, _, _ = developer_service(clock=clock, free_rate=3)
    record, _ = service.create_key("usr_a", name="app", plan="free")
    seen = [service.admit(record) for _ in range(3)]
    assert [a.remaining for a in seen] == [2, 1, 0]
    assert all(a.admitted and a.limit == 3 and a.reset_s == 1 for a in seen)
    assert rate_headers(seen[0]) == {"RateLimit-Limit": "3", "RateLimit-Remaining": "2", "RateLimit-Reset": "1"}


def test_over_the_rate_is_429_with_headers_and_the_next_second_is_fresh():
    clock = MovableClock(1_780_000_000.5)
    service, _, _ = developer_service(clock=clock, free_rate=2)
    record, _ = service.create_key("usr_a", name="app", plan="free")
    service.admit(record)
    service.admit(record)
    with pytest.raises(RateLimited) as err:
        service.admit(record)
    assert err.value.code == "rate_limited" and err.value.status == 429
    assert err.value.headers["Retry-After"] == "1"
    assert err.value.headers["RateLimit-Remaining"] == "0" and err.value.headers["RateLimit-Limit"] == "2"
    clock.t += 1
    assert service.admit(record).remaining == 1


def test_the_limit_is_per_key_not_per_user():
    service, _, _ = developer_service(free_rate=1)
    one, _ = service.create_key("usr_a", name="1", plan="free")
    two, _ = service.create_key("usr_a", name="2", plan="free")
    service.admit(one)
    service.admit(two)
    with pytest.raises(RateLimited):
        service.admit(one)


def test_the_monthly_quota_refuses_until_the_month_ends():
    clock = MovableClock(datetime(2026, 12, 31, 23, 59, 0, tzinfo=UTC).timestamp())
    service, _, meter = developer_service(clock=clock, free_rate=100, free_quota=3)
    record, _ = service.create_key("usr_a", name="app", plan="free")
    for _ in range(3):
        service.admit(record)
    with pytest.raises(RateLimited) as err:
        service.admit(record)
    assert err.value.code == "quota_exceeded" and err.value.headers["Retry-After"] == "60"
    assert meter.count_month(record.key_id, "2026-12") == 3
    clock.t += 61  # January: a new quota
    assert service.admit(record).admitted


def test_refused_calls_are_not_metered_as_usage():
    service, _, meter = developer_service(free_rate=1)
    record, _ = service.create_key("usr_a", name="app", plan="free")
    service.admit(record)
    with pytest.raises(RateLimited):
        service.admit(record)
    assert sum(row.calls for row in meter.days_.values()) == 1


def test_parallel_calls_never_exceed_the_rate():
    service, _, _ = developer_service(free_rate=5)
    record, _ = service.create_key("usr_a", name="app", plan="free")
    admitted, refused = [], []
    barrier = threading.Barrier(20)

    def call() -> None:
        barrier.wait()
        try:
            admitted.append(service.admit(record))
        except RateLimited:
            refused.append(1)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 5 and len(refused) == 15


def test_month_end_arithmetic():
    assert seconds_to_month_end(datetime(2026, 2, 28, 23, 0, tzinfo=UTC).timestamp()) == 3600
    assert seconds_to_month_end(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) == 1


def test_refused_headers_carry_retry_after():
    refused = Admission(False, 10, 0, 7, "quota")
    assert rate_headers(refused)["Retry-After"] == "7" and rate_headers(refused)["RateLimit-Reset"] == "7"


def test_usage_date_range_defaults_and_refusals():
    from datetime import date

    from melody.core.errors import InvalidInput
    from melody.developer.usage import day_range, fill_days

    today = date(2026, 12, 6)
    assert day_range(None, None, today=today) == (date(2026, 11, 7), today)
    assert day_range(date(2026, 1, 1), date(2026, 12, 31), today=today)[1] == date(2026, 12, 31)
    for first, last in ((date(2026, 2, 1), date(2026, 1, 1)), (date(2024, 1, 1), date(2026, 1, 1)), (None, date(1, 1, 5))):
        with pytest.raises(InvalidInput) as err:
            day_range(first, last, today=today)
        assert err.value.code == "invalid_date_range"
    assert fill_days([], date(2026, 1, 30), date(2026, 2, 1)) == [("2026-01-30", 0, 0), ("2026-01-31", 0, 0), ("2026-02-01", 0, 0)]
