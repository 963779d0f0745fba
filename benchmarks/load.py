"""Load on the local stack: a mix of signed-in traffic, with throughput, latency and errors per route.

    .venv/bin/python benchmarks/load.py [--clients 32] [--seconds 40] [--baseline-seconds 10]

1. Starts ``melody dev`` (embedded PostgreSQL, moto, console SMS) on a free loopback port, as the
   end-to-end tests do, and logs in one user per client through the OTP on its console.
2. Baseline in the same run: the same number of clients on ``GET /.well-known/jwks.json`` (the
   cheapest route there is: no token, no database) for ``--baseline-seconds``.
3. The mix for ``--seconds``, each client one user in a loop: search as you type (prefixes of a
   catalogue title growing letter by letter, then the top hit's details), track details, library
   writes and reads (PUT, GET, DELETE), and a refresh-token rotation.
4. CPU per request of each Lambda function's own work: the functions' apps
   (``melody.api.apps.FUNCTION_APPS``) behind their Lambda entry point (Mangum + powertools, as in
   ``functions/<name>/handler.py``), invoked in this process with API Gateway HTTP API events, one
   at a time, ``time.process_time()`` around each; on the same PostgreSQL and a moto of their own.
   Lambda bills wall time of the invocation, which for these routes is this CPU time plus the waits
   on DynamoDB and PostgreSQL.

Every request goes to 127.0.0.1; the run is bounded in time and in requests (``--max-requests``)
and stops the stack (and its PostgreSQL) whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import DevStack  # noqa: E402

SONGS = ROOT.parent / "shared" / "catalog" / "songs.jsonl"
BASELINE = "GET /.well-known/jwks.json (baseline)"
MAX_TYPED = 10  # letters typed per search-as-you-type burst


@dataclass
class RouteStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, elapsed_ms: float, outcome: str | None) -> None:
        if outcome is None:
            self.latencies_ms.append(elapsed_ms)
        else:
            self.errors[outcome] += 1


@dataclass
class Recorder:
    stats: dict[str, RouteStats] = field(default_factory=lambda: defaultdict(RouteStats))
    count: int = 0

    async def call(
        self, client: httpx.AsyncClient, route: str, method: str, url: str, *, ok: tuple[int, ...], **kw: Any
    ) -> httpx.Response | None:
        self.count += 1
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.stats[route].add(0.0, type(exc).__name__)
            return None
        elapsed = (time.perf_counter() - started) * 1000
        self.stats[route].add(elapsed, None if response.status_code in ok else str(response.status_code))
        return response


def load_songs() -> list[dict[str, Any]]:
    songs = [json.loads(line) for line in SONGS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [s for s in songs if s.get("id")]


def login_users(stack: DevStack, count: int) -> list[dict[str, str]]:
    users = []
    for _ in range(count):
        phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
        tokens = stack.login_api(phone)
        users.append({"access": tokens["access_token"], "refresh": tokens["refresh_token"]})
    return users


async def mix_client(
    base_url: str, user: dict[str, str], songs: list[dict[str, Any]], rec: Recorder, deadline: float, cap: int, seed: int
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url + "/api/v1", timeout=30) as client:
        def auth() -> dict[str, str]:
            return {"Authorization": f"Bearer {user['access']}"}

        while time.monotonic() < deadline and rec.count < cap:
            pick = rng.random()
            song = rng.choice(songs)
            if pick < 0.45:  # search as you type, then open the top hit
                text = (song.get("title_latin") or song["title"]).lower()
                top = None
                for n in range(2, min(len(text), MAX_TYPED) + 1):
                    if time.monotonic() >= deadline:
                        return
                    r = await rec.call(
                        client, "GET /music/search (typing)", "GET", "/music/search",
                        params={"q": text[:n], "limit": 10}, headers=auth(), ok=(200,),
                    )
                    if r is not None and r.status_code == 200 and r.json()["items"]:
                        top = r.json()["items"][0]["id"]
                if top:
                    await rec.call(client, "GET /music/track/{id}", "GET", f"/music/track/{top}", headers=auth(), ok=(200,))
            elif pick < 0.65:
                await rec.call(client, "GET /music/track/{id}", "GET", f"/music/track/{song['id']}", headers=auth(), ok=(200,))
            elif pick < 0.93:  # save, list, remove
                await rec.call(client, "PUT /library/{id}", "PUT", f"/library/{song['id']}", headers=auth(), ok=(200, 201))
                await rec.call(client, "GET /library", "GET", "/library", params={"limit": 20}, headers=auth(), ok=(200,))
                await rec.call(client, "DELETE /library/{id}", "DELETE", f"/library/{song['id']}", headers=auth(), ok=(204,))
            else:  # rotate the refresh token (each client is one user: no two rotations race)
                r = await rec.call(
                    client, "POST /auth/refresh-token", "POST", "/auth/refresh-token",
                    json={"refresh_token": user["refresh"]}, ok=(200,),
                )
                if r is not None and r.status_code == 200:
                    body = r.json()
                    user["access"], user["refresh"] = body["access_token"], body["refresh_token"]


async def baseline_client(base_url: str, rec: Recorder, deadline: float, cap: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while time.monotonic() < deadline and rec.count < cap:
            await rec.call(client, BASELINE, "GET", "/.well-known/jwks.json", ok=(200,))


async def run_phase(coros: list[Any]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*coros)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def print_table(title: str, phases: list[tuple[Recorder, float]]) -> None:
    print(f"\n## {title}")
    print("| route | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for rec, wall in phases:
        total_ok = 0
        for route, st in rec.stats.items():
            n = len(st.latencies_ms)
            total_ok += n
            errors = ", ".join(f"{k}×{v}" for k, v in sorted(st.errors.items())) or "0"
            print(
                f"| {route} | {n + sum(st.errors.values())} | {n / wall:.1f} | {percentile(st.latencies_ms, 50):.1f} "
                f"| {percentile(st.latencies_ms, 95):.1f} | {percentile(st.latencies_ms, 99):.1f} | {errors} |"
            )
        if len(rec.stats) > 1:
            every = [x for st in rec.stats.values() for x in st.latencies_ms]
            errs = sum(sum(st.errors.values()) for st in rec.stats.values())
            print(
                f"| **all routes of the mix** | {total_ok + errs} | {total_ok / wall:.1f} | {percentile(every, 50):.1f} "
                f"| {percentile(every, 95):.1f} | {percentile(every, 99):.1f} | {errs} |"
            )


# --- CPU per invocation, in process ------------------------------------------------------------


class FakeLambdaContext:
    function_name = "melody-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-south-1:123456789012:function:melody-bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def api_event(method: str, path: str, *, query: str = "", token: str | None = None, body: dict | None = None) -> dict:
    headers = {"accept": "application/json", "host": "api.example.test", "x-forwarded-for": "203.0.113.7"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if body is not None:
        headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "api.example.test", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench"},
            "requestId": str(uuid.uuid4()), "routeKey": f"{method} {path}", "stage": "$default",
            "time": "01/Jan/2027:00:00:00 +0000", "timeEpoch": 1798761600000,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def cpu_per_invocation(data_dir: Path, songs: list[dict[str, Any]], samples: int) -> list[tuple[str, str, float, float, float]]:
    """(function, route, median CPU ms, p95 CPU ms, median wall ms) per route, serial invocations."""
    import logging
    import warnings

    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MelodyBench")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.getLogger().setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from pydantic import SecretStr

    from melody.api.apps import FUNCTION_APPS
    from melody.api.lambda_handler import lambda_handler_for
    from melody.core.services import Services
    from melody_dev.local.provision import provision
    from melody_dev.local.stack import build_dev_settings
    from melody_dev.local.standins import start_moto, use_fake_aws_credentials

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        database_url = pgserver.get_server(data_dir / "postgres", cleanup_mode=None).get_uri()  # the stack's server

    class Codes:
        sent: dict[str, str] = {}

        def send_otp(self, phone: str, code: str) -> None:
            self.sent[phone] = code

    use_fake_aws_credentials()
    moto, moto_url = start_moto()
    try:
        settings = build_dev_settings(data_dir, dynamodb_url=moto_url, s3_url=moto_url, database_url=database_url)
        settings = settings.model_copy(
            update={"database_url": SecretStr(database_url), "otp_per_ip_per_minute": 10_000, "otp_per_ip_per_hour": 10_000}
        )
        provision(settings)
        codes = Codes()
        handlers = {}
        for name in ("auth", "catalog", "library"):
            services = Services(settings, sms_sender=codes)
            handlers[name] = lambda_handler_for(FUNCTION_APPS[name](services))

        def invoke(name: str, event: dict) -> tuple[dict, float, float]:
            cpu, wall = time.process_time(), time.perf_counter()
            response = handlers[name](event, FakeLambdaContext())
            return response, (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000

        phone = "9" + "".join(random.choice("0123456789") for _ in range(9))
        r, _, _ = invoke("auth", api_event("POST", "/api/v1/auth/request-otp", body={"phone_number": phone}))
        challenge = json.loads(r["body"])["challenge_id"]
        r, _, _ = invoke("auth", api_event("POST", "/api/v1/auth/verify-otp",
                                           body={"challenge_id": challenge, "code": codes.sent["+91" + phone]}))
        tokens = json.loads(r["body"])
        state = {"access": tokens["access_token"], "refresh": tokens["refresh_token"]}
        rng = random.Random(7)

        def typed() -> str:
            text = (rng.choice(songs).get("title_latin") or "tum hi ho").lower()
            return text[: rng.randint(2, min(len(text), MAX_TYPED))]

        def refresh_event() -> dict:
            return api_event("POST", "/api/v1/auth/refresh-token", body={"refresh_token": state["refresh"]})

        def after_refresh(response: dict) -> None:
            body = json.loads(response["body"])
            state["access"], state["refresh"] = body["access_token"], body["refresh_token"]

        track = songs[0]["id"]
        cases: list[tuple[str, str, Any, int, Any]] = [
            ("auth", BASELINE, lambda: api_event("GET", "/.well-known/jwks.json"), 200, None),
            ("catalog", "GET /music/search (typing)",
             lambda: api_event("GET", "/api/v1/music/search", query=f"q={httpx.QueryParams({'q': typed()})['q']}&limit=10",
                               token=state["access"]), 200, None),
            ("catalog", "GET /music/track/{id}",
             lambda: api_event("GET", f"/api/v1/music/track/{rng.choice(songs)['id']}", token=state["access"]), 200, None),
            ("library", "PUT /library/{id}", lambda: api_event("PUT", f"/api/v1/library/{track}", token=state["access"]),
             None, None),
            ("library", "GET /library", lambda: api_event("GET", "/api/v1/library", query="limit=20", token=state["access"]),
             200, None),
            ("library", "DELETE /library/{id}", lambda: api_event("DELETE", f"/api/v1/library/{track}", token=state["access"]),
             None, None),
            ("auth", "POST /auth/refresh-token", refresh_event, 200, after_refresh),
        ]
        rows = []
        for name, route, make, expect, then in cases:
            cpu_ms, wall_ms = [], []
            for i in range(samples + 5):  # 5 warm-up invocations (imports on first use, connections)
                if route.startswith(("PUT", "DELETE")):  # alternate so each PUT creates and each DELETE removes
                    method = route.split()[0]
                    other = "DELETE" if method == "PUT" else "PUT"
                    handlers[name](api_event(other, f"/api/v1/library/{track}", token=state["access"]), FakeLambdaContext())
                response, cpu, wall = invoke(name, make())
                status = response["statusCode"]
                if (expect is not None and status != expect) or status >= 400:
                    raise RuntimeError(f"{route}: {status} {response.get('body')}")
                if then is not None:
                    then(response)
                if i >= 5:
                    cpu_ms.append(cpu)
                    wall_ms.append(wall)
            rows.append((name, route, statistics.median(cpu_ms), percentile(cpu_ms, 95), statistics.median(wall_ms)))
        return rows
    finally:
        moto.shutdown()
        moto.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (20-50)")
    parser.add_argument("--seconds", type=float, default=40, help="length of the mix (30-60)")
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop a phase after this many requests")
    parser.add_argument("--cpu-samples", type=int, default=60, help="serial invocations per route for CPU ms")
    args = parser.parse_args()
    if not (1 <= args.clients <= 50 and 0 < args.seconds <= 60 and 0 < args.baseline_seconds <= 60):
        parser.error("bounded on purpose: at most 50 clients and 60 s per phase")

    songs = load_songs()
    data_dir = Path(tempfile.mkdtemp(prefix="melody-load-"))
    env = {
        "DATABASE_URL": "",
        "MELODY_SMS_SENDER": "console",
        "MELODY_OTP_PER_IP_PER_MINUTE": "10000",
        "MELODY_OTP_PER_IP_PER_HOUR": "10000",
    }
    load_before = os.getloadavg()
    stack = DevStack(data_dir, env=env)
    try:
        stack.wait_ready()
        users = login_users(stack, args.clients)

        load_start = os.getloadavg()
        base = Recorder()
        deadline = time.monotonic() + args.baseline_seconds
        base_wall = asyncio.run(run_phase([
            baseline_client(stack.base_url, base, deadline, args.max_requests) for _ in range(args.clients)
        ]))

        mix = Recorder()
        deadline = time.monotonic() + args.seconds
        mix_wall = asyncio.run(run_phase([
            mix_client(stack.base_url, users[i], songs, mix, deadline, args.max_requests, seed=i)
            for i in range(args.clients)
        ]))
        load_after_mix = os.getloadavg()

        cpu_rows = cpu_per_invocation(data_dir, songs, args.cpu_samples)
    finally:
        stack.stop()  # SIGTERM: melody dev stops moto and its embedded PostgreSQL
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"# Load on `melody dev` (loopback): {args.clients} clients, baseline {args.baseline_seconds:g} s, mix {args.seconds:g} s")
    print(f"machine: {os.cpu_count()} CPUs; load average (1/5/15 min) before start "
          f"{'/'.join(f'{x:.2f}' for x in load_before)}, before load {'/'.join(f'{x:.2f}' for x in load_start)}, "
          f"after the mix {'/'.join(f'{x:.2f}' for x in load_after_mix)}")
    print_table("Baseline: the cheapest route, same clients", [(base, base_wall)])
    print_table("Mix (latency = client-side, loopback, one uvicorn process)", [(mix, mix_wall)])
    print(f"\n## CPU per invocation, each function's Lambda entry point in process, serial ({args.cpu_samples} samples)")
    print("| function | route | CPU ms p50 | CPU ms p95 | wall ms p50 |")
    print("|---|---|---:|---:|---:|")
    for name, route, cpu50, cpu95, wall50 in cpu_rows:
        print(f"| {name} | {route} | {cpu50:.2f} | {cpu95:.2f} | {wall50:.2f} |")


if __name__ == "__main__":
    main()
