"""Cold import of each API function against the floor the prescribed libraries set.

    .venv/bin/python benchmarks/cold_start.py [--runs 9]

For every function in ``melody.api.apps.FUNCTION_APPS`` a fresh interpreter imports
``functions/<name>/handler.py`` (settings, services and the FastAPI app built, as Lambda's init
does) with the environment a deployed function has: stage ``prod``, ``AWS_LAMBDA_FUNCTION_NAME``
set, verifiers pointed at a JWKS URL, the SNS sender for auth. Nothing touches the network at
import. The baseline, measured in the same run and interleaved with the functions so that machine
load hits both alike, is the *floor*: fastapi + mangum + pydantic + boto3 + a powertools Logger
imported alone in the same kind of process. Target (issue 15): the project's code adds at most
100 ms over the floor for every function, with tracing off (the Tracer, and the X-Ray SDK under
it, load only when tracing is on; the last column shows what turning it on costs).

Also listed: modules a function must not load (phonenumbers and signing-key code outside auth).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))

FLOOR = """
import time
t = time.perf_counter()
import {boto3}fastapi, mangum, pydantic
from aws_lambda_powertools.logging import Logger
Logger(service="floor")
print((time.perf_counter() - t) * 1000)
"""

FUNCTION = """
import importlib.util, json, sys, time
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
ms = (time.perf_counter() - t) * 1000
watch = ("boto3", "phonenumbers", "melody.auth.keys", "melody.auth.tokens", "melody.auth.otp", "aws_xray_sdk",
         "pynamodb", "jwt", "psycopg", "numpy")
print(json.dumps({{"ms": ms, "loaded": [n for n in watch if n in sys.modules]}}))
"""

SIGNING = {"phonenumbers", "melody.auth.keys", "melody.auth.tokens", "melody.auth.otp"}


def lambda_env(name: str, *, tracing: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "MELODY_STAGE": "prod",
        "AWS_LAMBDA_FUNCTION_NAME": f"melody-{name}",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": f"melody-{name}",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        "MELODY_JWKS_URL": "https://issuer.invalid/.well-known/jwks.json",
        "MELODY_SMS_SENDER": "sns",
        "MELODY_STATE_MACHINE_ARN": "arn:aws:states:ap-south-1:123456789012:stateMachine:bench",
    }
    env.pop("DATABASE_URL", None)
    return env


def run(code: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    from melody.api.apps import FUNCTION_APPS

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    names = sorted(FUNCTION_APPS)
    floor: list[float] = []
    floor_no_boto3: list[float] = []
    off: dict[str, list[float]] = {n: [] for n in names}
    on: dict[str, list[float]] = {n: [] for n in names}
    loaded: dict[str, list[str]] = {}
    for _ in range(args.runs):
        floor.append(float(run(FLOOR.format(boto3="boto3, "), lambda_env("floor", tracing=False))))
        floor_no_boto3.append(float(run(FLOOR.format(boto3=""), lambda_env("floor", tracing=False))))
        for name in names:
            code = FUNCTION.format(path=str(ROOT / "functions" / name / "handler.py"))
            result = json.loads(run(code, lambda_env(name, tracing=False)))
            off[name].append(result["ms"])
            loaded[name] = result["loaded"]
            on[name].append(json.loads(run(code, lambda_env(name, tracing=True)))["ms"])

    base = statistics.median(floor)
    base_no_boto3 = statistics.median(floor_no_boto3)
    load = os.getloadavg()[0]
    print(f"## Cold import, median of {args.runs} fresh interpreters (load average {load:.1f}), target: +100 ms over the floor")
    print(f"floor without boto3: {base_no_boto3:.0f} ms (a function that builds its AWS clients on first use skips boto3 at init;")
    print("'own code' compares such a function with this floor instead, so boto3's share is not credited to our code)")
    print("| function | floor ms | function ms | difference ms | verdict | own code ms | with tracing ms | also loads |")
    print("|---|---:|---:|---:|---|---:|---:|---|")
    failed = False
    for name in names:
        ms = statistics.median(off[name])
        diff = ms - base
        bad_imports = SIGNING & set(loaded[name]) if name != "auth" else set()
        ok = diff <= 100 and not bad_imports
        failed |= not ok
        own = ms - (base if "boto3" in loaded[name] else base_no_boto3)
        print(
            f"| {name} | {base:.0f} | {ms:.0f} | {diff:+.0f} | {'PASS' if ok else 'FAIL'} | {own:+.0f} "
            f"| {statistics.median(on[name]):.0f} | {', '.join(loaded[name]) or '-'} |"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
