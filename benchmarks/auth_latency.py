"""Cold import time of each API function and warm latency of request-otp / verify-otp.

    .venv/bin/python benchmarks/auth_latency.py [--requests 300]

Targets (issue 2): import < 300 ms, warm p95 < 15 ms on a 2-core machine. Baselines in the same
run: importing boto3 alone (what every Python Lambda pays) and a no-op FastAPI route served the
same way (the framework's own floor). Latency is measured twice: with in-memory stores (our code
path alone) and against moto's DynamoDB over loopback (adds one HTTP round trip per write).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMPORT_SNIPPET = """
import sys, time
sys.path.insert(0, {path!r})
t = time.perf_counter()
import {module}
print((time.perf_counter() - t) * 1000)
"""


def cold_import_ms(module: str, path: str, runs: int = 5) -> float:
    env = {**os.environ, "MELODY_STAGE": "dev", "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "ap-south-1"}
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_SNIPPET.format(path=path, module=module)],
            capture_output=True, text=True, env=env, check=True,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_calls(fn, n: int) -> list[float]:
    samples = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def latency(services, n: int, sms) -> dict[str, list[float]]:
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from melody.api.app import create_app
    from melody.api.apps import full_app

    noop = APIRouter()
    noop.add_api_route("/noop", lambda: {"ok": True}, methods=["POST"])
    client = TestClient(full_app(services))
    baseline = TestClient(create_app(None, [noop]))
    phones = [f"9{i:09d}" for i in range(n)]
    challenges: list[str] = []

    def request(i: int) -> None:
        r = client.post("/api/v1/auth/request-otp", json={"phone_number": phones[i]})
        assert r.status_code == 202, r.text
        challenges.append(r.json()["challenge_id"])

    def verify(i: int) -> None:
        code = sms.codes[f"+91{phones[i]}"]
        r = client.post("/api/v1/auth/verify-otp", json={"challenge_id": challenges[i], "code": code})
        assert r.status_code == 200, r.text

    for _ in range(20):
        baseline.post("/api/v1/noop")
    return {
        "baseline: no-op route": time_calls(lambda i: baseline.post("/api/v1/noop"), n),
        "request-otp": time_calls(request, n),
        "verify-otp": time_calls(verify, n),
    }


class DictSender:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def send_otp(self, phone: str, code: str) -> None:
        self.codes[phone] = code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    print("## Cold import (median of 5 fresh interpreters), target < 300 ms")
    print(f"{'module':40} {'ms':>8}")
    rows = [("baseline: boto3", "boto3", str(ROOT)), ("baseline: fastapi", "fastapi", str(ROOT))]
    rows += [(f"functions/{a}/handler", "handler", str(ROOT / "functions" / a)) for a in ("auth", "users", "system")]
    for label, module, path in rows:
        ms = cold_import_ms(module, path)
        verdict = "" if label.startswith("baseline") else ("PASS" if ms < 300 else "FAIL")
        print(f"{label:40} {ms:8.1f} {verdict}")

    import tempfile

    from melody.auth.key_file import ensure_local_key_file
    from melody.core.services import Services
    from melody_dev.local.provision import provision
    from melody_dev.local.stack import build_dev_settings
    from melody_dev.local.standins import start_moto, use_fake_aws_credentials
    from tests.unit.auth import fakes

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    use_fake_aws_credentials()
    server, url = start_moto()
    data = Path(tempfile.mkdtemp())
    ensure_local_key_file(data / "signing-key.json")
    limits = {"otp_per_ip_per_minute": 10**6, "otp_per_ip_per_hour": 10**6}
    settings = build_dev_settings(data, dynamodb_url=url, s3_url=url, database_url=None).model_copy(update=limits)
    provision(settings)

    sms = DictSender()
    memory = Services(settings, sms_sender=sms)
    # Swap the DynamoDB stores for in-memory ones to time our own code path.
    from melody.auth.otp import OtpService
    from melody.auth.tokens import TokenService
    from melody.users.service import UserService

    clock = memory.clock
    otp = memory.otp
    memory.__dict__["otp"] = OtpService(
        fakes.MemoryChallenges(), fakes.MemoryLimiter(), sms, clock, hmac_key=memory.keys.hmac_key, policy=otp._policy
    )
    memory.__dict__["users"] = UserService(fakes.MemoryUsers(), clock, hmac_key=memory.keys.hmac_key)
    memory.__dict__["tokens"] = TokenService(
        memory.keys, fakes.MemoryTokens(), clock, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
        access_ttl_s=900, refresh_ttl_s=3600,
    )
    for label, services, sender in (
        ("in-memory stores", memory, sms),
        ("moto DynamoDB over loopback", Services(settings, sms_sender=(moto_sms := DictSender())), moto_sms),
    ):
        results = latency(services, args.requests, sender)
        print(f"\n## Warm latency, {label}, {args.requests} requests each, target p95 < 15 ms")
        print(f"{'route':28} {'p50 ms':>8} {'p95 ms':>8}")
        for route, samples in results.items():
            p95 = percentile(samples, 0.95)
            verdict = "" if route.startswith("baseline") else ("PASS" if p95 < 15 else "FAIL")
            print(f"{route:28} {percentile(samples, 0.5):8.2f} {p95:8.2f} {verdict}")
    server.shutdown()


if __name__ == "__main__":
    main()
