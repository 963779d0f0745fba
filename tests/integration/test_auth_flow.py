"""OTP login end to end through the API on moto's DynamoDB."""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.conftest import auth_header, random_indian_mobile

pytestmark = pytest.mark.integration


def test_login_me_refresh_and_reuse_detection(client, login):
    access, refresh, user = login()
    assert user["is_verified"] is True
    me = client.get("/api/v1/users/me", headers=auth_header(access))
    assert me.status_code == 200
    assert me.json()["user_id"] == user["user_id"]

    rotated = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
    assert rotated.status_code == 200
    new_refresh = rotated.json()["refresh_token"]
    assert new_refresh != refresh
    # The client got that answer and went on with it (so the old token's grace cannot apply).
    latest = client.post("/api/v1/auth/refresh-token", json={"refresh_token": new_refresh})
    assert latest.status_code == 200

    reused = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    # The whole family is revoked: the token issued by the legitimate rotation is dead too.
    after = client.post("/api/v1/auth/refresh-token", json={"refresh_token": latest.json()["refresh_token"]})
    assert after.status_code == 401


def test_same_number_logs_into_the_same_user(login):
    phone = random_indian_mobile()
    _, _, first = login(phone)
    _, _, second = login(phone)
    assert first["user_id"] == second["user_id"]


def test_logout_revokes_the_refresh_token(client, login):
    _, refresh, _ = login()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": refresh}).status_code == 204
    again = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
    assert again.status_code == 401


def test_parallel_guesses_never_exceed_the_attempt_limit(client, services):
    phone = random_indian_mobile()
    challenge_id = client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    wrong = [f"{n:06d}" for n in range(20)]
    real = services.sms_sender.last_code("+91" + phone)
    wrong = [c for c in wrong if c != real][:12]

    def guess(code: str) -> int:
        return client.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge_id, "code": code}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(guess, wrong))
    assert statuses.count(401) == services.settings.otp_max_attempts
    assert statuses.count(429) == len(wrong) - services.settings.otp_max_attempts
    # Even the right code is refused once the attempts are spent.
    final = client.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge_id, "code": real})
    assert final.status_code == 429
    assert final.json()["error"]["code"] == "otp_attempts_exceeded"


def test_code_is_single_use(client, sms):
    phone = random_indian_mobile()
    challenge_id = client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    body = {"challenge_id": challenge_id, "code": sms.last_code("+91" + phone)}
    assert client.post("/api/v1/auth/verify-otp", json=body).status_code == 200
    second = client.post("/api/v1/auth/verify-otp", json=body)
    assert second.status_code == 410
    assert second.json()["error"]["code"] == "otp_already_used"


def _client_with(dev_settings, sms, **limits):
    import random

    from fastapi.testclient import TestClient

    from melody.api.apps import full_app
    from melody.core.services import Services

    address = (".".join(str(random.randint(1, 254)) for _ in range(4)), 50000)  # a fresh address: counters are per IP
    return TestClient(full_app(Services(dev_settings.model_copy(update=limits), sms_sender=sms)), client=address)


def test_resend_is_rate_limited_with_retry_after(dev_settings, sms):
    phone = random_indian_mobile()
    with _client_with(dev_settings, sms, otp_per_ip_per_minute=100) as client:
        assert client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).status_code == 202
        again = client.post("/api/v1/auth/request-otp", json={"phone_number": phone})
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "otp_resend_too_soon"
    assert 1 <= int(again.headers["Retry-After"]) <= 31


