from __future__ import annotations

import threading

import jwt
import pytest

from melody.auth.keys import KeyMaterial, generate_key_material_json, upgrade_key_material_json
from melody.auth.tokens import TokenService, hash_refresh_token, open_successor
from melody.auth.verify import AccessTokenVerifier
from melody.core.errors import Unauthorized
from tests.support.keys import ec_key_document
from tests.unit.auth.fakes import FakeClock, MemoryTokens

KEYS = KeyMaterial.from_json(generate_key_material_json())


def make(clock=None, access_ttl=900, grace=0, store=None):
    clock = clock or FakeClock()
    store = store or MemoryTokens()
    service = TokenService(
        KEYS, store, clock, issuer="https://iss", audience="melody-api", access_ttl_s=access_ttl, refresh_ttl_s=3600,
        refresh_grace_s=grace,
    )  # fmt: skip
    verifier = AccessTokenVerifier(KEYS, issuer="https://iss", audience="melody-api")
    return service, verifier, store, clock


def test_access_token_is_rs256_with_kid_and_verifies():
    # RS256: API Gateway's HTTP API JWT authorizer only accepts RSA-based signatures.
    service, verifier, _, clock = make()
    pair = service.issue("usr_1")
    header = jwt.get_unverified_header(pair.access_token)
    assert header["alg"] == "RS256" and header["kid"] == KEYS.current.kid
    # The verifier uses real time; check with PyJWT against the JWKS key instead.
    key = jwt.PyJWK(KEYS.jwks()["keys"][0]).key
    claims = jwt.decode(
        pair.access_token,
        key,
        algorithms=["RS256"],
        audience="melody-api",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["sub"] == "usr_1" and claims["exp"] - claims["iat"] == 900


def test_verifier_accepts_fresh_tokens_and_refuses_tampered_or_foreign_ones():
    import time

    service, verifier, _, _ = make(clock=FakeClock(time.time()))
    token = service.issue("usr_1").access_token
    assert verifier.verify(token).user_id == "usr_1"
    head, body, sig = token.split(".")
    with pytest.raises(Unauthorized):
        verifier.verify(f"{head}.{body}x.{sig}")
    other = KeyMaterial.from_json(generate_key_material_json())
    forged = jwt.encode({"sub": "usr_2"}, other.current.private_key, algorithm="RS256", headers={"kid": KEYS.current.kid})
    with pytest.raises(Unauthorized):
        verifier.verify(forged)
    hs = jwt.encode({"sub": "usr_2"}, "secret", algorithm="HS256", headers={"kid": KEYS.current.kid})
    with pytest.raises(Unauthorized):
        verifier.verify(hs)


def test_expired_access_token():
    service, verifier, _, _ = make(clock=FakeClock(1_000_000), access_ttl=60)
    with pytest.raises(Unauthorized) as exc:
        verifier.verify(service.issue("usr_1").access_token)
    assert exc.value.code == "token_expired"


def test_rotation_and_reuse_revokes_the_family():
    service, _, store, _ = make()
    first = service.issue("usr_1")
    second, user = service.rotate(first.refresh_token)
    assert user == "usr_1"
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused"
    with pytest.raises(Unauthorized):
        service.rotate(second.refresh_token)


def test_expired_and_garbage_refresh_tokens():
    service, _, _, clock = make()
    pair = service.issue("usr_1")
    with pytest.raises(Unauthorized):
        service.rotate("garbage-token-value")
    clock.advance(3601)
    with pytest.raises(Unauthorized) as exc:
        service.rotate(pair.refresh_token)
    assert exc.value.code == "refresh_token_expired"


def test_logout_revokes():
    service, _, _, _ = make()
    pair = service.issue("usr_1")
    assert service.revoke(pair.refresh_token) == "usr_1"
    with pytest.raises(Unauthorized):
        service.rotate(pair.refresh_token)


def test_key_material_round_trips_and_publishes_public_keys_only():
    jwks = KEYS.jwks()
    public = jwks["keys"][0]
    assert public["kty"] == "RSA" and public["alg"] == "RS256" and public["kid"] == KEYS.current.kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(public)  # no private part


def test_a_key_verifies_only_with_its_own_algorithm():
    import time

    service, verifier, _, _ = make(clock=FakeClock(time.time()))
    claims = jwt.decode(service.issue("usr_1").access_token, options={"verify_signature": False})
    # A valid signature by the same RSA key under another algorithm (PS256) is refused.
    ps = jwt.encode(claims, KEYS.current.private_key, algorithm="PS256", headers={"kid": KEYS.current.kid})
    with pytest.raises(Unauthorized):
        verifier.verify(ps)


def test_tokens_signed_by_an_older_ec_key_still_verify_after_the_upgrade():
    import time

    document = ec_key_document()
    old = KeyMaterial.from_json(document)
    upgraded = KeyMaterial.from_json(upgrade_key_material_json(document))
    assert upgraded.hmac_key == old.hmac_key and upgraded.algorithms() == ["ES256", "RS256"]

    def token(keys):
        service = TokenService(keys, MemoryTokens(), FakeClock(time.time()), issuer="https://iss",
                               audience="melody-api", access_ttl_s=900, refresh_ttl_s=3600)
        return service.issue("usr_1").access_token

    verifier = AccessTokenVerifier(upgraded, issuer="https://iss", audience="melody-api")
    old_token, new_token = token(old), token(upgraded)
    assert jwt.get_unverified_header(old_token)["alg"] == "ES256"
    assert jwt.get_unverified_header(new_token)["alg"] == "RS256"
    assert verifier.verify(old_token).user_id == verifier.verify(new_token).user_id == "usr_1"
    assert upgrade_key_material_json(generate_key_material_json()) is None  # RSA already: unchanged


# -- the grace for a refresh whose answer was lost ------------------------------------------------


def assert_family_revoked(service, *tokens):
    for token in tokens:
        with pytest.raises(Unauthorized):
            service.rotate(token)


def test_a_lost_answer_is_answered_again_with_the_same_pair_and_the_session_goes_on():
    service, _, store, clock = make(grace=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)  # this answer never reaches the client
    clock.advance(30)
    again, user = service.rotate(first.refresh_token)
    assert user == "usr_1"
    assert (again.refresh_token, again.access_token) == (second.refresh_token, second.access_token)
    assert again.expires_in == 900 - 30 and again.refresh_expires_in == 3600 - 30  # what is left of them
    third, _ = service.rotate(again.refresh_token)  # the pair works
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)
    assert not store.revoked


