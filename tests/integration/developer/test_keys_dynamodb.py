"""Keys and limits on DynamoDB (moto's server): conditional ADDs under real concurrency, revocation,
the by_user index, usage per day, billing once per key."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from melody.core.errors import RateLimited, Unauthorized

pytestmark = pytest.mark.integration


@pytest.fixture()
def developer(dev_settings):
    from melody.core.services import Services

    settings = dev_settings.model_copy(
        update={"plan_free_rate_per_s": 4, "plan_free_monthly_quota": 1000, "developer_self_serve_plans": ["free", "pro"]}
    )
    return Services(settings).developer


def test_parallel_hits_on_one_window_never_pass_the_limit(dev_settings):
    from melody.developer.dynamodb import DynamoUsageMeter, bind_developer_models

    bind_developer_models(dev_settings)
    meter = DynamoUsageMeter()
    barrier = threading.Barrier(16)

    def hit(_: int) -> int | None:
        barrier.wait()
        return meter.hit_second("key_parallel0000000", 1_780_000_000, limit=5)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(hit, range(16)))
    admitted = sorted(r for r in results if r is not None)
    assert admitted == [1, 2, 3, 4, 5]  # each admitted call saw its own count: no lost update
    assert results.count(None) == 11


def test_parallel_monthly_quota_is_exact(dev_settings):
    from melody.developer.dynamodb import DynamoUsageMeter, bind_developer_models

    bind_developer_models(dev_settings)
    meter = DynamoUsageMeter()
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: meter.hit_month("key_quota000000000", "2026-12", quota=7, user_id="usr_q"), range(24)))
    assert sum(r is not None for r in results) == 7
    assert meter.count_month("key_quota000000000", "2026-12") == 7


def test_admit_through_the_service_in_parallel_threads(developer):
    record, _ = developer.create_key("usr_par", name="app", plan="free")
    # align to the start of a second so all calls land in one window (and the test cannot be flaky)
    time.sleep(1 - time.time() % 1 + 0.01)
    barrier = threading.Barrier(10)
    admitted, refused = [], []

    def call(_: int) -> None:
        barrier.wait()
        try:
            admitted.append(developer.admit(record))
        except RateLimited as exc:
            refused.append(exc)

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(call, range(10)))
    # 10 calls start together within well under a second: at most one window boundary is crossed
    assert 4 <= len(admitted) <= 8 and len(admitted) + len(refused) == 10
    assert all(e.headers["Retry-After"] == "1" and e.headers["RateLimit-Remaining"] == "0" for e in refused)


def test_keys_listing_revocation_and_usage(developer):
    record, key = developer.create_key("usr_k1", name="first", plan="pro")
    other, other_key = developer.create_key("usr_k2", name="theirs", plan="free")
    assert [r.key_id for r in developer.list_keys("usr_k1")] == [record.key_id]
    authed = developer.authenticate(key)
    assert authed.key_id == record.key_id and authed.plan == "pro"
    developer.admit(authed)
    developer.admit(authed)
    developer.admit(developer.authenticate(other_key))
    first, last, usage = developer.usage("usr_k1", None, None)
    assert [u.record.key_id for u in usage] == [record.key_id] and usage[0].calls == 2
    assert usage[0].days[-1][1] == 2 and (last - first).days == 29
    developer.revoke_key("usr_k1", record.key_id)
    with pytest.raises(Unauthorized):
        developer.authenticate(key)  # the very next call: strongly consistent read
    assert developer.list_keys("usr_k1")[0].revoked_at is not None
    assert developer.authenticate(other_key).user_id == "usr_k2"


def test_each_audio_is_billed_once_per_key(developer):
    record, _ = developer.create_key("usr_bill", name="app", plan="free")
    job = developer.record_analyze_job(record, "job_bill0000000000000000", stems=False)
    assert developer.analyze_job(record, job.job_id).stems is False
    assert developer.bill_analysis(job, "c0ffee") is True
    assert developer.bill_analysis(job, "c0ffee") is False
    second, _ = developer.create_key("usr_bill", name="second", plan="free")
    job2 = developer.record_analyze_job(second, "job_bill0000000000000001", stems=True)
    assert developer.bill_analysis(job2, "c0ffee") is True  # another key pays once too
    _, _, usage = developer.usage("usr_bill", None, None)
    assert sorted(u.analyses for u in usage) == [1, 1]
