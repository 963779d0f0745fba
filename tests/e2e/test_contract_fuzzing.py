"""Contract fuzzing: schemathesis drives every operation of ``openapi.json`` against ``melody dev``.

Bounded and reproducible: a fixed seed, deterministic generation, 25 examples per operation and
only loopback traffic (the stack's own port). The run must find nothing: no 5xx, no response off
its documented schema, status, content type or headers, no invalid request accepted and no valid
one refused. The stack is the e2e session's (tests/e2e/conftest.py), whose per-IP OTP limits are
already lifted for 127.0.0.1 by environment, not code.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
    ]
)
# Where a well-formed value can still be wrong in a way no schema states, the route's 422 is the right
# answer to a schema-valid request: it is allowed there, and only there (positive_data_acceptance).
SEMANTIC_422 = {
    # a phone number is checked against the numbering plan of its country (`invalid_phone_number`)
    "POST /api/v1/auth/request-otp": "phone numbers",
    # a cursor is opaque: well-formed is not enough, it must be one this API issued to this user
    "GET /api/v1/library": "cursors",
    "GET /api/v1/audio/jobs": "cursors",
    "GET /api/v1/scores": "cursors",
    # the engines a deployment offers are its settings' (MELODY_ENGINES), not every engine the API names
    "POST /api/v1/audio/uploads": "engines",
    "POST /api/v1/audio/convert-to-instrumental": "engines",
    # a combination of valid values: wav is made for the instrumental and vocals only; 0 semitones at
    # tempo 1.0 in m4a is the song itself; a date range is at most 366 days, from before to
    "GET /api/v1/audio/jobs/{job_id}/download/{stem}": "formats per stem",
    "POST /api/v1/audio/jobs/{job_id}/renditions": "identity renditions",
    "GET /api/v1/developer/usage": "date ranges",
    # a source URL needs a host that IDNA can encode (`invalid_source_url`)
    "POST /api/v1/discover/sources": "source URLs",
    # a score's format is its file name's extension (`unsupported_score_type`)
    "POST /api/v1/scores/uploads": "score file types",
}
POSITIVE_OK = ["2xx", "3xx", "401", "403", "404", "409", "429"]
MAX_EXAMPLES = 25
CPYTHON_AST_RACE = "AST constructor recursion depth mismatch"
SEED = 20240611


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return found


def _token(dev_stack) -> str:
    phone = "9" + "".join(random.Random(SEED).choice("0123456789") for _ in range(9))
    return dev_stack.login_api(phone)["access_token"]


def _config(path: Path) -> Path:
    lines = []
    for name in SEMANTIC_422:
        lines += [
            "[[operations]]",
            f'include-name = "{name}"',
            f"checks.positive_data_acceptance.expected-statuses = {[*POSITIVE_OK, '422']!r}".replace("'", '"'),
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_the_api_keeps_its_contract_under_fuzzing(dev_stack, tmp_path):
    st = _st()
    token = _token(dev_stack)
    command = [
        st, "--config-file", str(_config(tmp_path / "schemathesis.toml")),
        "run", str(REPO / "openapi.json"),
        "--url", dev_stack.base_url,
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--generation-deterministic",
        "--phases", "examples,coverage,fuzzing",
        "--workers", "2",
        "--request-timeout", "20",
        "--no-color",
        "--warnings", "off",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_PROXY": "127.0.0.1", "HTTP_PROXY": "", "HTTPS_PROXY": ""}
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    output = result.stdout + result.stderr
    if result.returncode != 0 and CPYTHON_AST_RACE in output and "Runtime Error: 1" in output:
        # CPython 3.11's AST constructor can trip over a second thread compiling at the same time
        # (schemathesis' own generation, --workers 2): an interpreter fault, not a finding. Once more,
        # on one worker: the same cases (the seed is fixed) with no second thread to race (it struck
        # twice in a row on a loaded 2-core machine).
        single = [*command[: command.index("--workers") + 1], "1", *command[command.index("--workers") + 2 :]]
        result = subprocess.run(single, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        output = result.stdout + result.stderr
    elapsed = time.monotonic() - started
    print(output[-6000:])
    print(f"schemathesis: exit {result.returncode} in {elapsed:.1f}s")
    assert result.returncode == 0, output[-20000:]
