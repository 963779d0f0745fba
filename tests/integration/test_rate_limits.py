"""DynamoRateLimiter on moto's DynamoDB: the sliding window and the cooldown, as the domain expects."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

HOUR = 3600
EDGE = 1_800_000_000.0  # a window starts here


@pytest.fixture()
def limiter(services):
    from melody.auth.dynamodb import DynamoRateLimiter

    _ = services.otp  # binds the PynamoDB models to the session's tables
    return DynamoRateLimiter()


def test_no_double_burst_at_the_window_edge(limiter):
    key = "test:" + uuid.uuid4().hex
    assert [limiter.hit(key, limit=5, window_s=HOUR, now=EDGE - 1) for _ in range(5)] == [None] * 5
    assert limiter.hit(key, limit=5, window_s=HOUR, now=EDGE - 1) is not None
    wait = limiter.hit(key, limit=5, window_s=HOUR, now=EDGE + 1)
    assert wait is not None and wait >= 1
    assert limiter.blocked(key, limit=5, window_s=HOUR, now=EDGE + 1) is not None
    assert limiter.hit(key, limit=5, window_s=HOUR, now=EDGE + 1 + wait) is None  # Retry-After is honest


def test_cooldown_claims_once_and_says_how_long(limiter):
    key = "test:" + uuid.uuid4().hex
    assert limiter.cooldown_wait(key, now=EDGE - 0.1) is None
    assert limiter.cooldown(key, seconds=30, now=EDGE - 0.1) is None
    assert limiter.cooldown_wait(key, now=EDGE + 0.1) == 30  # looking claims nothing ...
    assert limiter.cooldown(key, seconds=30, now=EDGE + 0.1) == 30
    assert limiter.cooldown(key, seconds=30, now=EDGE + 29.9) is None


def test_counters_and_cooldowns_store_no_raw_keys(limiter, dev_settings):
    import boto3

    key = "otp-resend:+919876543210-" + uuid.uuid4().hex
    limiter.cooldown(key, seconds=30, now=EDGE)
    limiter.hit(key, limit=5, window_s=HOUR, now=EDGE)
    client = boto3.client("dynamodb", endpoint_url=dev_settings.dynamodb_endpoint_url, region_name=dev_settings.aws_region)
    items = client.scan(TableName=dev_settings.rate_limit_table)["Items"]
    assert items and not any("+91" in str(item) for item in items)


def test_release_gives_back_one_counted_event_and_never_goes_below_zero(limiter):
    key = "test:" + uuid.uuid4().hex
    assert limiter.hit(key, limit=1, window_s=HOUR, now=EDGE + 5) is None
    assert limiter.hit(key, limit=1, window_s=HOUR, now=EDGE + 6) is not None  # full
    limiter.release(key, window_s=HOUR, now=EDGE + 5)
    assert limiter.blocked(key, limit=1, window_s=HOUR, now=EDGE + 7) is None  # the slot is free again
    limiter.release(key, window_s=HOUR, now=EDGE + 5)  # a second give-back finds nothing to give
    limiter.release("test:" + uuid.uuid4().hex, window_s=HOUR, now=EDGE)  # nor does one never counted
    assert [limiter.hit(key, limit=1, window_s=HOUR, now=EDGE + 8) for _ in range(2)][1] is not None


def test_parallel_give_backs_are_exact(limiter):
    import concurrent.futures

    key = "test:" + uuid.uuid4().hex
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda _: limiter.hit(key, limit=50, window_s=HOUR, now=EDGE + 1), range(20))) == [None] * 20
        list(pool.map(lambda _: limiter.release(key, window_s=HOUR, now=EDGE + 1), range(12)))
    # 20 counted, 12 given back: 8 left, so 42 more fit under 50 and the 43rd does not.
    results = [limiter.hit(key, limit=50, window_s=HOUR, now=EDGE + 2) for _ in range(43)]
    assert results[:42] == [None] * 42 and results[42] is not None


def test_release_cooldown_frees_only_the_claim_it_made(limiter):
    key = "test:" + uuid.uuid4().hex
    assert limiter.cooldown(key, seconds=30, now=EDGE) is None
    limiter.release_cooldown(key, seconds=30, now=EDGE + 1)  # not this claim (another request's): kept
    assert limiter.cooldown_wait(key, now=EDGE + 2) == 28
    limiter.release_cooldown(key, seconds=30, now=EDGE)
    assert limiter.cooldown_wait(key, now=EDGE + 2) is None
    assert limiter.cooldown(key, seconds=30, now=EDGE + 2) is None
    limiter.release_cooldown("test:" + uuid.uuid4().hex, seconds=30, now=EDGE)  # nothing claimed: no-op
