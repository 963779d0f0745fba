"""What checking an API key and counting its plan's limits costs per B2B call, and that the counting
holds under parallel calls.

    .venv/bin/python benchmarks/api_keys.py [--calls 300] [--threads 8]

Per call the developer API does: one strongly consistent GetItem of the key (by its HMAC), one
conditional ADD on the key's one-second window, one on its month, one ADD on its day (the last-used
time is written at most once a minute). Measured twice, as in benchmarks/auth_latency.py: with
in-memory stores (our code alone) and against moto's DynamoDB over loopback. Baseline in the same
run: one consistent GetItem on moto (the least any per-call key check costs) and the HMAC alone.
Parallel: ``--threads`` threads call as fast as they can for a few seconds on a 20/s plan; the
largest count admitted in any one second must not exceed 20.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
sys.path.insert(0, str(ROOT / "devtools"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def row(name: str, samples: list[float]) -> str:
    return f"| {name} | {statistics.median(samples):.3f} | {percentile(samples, 0.95):.3f} | {percentile(samples, 0.99):.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()

    from melody.core.errors import RateLimited
    from melody.core.services import Services
    from melody.developer import keys as keylib
    from melody.developer.dynamodb import ApiKeyModel
    from melody_dev.local.provision import provision
    from melody_dev.local.stack import build_dev_settings
    from melody_dev.local.standins import start_moto, use_fake_aws_credentials
    from tests.unit.developer.fakes_keys import developer_service

    big = {"plan_pro_rate_per_s": 1_000_000, "plan_pro_monthly_quota": 10**9, "developer_self_serve_plans": ["free", "pro"]}
    memory, _, _ = developer_service(free_rate=1_000_000, free_quota=10**9)
    _, mem_key = memory.create_key("usr_bench", name="bench", plan="free")

    use_fake_aws_credentials()
    server, url = start_moto()
    data = Path(tempfile.mkdtemp(prefix="melody-bench-keys-"))
    from melody.auth.key_file import ensure_local_key_file

    ensure_local_key_file(data / "signing-key.json")
    settings = build_dev_settings(data, dynamodb_url=url, s3_url=url, database_url=None).model_copy(update=big)
    provision(settings)
    developer = Services(settings).developer
    record, key = developer.create_key("usr_bench", name="bench", plan="pro")
    pepper = b"melody-dev-api-key-pepper"
    key_hash = keylib.hash_key(pepper, key)

    def memory_call() -> None:
        memory.admit(memory.authenticate(mem_key))

    def moto_call() -> None:
        developer.admit(developer.authenticate(key))

    for fn in (memory_call, moto_call):
        timed(fn, 20)  # warm up
    results = {
        "baseline: HMAC of the key only": timed(lambda: keylib.hash_key(pepper, key), args.calls),
        "baseline: one consistent GetItem (moto)": timed(lambda: ApiKeyModel.get(key_hash, consistent_read=True), args.calls),
        "key check + limits + usage, in-memory stores": timed(memory_call, args.calls),
        "key check + limits + usage, moto DynamoDB": timed(moto_call, args.calls),
    }
    print(f"\n## Per-call cost of API keys ({args.calls} serial calls, ms)")
    print("| path | p50 | p95 | p99 |\n|---|---:|---:|---:|")
    for name, samples in results.items():
        print(row(name, samples))

    # Parallel: a 20/s plan hammered by threads; count admissions per second window.
    limited = Services(settings.model_copy(update={"plan_free_rate_per_s": 20})).developer
    free, free_key = limited.create_key("usr_bench_par", name="par", plan="free")
    admitted: Counter[int] = Counter()
    refused = 0
    lock = threading.Lock()
    stop = time.time() + args.seconds

    def hammer() -> None:
        nonlocal refused
        while time.time() < stop:
            try:
                limited.admit(free)
                with lock:
                    admitted[int(time.time())] += 1
            except RateLimited:
                with lock:
                    refused += 1

    threads = [threading.Thread(target=hammer) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Admission is counted by the window the store saw; our clock read after it may land a few ms
    # later, so the strict check is on the store's own counters.
    from melody.developer.dynamodb import ApiUsageModel

    stored = [int(i.calls or 0) for i in ApiUsageModel.query(f"rate#{free.key_id}")]
    print(f"\n## Parallel admission on a 20/s plan ({args.threads} threads, {args.seconds:.0f} s)")
    print("| admitted | refused (429) | windows | largest window count (store) | limit |\n|---:|---:|---:|---:|---:|")
    print(f"| {sum(admitted.values())} | {refused} | {len(stored)} | {max(stored) if stored else 0} | 20 |")
    assert not stored or max(stored) <= 20, "a window admitted more than the plan allows"
    server.shutdown()


if __name__ == "__main__":
    main()
