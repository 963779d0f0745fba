"""The issuer's public keys fetched from its JWKS URL, for functions that verify but never sign.

Only the auth function holds the private signing key (and the HMAC key). Every other function
verifies access tokens against ``<issuer>/.well-known/jwks.json``, as API Gateway's JWT authorizer
does: keys are cached for ``ttl_s``; an unknown ``kid`` (a key rotated in) triggers one early
refresh, at most every ``min_refresh_s``, so forged kids cannot make the function hammer the issuer.
Each key's algorithm follows from its key type, never from the token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from melody.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

_ALGORITHM_BY_KTY = {"RSA": "RS256", "EC": "ES256"}


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: Any
    algorithm: str

    def public_key(self) -> Any:
        return self.key


def parse_jwks(document: dict[str, Any]) -> dict[str, PublicKey]:
    """Signing keys by kid; keys of another use or type, or whose alg disagrees with their type, are skipped."""
    keys: dict[str, PublicKey] = {}
    for jwk in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(jwk, dict) or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
            continue
        algorithm = _ALGORITHM_BY_KTY.get(jwk.get("kty", ""))
        if algorithm is None or jwk.get("alg", algorithm) != algorithm:
            continue
        try:
            keys[str(jwk["kid"])] = PublicKey(str(jwk["kid"]), jwt.PyJWK(jwk, algorithm=algorithm).key, algorithm)
        except jwt.PyJWTError:
            continue
    return keys


class RemoteJwks:
    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        ttl_s: float = 300,
        min_refresh_s: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client or httpx.Client(timeout=3.0)
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at: float | None = None  # the last good fetch
        self._tried_at: float | None = None  # the last attempt, good or not
        self._lock = threading.Lock()

    def by_kid(self, kid: str) -> PublicKey | None:
        with self._lock:
            now = self._clock()
            recently_tried = self._tried_at is not None and now - self._tried_at < self._min_refresh_s
            stale = self._fetched_at is None or now - self._fetched_at >= self._ttl_s
            if (stale or kid not in self._keys) and not recently_tried:
                self._refresh(now)
            if self._fetched_at is None or now - self._fetched_at >= 4 * self._ttl_s:
                # no keys, or keys too old to trust any longer: the issuer has been down too long
                raise ServiceUnavailable("The token keys could not be fetched.", code="jwks_unavailable")
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        """One fetch; a failure keeps the last good keys (``by_kid`` decides how long they serve) and,
        like a success, holds further attempts back for ``min_refresh_s``: an issuer outage must not
        turn every request into another blocking fetch."""
        self._tried_at = now
        try:
            response = self._client.get(self._url, headers={"accept": "application/json"})
            response.raise_for_status()
            keys = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError):
            return
        self._keys, self._fetched_at = keys, now
