"""The developer function's Lambda entry point: it refuses calls without a key (B2B) or a token
(keys, usage) before touching any store, and loads nothing heavy at import (cold start)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.unit.api.test_lambda_handlers import HEAVY, ROOT, SIGNING, FakeContext, lambda_env, load_handler

__all__ = ["lambda_env"]  # the fixture, re-exported for pytest


def _event(method: str, path: str, headers: dict[str, str] | None = None) -> dict:
    event = json.loads((ROOT / "events" / "apigw_http_get_jwks.json").read_text())
    event.update(rawPath=path, routeKey=f"{method} {path}")
    event["requestContext"]["http"].update(path=path, method=method)
    event["headers"] = {**event.get("headers", {}), **(headers or {})}
    return event


def test_b2b_without_a_key_and_developer_without_a_token_are_401(lambda_env):
    handler = load_handler("developer")
    context = FakeContext(function_name="melody-developer")
    b2b = handler(_event("GET", "/api/v1/b2b/tracks"), context)
    assert b2b["statusCode"] == 401 and json.loads(b2b["body"])["error"]["code"] == "missing_api_key"
    malformed = handler(_event("GET", "/api/v1/b2b/tracks", {"x-api-key": "not-a-key"}), context)
    assert malformed["statusCode"] == 401 and json.loads(malformed["body"])["error"]["code"] == "invalid_api_key"
    keys = handler(_event("GET", "/api/v1/developer/keys"), context)
    assert keys["statusCode"] == 401 and json.loads(keys["body"])["error"]["code"] == "missing_token"


def test_the_developer_function_imports_only_what_its_routes_use(lambda_env, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "melody-developer")
    monkeypatch.setenv("MELODY_JWKS_URL", "https://issuer.invalid/.well-known/jwks.json")
    forbidden = HEAVY + SIGNING + ("melody.developer.interpret.llm", "httpx")
    code = (
        "import importlib.util, sys;"
        f"spec = importlib.util.spec_from_file_location('h', {str(ROOT / 'functions' / 'developer' / 'handler.py')!r});"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
        f"loaded = [n for n in {forbidden!r} if n in sys.modules];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
