"""The issue's walk-through over HTTP: request → code from the console → verify → /users/me."""

from __future__ import annotations

import random

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _phone() -> str:
    return "9" + "".join(random.choice("0123456789") for _ in range(9))


def test_health_is_ok_with_every_dependency(dev_stack):
    body = httpx.get(f"{dev_stack.base_url}/api/v1/system/health", timeout=10).json()
    assert body["status"] == "ok", body
    assert body["dependencies"]["catalog_database"]["status"] == "ok"


def test_login_refresh_reuse_and_logout(dev_stack):
    api = httpx.Client(base_url=f"{dev_stack.base_url}/api/v1", timeout=10)
    phone = _phone()
    challenge = api.post("/auth/request-otp", json={"phone_number": phone})
    assert challenge.status_code == 202
    code = dev_stack.otp_code("+91" + phone)
    login = api.post("/auth/verify-otp", json={"challenge_id": challenge.json()["challenge_id"], "code": code})
    assert login.status_code == 200
    tokens = login.json()
    me = api.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["phone_number"] == "+91" + phone

    rotated = api.post("/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    # A lost reply: the previous token once more within the grace window gets the same pair.
    replayed = api.post("/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    assert replayed.status_code == 200 and replayed.json()["refresh_token"] == rotated.json()["refresh_token"]
    # The client uses its new token; the old one presented again now is reuse: the family is revoked.
    third = api.post("/auth/refresh-token", json={"refresh_token": rotated.json()["refresh_token"]})
    assert third.status_code == 200
    reused = api.post("/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "refresh_token_reused"
    assert api.post("/auth/refresh-token", json={"refresh_token": third.json()["refresh_token"]}).status_code == 401


def test_tokens_verify_against_the_published_jwks(dev_stack):
    import jwt

    api = httpx.Client(base_url=dev_stack.base_url, timeout=10)
    config = api.get("/.well-known/openid-configuration").json()
    assert config["jwks_uri"].endswith("/.well-known/jwks.json")
    jwks = api.get("/.well-known/jwks.json").json()
    phone = _phone()
    cid = api.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    token = api.post(
        "/api/v1/auth/verify-otp", json={"challenge_id": cid, "code": dev_stack.otp_code("+91" + phone)}
    ).json()["access_token"]
    header = jwt.get_unverified_header(token)
    kid = header["kid"]
    # RS256: the HTTP API JWT authorizer in front of these routes in AWS accepts only RSA signatures.
    assert header["alg"] == "RS256" and config["id_token_signing_alg_values_supported"] == ["RS256"]
    key = next(jwt.PyJWK(k).key for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token, key, algorithms=config["id_token_signing_alg_values_supported"], audience="melody-api", issuer=config["issuer"]
    )
    assert claims["sub"].startswith("usr_")


def test_bad_input_gets_clear_errors_never_500(dev_stack):
    api = httpx.Client(base_url=f"{dev_stack.base_url}/api/v1", timeout=10)
    cases = [
        ("/auth/request-otp", {"phone_number": "12345"}, 422, "invalid_phone_number"),
        ("/auth/request-otp", {"phone_number": 12}, 422, "validation_error"),
        ("/auth/verify-otp", {"challenge_id": "otp_nope12345", "code": "12"}, 422, "validation_error"),
        ("/auth/verify-otp", {"challenge_id": "otp_nope12345", "code": "123456"}, 404, "otp_challenge_not_found"),
        ("/auth/refresh-token", {"refresh_token": "x" * 40}, 401, "invalid_refresh_token"),
    ]
    for path, body, status, code in cases:
        response = api.post(path, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), path
    garbage = api.post("/auth/request-otp", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 422


def test_the_console_prints_one_line_where_it_listens(dev_stack):
    listening = [line for line in dev_stack.lines if "listening on" in line]
    assert listening == [f"melody dev: listening on {dev_stack.base_url} (data {listening[0].split('(data ')[1][:-1]})"]