def test_per_number_hourly_limit(dev_settings, sms):
    phone = random_indian_mobile()
    with _client_with(dev_settings, sms, otp_resend_after_s=0, otp_per_number_per_hour=2, otp_per_ip_per_minute=100) as client:
        codes = [client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_failed_verifies_per_number_are_limited(dev_settings, sms):
    phone = random_indian_mobile()
    with _client_with(
        dev_settings, sms, otp_resend_after_s=0, otp_failed_verifies_per_hour=3, otp_per_ip_per_minute=100
    ) as client:
        statuses = []
        for _ in range(2):
            cid = client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
            real = sms.last_code("+91" + phone)
            wrong = "000000" if real != "000000" else "111111"
            statuses += [client.post("/api/v1/auth/verify-otp", json={"challenge_id": cid, "code": wrong}).status_code for _ in range(2)]
        # Even a right code on a fresh challenge waits once the number has too many failures.
        right = client.post("/api/v1/auth/verify-otp", json={"challenge_id": cid, "code": real})
    assert statuses == [401, 401, 401, 429]
    assert right.status_code == 429


def test_per_ip_limit(dev_settings, sms):
    with _client_with(dev_settings, sms, otp_per_ip_per_minute=2) as c:
        codes = [c.post("/api/v1/auth/request-otp", json={"phone_number": random_indian_mobile()}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_unknown_and_known_numbers_get_the_same_answer(client, login):
    phone_known = random_indian_mobile()
    login(phone_known)
    known = client.post("/api/v1/auth/request-otp", json={"phone_number": phone_known})
    unknown = client.post("/api/v1/auth/request-otp", json={"phone_number": random_indian_mobile()})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())


def test_patch_me_validates_and_saves(client, login):
    access, _, _ = login()
    ok = client.patch(
        "/api/v1/users/me",
        headers=auth_header(access),
        json={"name": "  Asha  Rao ", "avatar_url": "https://cdn.example.com/a.png", "preferences": {"preferred_languages": ["hi", "ta"]}},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["name"] == "Asha Rao"
    assert ok.json()["preferences"]["preferred_languages"] == ["hi", "ta"]
    bad_lang = client.patch("/api/v1/users/me", headers=auth_header(access), json={"preferences": {"preferred_languages": ["xx"]}})
    assert bad_lang.status_code == 422 and bad_lang.json()["error"]["code"] == "unknown_language"
    http_avatar = client.patch("/api/v1/users/me", headers=auth_header(access), json={"avatar_url": "http://x.example/a.png"})
    assert http_avatar.status_code == 422
    unknown_field = client.patch("/api/v1/users/me", headers=auth_header(access), json={"is_verified": False})
    assert unknown_field.status_code == 422


def test_patch_me_null_resets_and_oversized_lists_are_refused_never_500(client, login):
    access, _, _ = login()
    me = "/api/v1/users/me"
    client.patch(me, headers=auth_header(access), json={"name": "Asha", "preferences": {"preferred_languages": ["hi", "hi", "ta"]}})
    assert client.get(me, headers=auth_header(access)).json()["preferences"]["preferred_languages"] == ["hi", "ta"]
    reset = client.patch(me, headers=auth_header(access), json={"preferences": None, "name": None})
    assert reset.status_code == 200, reset.text
    assert reset.json()["preferences"]["preferred_languages"] == [] and reset.json()["name"] is None
    assert client.get(me, headers=auth_header(access)).json()["preferences"]["preferred_languages"] == []
    huge = client.patch(me, headers=auth_header(access), json={"preferences": {"preferred_languages": ["hi"] * 5000}})
    assert huge.status_code == 422 and "code" in huge.json()["error"]


def test_protected_routes_need_a_valid_token(client):
    assert client.get("/api/v1/users/me").json()["error"]["code"] == "missing_token"
    bad = client.get("/api/v1/users/me", headers=auth_header("not.a.jwt"))
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"


def test_health_reports_each_dependency(client):
    body = client.get("/api/v1/system/health").json()
    assert body["status"] == "ok"
    assert body["dependencies"]["table:users_table"]["status"] == "ok"
    assert body["dependencies"]["bucket:uploads_bucket"]["status"] == "ok"


def test_codes_and_tokens_never_reach_the_logs(client, sms, capsys, caplog):
    import logging

    caplog.set_level(logging.INFO)  # production level; DEBUG wire dumps are off in AWS
    phone = random_indian_mobile()
    challenge_id = client.post("/api/v1/auth/request-otp", json={"phone_number": phone}).json()["challenge_id"]
    code = sms.last_code("+91" + phone)
    body = client.post("/api/v1/auth/verify-otp", json={"challenge_id": challenge_id, "code": code}).json()
    client.post("/api/v1/auth/refresh-token", json={"refresh_token": body["refresh_token"]})
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "login" in logs  # the flow did log
    for secret in (code, body["access_token"], body["refresh_token"], phone):
        assert secret not in logs


def test_per_ip_limits_see_the_viewer_behind_cloudfront_not_the_edge(dev_settings, sms):
    """Two people behind one CloudFront edge server each get their own per-IP allowance."""
    import random
    import uuid

    from fastapi.testclient import TestClient

    from melody.api.apps import full_app
    from melody.core.services import Services

    secret = "origin-verify-" + uuid.uuid4().hex
    edge = (".".join(str(random.randint(1, 254)) for _ in range(4)), 443)
    settings = dev_settings.model_copy(update={"otp_per_ip_per_minute": 1, "otp_resend_after_s": 0})
    services = Services(settings, sms_sender=sms)
    services.origin_verify_secret = lambda: secret  # what Secrets Manager holds in AWS
    with TestClient(full_app(services), client=edge) as client:

        def ask(viewer: str, proof: str = secret) -> int:
            headers = {"cloudfront-viewer-address": f"{viewer}:4000", "x-melody-origin-verify": proof}
            return client.post("/api/v1/auth/request-otp", json={"phone_number": random_indian_mobile()}, headers=headers).status_code

        first, second = (f"203.0.{random.randint(0, 255)}.{n}" for n in (7, 8))
        assert ask(first) == 202
        assert ask(second) == 202  # same edge server, another person
        assert ask(first) == 429  # the first person's own limit
        assert ask("198.51.100.99", proof="forged") == 202  # counted against the edge itself, once
        assert ask("198.51.100.100", proof="forged") == 429  # a forged viewer header buys nothing


def test_refresh_token_reuse_through_the_api_is_a_logged_and_counted_security_event(client, login, capsys):
    import io
    import json

    from melody.core.observability import logger

    _, refresh, user = login()
    rotated = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
    assert rotated.status_code == 200
    successor = rotated.json()["refresh_token"]
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    capsys.readouterr()
    try:
        # Within the grace the first replay is answered (a lost answer; no event), the second is reuse.
        replayed = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
        reused = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh})
    finally:
        handler.setStream(previous)
    assert replayed.status_code == 200 and replayed.json()["refresh_token"] == successor
    assert reused.status_code == 401
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    (event,) = [line for line in lines if line.get("message") == "security event"]
    assert event["event"] == "refresh_token_reuse" and event["user_id"] == user["user_id"]
    assert refresh not in buffer.getvalue() and successor not in buffer.getvalue()
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (record,) = [r for r in records if "SecurityEvent" in r]
    assert record["kind"] == "refresh_token_reuse" and record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "kind"]]


@pytest.mark.parametrize(
    ("phone", "country"),
    [("1234567890", "+91"), ("011 2345 6789", None), ("1800 123 4567", "IN"), ("9876543210", "US")],
)
def test_a_number_that_cannot_receive_sms_is_refused(client, sms, phone, country):
    body = {"phone_number": phone} | ({"country_code": country} if country else {})
    response = client.post("/api/v1/auth/request-otp", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_phone_number"
    assert sms.sent == []


@pytest.mark.parametrize("phone", ["12+34567", "98765 43210; drop", "98765_43210", "+ ( ) - ."])
def test_a_number_with_other_characters_fails_validation(client, phone):
    response = client.post("/api/v1/auth/request-otp", json={"phone_number": phone})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_a_trunk_prefix_is_dropped_from_the_number_and_its_hint(client, sms):
    suffix = random_indian_mobile()[-4:]
    response = client.post("/api/v1/auth/request-otp", json={"phone_number": f"098765 4{suffix[:2]}.{suffix[2:]}"})
    assert response.status_code == 202, response.text
    assert sms.sent[-1][0] == f"+9198765 4{suffix}".replace(" ", "")
    assert response.json()["phone_hint"] == f"+91 ******** {suffix[-2:]}"
