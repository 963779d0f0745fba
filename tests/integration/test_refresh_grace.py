"""A refresh whose answer was lost does not end the session: over HTTP, on moto's DynamoDB.

The previous refresh token is accepted once more within ``refresh_grace_s`` and answered with the
same pair; after the window, or a second time, it is reuse and the family is revoked. Two refreshes
racing with the same token settle on one successor and revoke nothing.
"""

from __future__ import annotations

import threading
import time

import pytest

from melody.auth.dynamodb import DynamoRefreshTokenStore
from melody.auth.tokens import hash_refresh_token
from tests.conftest import auth_header

pytestmark = pytest.mark.integration

REFRESH = "/api/v1/auth/refresh-token"


class MovableClock:
    """Real time plus an offset the test moves (only the refresh-token service reads it for grace)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture()
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture()
def services(dev_settings, sms, clock):
    from melody.core.services import Services

    settings = dev_settings.model_copy(
        update={"otp_per_ip_per_minute": 1000, "otp_per_ip_per_hour": 1000, "otp_resend_after_s": 0}
    )
    assert settings.refresh_grace_s == 60  # the default
    return Services(settings, sms_sender=sms, clock=clock)


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def race_two_refreshes(client, token: str) -> list:
    """Two refreshes with ``token`` released at the same moment; their responses."""
    start = threading.Barrier(2, timeout=10)
    responses: list = [None, None]

    def race(i: int) -> None:
        start.wait()
        responses[i] = refresh(client, token)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def assert_refused(client, *tokens: str) -> None:
    for token in tokens:
        response = refresh(client, token)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] in {"invalid_refresh_token", "refresh_token_reused"}


def test_a_lost_answer_is_answered_again_with_the_same_pair_and_the_session_goes_on(client, login, clock):
    _, first, user = login()
    lost = refresh(client, first)  # the answer never reaches the client
    assert lost.status_code == 200
    clock.advance(20)
    again = refresh(client, first)
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == lost.json()["refresh_token"]
    assert again.json()["access_token"] == lost.json()["access_token"]
    assert 0 < again.json()["expires_in"] <= lost.json()["expires_in"]
    # The pair works: the access token is accepted and the refresh token rotates.
    me = client.get("/api/v1/users/me", headers=auth_header(again.json()["access_token"]))
    assert me.status_code == 200 and me.json()["user_id"] == user["user_id"]
    nxt = refresh(client, again.json()["refresh_token"])
    assert nxt.status_code == 200
    assert refresh(client, nxt.json()["refresh_token"]).status_code == 200


def test_a_replay_after_the_window_revokes_the_family(client, login, clock, services):
    _, first, _ = login()
    second = refresh(client, first).json()["refresh_token"]
    clock.advance(services.settings.refresh_grace_s + 1)
    replay = refresh(client, first)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "refresh_token_reused"
    assert_refused(client, second, first)


def test_a_second_replay_within_the_window_revokes_the_family(client, login, clock):
    _, first, _ = login()
    second = refresh(client, first).json()["refresh_token"]
    again = refresh(client, first)
    assert again.status_code == 200 and again.json()["refresh_token"] == second
    clock.advance(5)
    replay = refresh(client, first)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "refresh_token_reused"
    assert_refused(client, second, first)


def test_two_racing_refreshes_share_one_successor_and_revoke_nothing(client, login, monkeypatch):
    _, first, _ = login()
    presented = hash_refresh_token(first)
    both_read = threading.Barrier(2, timeout=10)
    original_get = DynamoRefreshTokenStore.get

    def get(self, token_hash):  # both requests read the token unspent before either spends it
        record = original_get(self, token_hash)
        if token_hash == presented and record is not None and record.used_at is None:
            both_read.wait()
        return record

    monkeypatch.setattr(DynamoRefreshTokenStore, "get", get)
    responses = race_two_refreshes(client, first)
    monkeypatch.undo()
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    a, b = (r.json() for r in responses)
    assert a["refresh_token"] == b["refresh_token"] and a["access_token"] == b["access_token"]
    # Neither client was signed out: the shared successor goes on rotating.
    nxt = refresh(client, a["refresh_token"])
    assert nxt.status_code == 200, nxt.text
    assert refresh(client, nxt.json()["refresh_token"]).status_code == 200


def test_two_refreshes_in_parallel_without_forcing_the_race(client, login):
    # However the two interleave, both get the same pair and the session survives.
    _, first, _ = login()
    responses = race_two_refreshes(client, first)
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert responses[0].json()["refresh_token"] == responses[1].json()["refresh_token"]
    assert refresh(client, responses[0].json()["refresh_token"]).status_code == 200
