"""Each API function's ``handler`` answers an API Gateway HTTP API (v2) event through Mangum."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class FakeContext:
    function_name: str = "melody-auth"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:ap-south-1:123456789012:function:melody-auth"
    aws_request_id: str = "req-1"


def load_handler(area: str):
    spec = importlib.util.spec_from_file_location(f"handler_{area}", ROOT / "functions" / area / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@pytest.fixture()
def lambda_env(monkeypatch, key_file):
    monkeypatch.setenv("MELODY_STAGE", "test")
    monkeypatch.setenv("MELODY_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "MelodyStudioTest")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")


def test_auth_function_serves_the_jwks(lambda_env):
    event = json.loads((ROOT / "events" / "apigw_http_get_jwks.json").read_text())
    response = load_handler("auth")(event, FakeContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["keys"][0]["alg"] == "RS256"


def test_users_function_refuses_a_missing_token(lambda_env):
    event = json.loads((ROOT / "events" / "apigw_http_get_jwks.json").read_text())
    event.update(rawPath="/api/v1/users/me", routeKey="GET /api/v1/users/me")
    event["requestContext"]["http"]["path"] = "/api/v1/users/me"
    response = load_handler("users")(event, FakeContext(function_name="melody-users"))
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "missing_token"


# What each API function must not load at import (cold start): audio code anywhere; the X-Ray SDK
# while tracing is off; OTP, phone-number and signing-key code outside the auth function.
HEAVY = ("numpy", "scipy", "melody_audio", "aws_xray_sdk", "melody.conversions.steps", "jwt")  # jwt: on first verify
HEAVY += ("music21", "melody_scores", "melody.scores.steps")  # the score engine: the score pipeline's analyse step only
SIGNING = ("phonenumbers", "melody.auth.keys", "melody.auth.otp", "melody.auth.tokens", "melody.auth.phone")


@pytest.mark.parametrize("area", ["auth", "users", "system", "catalog", "library", "conversions", "scores"])
def test_every_api_function_imports_only_what_its_routes_use(lambda_env, monkeypatch, area):
    import subprocess
    import sys

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", f"melody-{area}")  # as in Lambda; tracing is disabled
    monkeypatch.setenv("MELODY_JWKS_URL", "https://issuer.invalid/.well-known/jwks.json")  # verifiers, as in AWS
    forbidden = HEAVY if area == "auth" else HEAVY + SIGNING
    code = (
        "import importlib.util, sys;"
        f"spec = importlib.util.spec_from_file_location('h', {str(ROOT / 'functions' / area / 'handler.py')!r});"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
        f"loaded = [n for n in {forbidden!r} if n in sys.modules];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_auth_function_refuses_to_start_with_the_console_sender_outside_dev(lambda_env, monkeypatch):
    monkeypatch.setenv("MELODY_STAGE", "prod")
    monkeypatch.setenv("MELODY_SMS_SENDER", "console")
    with pytest.raises(RuntimeError, match="console SMS sender is for dev only"):
        load_handler("auth")
