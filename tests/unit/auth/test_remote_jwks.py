"""Verifying with the issuer's published JWKS: caching, rotation, outages, and no algorithm from tokens."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from melody.auth.jwks import RemoteJwks, parse_jwks
from melody.auth.keys import KeyMaterial, generate_key_material_json
from melody.auth.tokens import TokenService
from melody.auth.verify import AccessTokenVerifier
from melody.core.errors import ServiceUnavailable, Unauthorized
from tests.unit.auth.fakes import FakeClock, MemoryTokens

URL = "https://issuer.example/.well-known/jwks.json"


class Issuer:
    """Serves the current key material's JWKS and counts fetches."""

    def __init__(self) -> None:
        self.keys = KeyMaterial.from_json(generate_key_material_json())
        self.fetches = 0
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == URL
        self.fetches += 1
        if self.down:
            return httpx.Response(503)
        return httpx.Response(200, json=self.keys.jwks())

    def token(self, keys: KeyMaterial | None = None) -> str:
        service = TokenService(keys or self.keys, MemoryTokens(), FakeClock(time.time()), issuer="https://iss",
                               audience="melody-api", access_ttl_s=900, refresh_ttl_s=3600)
        return service.issue("usr_1").access_token


def _verifier(issuer: Issuer, clock):
    jwks = RemoteJwks(URL, client=httpx.Client(transport=httpx.MockTransport(issuer.handler)), ttl_s=300,
                      min_refresh_s=30, clock=clock)
    return AccessTokenVerifier(jwks, issuer="https://iss", audience="melody-api")


def test_tokens_verify_against_the_published_keys_fetched_once():
    issuer, now = Issuer(), [0.0]
    verifier = _verifier(issuer, lambda: now[0])
    for _ in range(5):
        assert verifier.verify(issuer.token()).user_id == "usr_1"
    assert issuer.fetches == 1
    now[0] = 301
    verifier.verify(issuer.token())
    assert issuer.fetches == 2  # the cache expired


def test_a_rotated_key_is_picked_up_but_unknown_kids_cannot_hammer_the_issuer():
    issuer, now = Issuer(), [0.0]
    verifier = _verifier(issuer, lambda: now[0])
    verifier.verify(issuer.token())
    old = issuer.keys
    issuer.keys = KeyMaterial.from_json(generate_key_material_json())  # rotation at the issuer
    with pytest.raises(Unauthorized):
        verifier.verify(issuer.token())  # too soon after the last fetch: no refresh yet
    forged = jwt.encode({"sub": "x"}, old.current.private_key, algorithm="RS256", headers={"kid": "nope"})
    for _ in range(10):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
    assert issuer.fetches == 1
    now[0] = 31
    assert verifier.verify(issuer.token()).user_id == "usr_1"  # one early refresh finds the new kid
    assert issuer.fetches == 2


def _issuer_down_after_one_good_fetch():
    """A verifier that fetched the keys once at t=0, and an issuer that is down since."""
    issuer, now = Issuer(), [0.0]
    verifier = _verifier(issuer, lambda: now[0])
    token = issuer.token()
    verifier.verify(token)
    issuer.down = True
    return issuer, now, verifier, token


def test_an_issuer_outage_keeps_the_last_keys_then_fails_as_unavailable():
    issuer, now, verifier, token = _issuer_down_after_one_good_fetch()
    now[0] = 301
    assert verifier.verify(token).user_id == "usr_1"  # stale keys still serve through a short outage
    now[0] = 1300
    with pytest.raises(ServiceUnavailable) as exc:
        verifier.verify(token)
    assert exc.value.code == "jwks_unavailable" and exc.value.status == 503


def test_the_algorithm_comes_from_the_key_type_never_the_jwk_or_token():
    issuer = Issuer()
    jwk = issuer.keys.jwks()["keys"][0]
    assert set(parse_jwks({"keys": [jwk]})) == {jwk["kid"]}
    assert parse_jwks({"keys": [{**jwk, "alg": "HS256"}]}) == {}  # disagrees with kty: skipped
    assert parse_jwks({"keys": [{**jwk, "use": "enc"}]}) == {}
    assert parse_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}) == {}
    assert parse_jwks("garbage") == {} and parse_jwks({"keys": ["x"]}) == {}
    verifier = _verifier(issuer, lambda: 0.0)
    hs = jwt.encode({"sub": "x"}, "secret", algorithm="HS256", headers={"kid": jwk["kid"]})
    with pytest.raises(Unauthorized):
        verifier.verify(hs)


def test_a_verify_only_container_uses_the_jwks_and_cannot_log_anyone_in(tmp_path):
    from melody.core.services import Services
    from melody.core.settings import TokenSettings

    services = Services(TokenSettings(_env_file=None, jwks_url=URL, stage="test"))
    assert isinstance(services.verification_keys, RemoteJwks)
    with pytest.raises(RuntimeError):
        services.users.login("+919876543210")  # no HMAC key here: user ids are derived by auth only


def test_an_outage_costs_one_fetch_per_interval_not_one_per_request():
    issuer, now, verifier, token = _issuer_down_after_one_good_fetch()
    now[0] = 301  # the cache has expired and the issuer is down
    for _ in range(50):
        assert verifier.verify(token).user_id == "usr_1"  # the last good keys serve
    assert issuer.fetches == 2
    now[0] = 332  # min_refresh_s later: one more attempt
    verifier.verify(token)
    assert issuer.fetches == 3


def test_an_issuer_down_from_the_start_is_unavailable_without_hammering_it():
    issuer, now = Issuer(), [0.0]
    issuer.down = True
    verifier = _verifier(issuer, lambda: now[0])
    token = issuer.token()
    for _ in range(20):
        with pytest.raises(ServiceUnavailable):
            verifier.verify(token)
    assert issuer.fetches == 1
    issuer.down = False
    now[0] = 31
    assert verifier.verify(token).user_id == "usr_1"
