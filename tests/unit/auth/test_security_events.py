"""Security events (refresh-token reuse, OTP lockout, rate-limit refusals): a masked log line and an EMF metric."""

from __future__ import annotations

import json

import pytest

from melody.auth.keys import KeyMaterial, generate_key_material_json
from melody.auth.otp import OtpPolicy, OtpService
from melody.auth.security_events import SECURITY_EVENT_METRIC, security_event
from melody.auth.tokens import TokenService
from melody.core.errors import RateLimited, Unauthorized
from tests.unit.auth.conftest import emf_records
from tests.unit.auth.fakes import FakeClock, MemoryChallenges, MemoryLimiter, MemoryTokens, RecordingSender

KEY = b"k" * 32
PHONE = "+919876543210"
MASKED = "+91********10"


def otp_service(**policy):
    store, limiter, sender, clock = MemoryChallenges(), MemoryLimiter(), RecordingSender(), FakeClock()
    return OtpService(store, limiter, sender, clock, hmac_key=KEY, policy=OtpPolicy(**policy)), sender, clock


def security_lines(log_lines) -> list[dict]:
    return [line for line in log_lines() if line.get("message") == "security event"]


def security_metrics(out: str) -> list[dict]:
    return [r for r in emf_records(out) if SECURITY_EVENT_METRIC in r]