def test_the_successor_is_stored_sealed_and_only_the_spent_token_opens_it():
    service, _, store, _ = make(grace=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)
    record = store.items[hash_refresh_token(first.refresh_token)]
    assert record.successor and record.grace_until is not None
    assert second.refresh_token not in record.successor and second.access_token not in record.successor
    assert open_successor(first.refresh_token, record.successor)[1] == second.refresh_token
    assert open_successor(second.refresh_token, record.successor) is None  # another token's key
    tampered = record.successor[:-4] + ("AAAA" if not record.successor.endswith("AAAA") else "BBBB")
    assert open_successor(first.refresh_token, tampered) is None
    assert open_successor(first.refresh_token, "garbage") is None


def test_a_replay_after_the_window_revokes_the_family():
    service, _, store, clock = make(grace=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)
    clock.advance(61)
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused" and store.revoked
    assert_family_revoked(service, second.refresh_token)


def test_a_second_replay_within_the_window_revokes_the_family():
    service, _, store, clock = make(grace=60)
    first = service.issue("usr_1")
    service.rotate(first.refresh_token)
    again, _ = service.rotate(first.refresh_token)
    clock.advance(5)
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused" and store.revoked
    assert_family_revoked(service, again.refresh_token)


def test_a_replay_after_the_successor_was_used_is_reuse():
    # The answer was not lost (the client went on with it): an old token coming back is a replay.
    service, _, store, _ = make(grace=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)
    third, _ = service.rotate(second.refresh_token)
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused" and store.revoked
    assert_family_revoked(service, third.refresh_token)


def test_without_a_grace_an_immediate_replay_is_reuse_as_before():
    service, _, store, _ = make(grace=0)
    first = service.issue("usr_1")
    service.rotate(first.refresh_token)
    assert store.items[hash_refresh_token(first.refresh_token)].successor is None  # nothing kept
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "refresh_token_reused"


def test_a_logged_out_family_is_not_answered_within_the_grace():
    service, _, _, _ = make(grace=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)
    service.revoke(second.refresh_token)
    with pytest.raises(Unauthorized) as exc:
        service.rotate(first.refresh_token)
    assert exc.value.code == "invalid_refresh_token"


def test_a_grace_longer_than_the_access_token_lives_answers_a_fresh_access_token():
    service, verifier, _, clock = make(grace=300, access_ttl=60)
    first = service.issue("usr_1")
    second, _ = service.rotate(first.refresh_token)
    clock.advance(120)
    again, _ = service.rotate(first.refresh_token)
    assert again.refresh_token == second.refresh_token
    assert again.access_token != second.access_token and again.expires_in == 60


def test_two_racing_rotations_get_the_same_successor_and_nothing_is_revoked():
    class Interleaved(MemoryTokens):
        """Both requests read the token unspent before either spends it (the race the store must settle)."""

        def __init__(self) -> None:
            super().__init__()
            self.both_read = threading.Barrier(2, timeout=5)
            self.racing: str | None = None  # the hash both requests present

        def get(self, token_hash):
            record = super().get(token_hash)
            if token_hash == self.racing and record is not None and record.used_at is None:
                try:
                    self.both_read.wait()
                except threading.BrokenBarrierError:
                    pass
            return record

    store = Interleaved()
    service, _, _, _ = make(grace=60, store=store)
    first = service.issue("usr_1")
    store.racing = hash_refresh_token(first.refresh_token)
    results: list = [None, None]

    def refresh(i: int) -> None:
        try:
            results[i] = service.rotate(first.refresh_token)[0]
        except Unauthorized as exc:
            results[i] = exc

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.racing = None
    a, b = results
    assert not isinstance(a, Exception) and not isinstance(b, Exception), results
    assert a.refresh_token == b.refresh_token and a.access_token == b.access_token
    assert not store.revoked
    # The loser's own pair was never handed out and is gone; the shared one works.
    assert len([r for r in store.items.values() if r.used_at is None]) == 1
    service.rotate(a.refresh_token)
