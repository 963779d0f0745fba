from __future__ import annotations

import jwt
import pytest

from melody.auth.keys import KeyMaterial, generate_key_material_json, upgrade_key_material_json
from melody.auth.tokens import TokenService
from melody.auth.verify import AccessTokenVerifier
from melody.core.errors import Unauthorized
from tests.support.keys import ec_key_document
from tests.unit.auth.fakes import FakeClock, MemoryTokens

KEYS = KeyMaterial.from_json(generate_key_material_json())


def make(clock=None, access_ttl=900):
    clock = clock or FakeClock()
    store = MemoryTokens()
    service = TokenService(
        KEYS, store, clock, issuer="https://iss", audience="melody-api", access_ttl_s=access_ttl, refresh_ttl_s=3600
    )
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