def assert_one_event(log_lines, capsys, kind: str, reason: str, *, secrets: tuple[str, ...] = ()) -> dict:
    (line,) = security_lines(log_lines)
    assert line["event"] == kind and line["reason"] == reason and line["level"] == "WARNING"
    (record,) = security_metrics(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MelodyStudio"
    assert directive["Dimensions"] == [["service", "kind"]]
    assert directive["Metrics"] == [{"Name": SECURITY_EVENT_METRIC, "Unit": "Count"}]
    assert record["kind"] == kind and record[SECURITY_EVENT_METRIC] in (1, 1.0, [1.0])
    assert record["reason"] == reason
    text = json.dumps(line) + json.dumps(record)
    assert PHONE not in text and "9876543210" not in text
    for secret in secrets:
        assert secret not in text
    return line


KEYS = KeyMaterial.from_json(generate_key_material_json())


def token_service(store=None) -> TokenService:
    return TokenService(
        KEYS, store or MemoryTokens(), FakeClock(),
        issuer="https://issuer", audience="melody-api", access_ttl_s=900, refresh_ttl_s=86400,
    )  # fmt: skip


def test_refresh_token_reuse_is_logged_with_the_user_and_counted(log_lines, capsys):
    tokens = token_service()
    first = tokens.issue("usr_1")
    second, _ = tokens.rotate(first.refresh_token)
    capsys.readouterr()
    assert security_lines(log_lines) == []  # a normal rotation is no event
    with pytest.raises(Unauthorized) as exc:
        tokens.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused"
    line = assert_one_event(
        log_lines, capsys, "refresh_token_reuse", "spent_token_presented",
        secrets=(first.refresh_token, second.refresh_token, first.access_token),
    )  # fmt: skip
    assert line["user_id"] == "usr_1" and line["family_id"].startswith("fam_")


def test_a_rotation_that_loses_the_race_with_no_successor_to_answer_is_reuse_too(log_lines, capsys):
    # Without a grace window (refresh_grace_s=0) the winner keeps no successor for the loser.
    class RacedTokens(MemoryTokens):
        def spend(self, token_hash: str, *, now: float, successor: str | None, grace_until: float | None) -> bool:
            super().mark_used(token_hash, now=now)  # the parallel request spent it a moment ago
            return False

    store = RacedTokens()
    tokens = token_service(store)
    pair = tokens.issue("usr_2")
    capsys.readouterr()
    with pytest.raises(Unauthorized) as exc:
        tokens.rotate(pair.refresh_token)
    assert exc.value.code == "refresh_token_reused" and store.revoked
    line = assert_one_event(log_lines, capsys, "refresh_token_reuse", "lost_rotation_race", secrets=(pair.refresh_token,))
    assert line["user_id"] == "usr_2"


def test_attempts_exhausted_is_an_otp_lockout(log_lines, capsys):
    service, sender, _ = otp_service(max_attempts=2)
    issued = service.request("9876543210", None, "1.2.3.4")
    code = sender.sent[-1][1]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            service.verify(issued.challenge_id, wrong)
    capsys.readouterr()
    assert security_lines(log_lines) == []  # wrong codes within the allowance are no event
    with pytest.raises(RateLimited) as exc:
        service.verify(issued.challenge_id, wrong)
    assert exc.value.code == "otp_attempts_exceeded"
    line = assert_one_event(log_lines, capsys, "otp_lockout", "attempts_exhausted", secrets=(code, wrong))
    assert line["phone"] == MASKED


def test_the_failed_verify_limit_is_an_otp_lockout(log_lines, capsys):
    service, sender, _ = otp_service(failed_verifies_per_hour=2, max_attempts=5, resend_after_s=0)
    for _ in range(2):
        issued = service.request("9876543210", None, "1.2.3.4")
        code = sender.sent[-1][1]
        with pytest.raises(Unauthorized):
            service.verify(issued.challenge_id, "000000" if code != "000000" else "111111")
    issued = service.request("9876543210", None, "1.2.3.4")
    capsys.readouterr()
    with pytest.raises(RateLimited):
        service.verify(issued.challenge_id, sender.sent[-1][1])
    line = assert_one_event(log_lines, capsys, "otp_lockout", "failed_verifies_per_hour", secrets=(sender.sent[-1][1],))
    assert line["phone"] == MASKED and line["retry_after_s"] >= 1


@pytest.mark.parametrize(
    ("policy", "ips", "reason"),
    [
        ({"per_number_per_hour": 1, "resend_after_s": 0}, ["1.1.1.1", "2.2.2.2"], "number_per_hour"),
        ({"per_ip_per_minute": 1, "resend_after_s": 0}, ["1.1.1.1", "1.1.1.1"], "ip_per_minute"),
        ({"per_ip_per_minute": 10, "per_ip_per_hour": 1, "resend_after_s": 0}, ["1.1.1.1", "1.1.1.1"], "ip_per_hour"),
        ({"resend_after_s": 30}, ["1.1.1.1", "2.2.2.2"], "resend_too_soon"),
    ],
)
def test_rate_limit_refusals_are_logged_masked_and_counted(log_lines, capsys, policy, ips, reason):
    service, sender, _ = otp_service(**policy)
    service.request("9876543210", None, ips[0])
    capsys.readouterr()
    assert security_lines(log_lines) == []  # an admitted request is no event
    with pytest.raises(RateLimited):
        service.request("9876543210", None, ips[1])
    line = assert_one_event(log_lines, capsys, "rate_limited", reason, secrets=(sender.sent[-1][1],))
    assert line["phone"] == MASKED and line["source"] == ips[1] and line["retry_after_s"] >= 1


def test_an_event_carries_only_identifiers():
    with pytest.raises(ValueError):
        security_event("rate_limited", "x", code="123456")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        security_event("bogus", "x")  # type: ignore[arg-type]


def test_within_the_grace_a_replay_is_no_security_event_and_a_second_one_is(log_lines, capsys):
    tokens = TokenService(
        KEYS, MemoryTokens(), FakeClock(),
        issuer="https://issuer", audience="melody-api", access_ttl_s=900, refresh_ttl_s=86400, refresh_grace_s=60,
    )  # fmt: skip
    first = tokens.issue("usr_3")
    second, _ = tokens.rotate(first.refresh_token)
    capsys.readouterr()
    again, _ = tokens.rotate(first.refresh_token)  # the answer to the rotation was lost
    assert again.refresh_token == second.refresh_token
    assert security_lines(log_lines) == []
    assert not any(first.refresh_token in json.dumps(line) or second.refresh_token in json.dumps(line)
                   for line in log_lines())  # fmt: skip
    with pytest.raises(Unauthorized) as exc:
        tokens.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused"
    line = assert_one_event(
        log_lines, capsys, "refresh_token_reuse", "spent_token_presented",
        secrets=(first.refresh_token, second.refresh_token, second.access_token),
    )  # fmt: skip
    assert line["user_id"] == "usr_3"
