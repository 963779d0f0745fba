"""Access tokens (short-lived RS256 JWTs with ``kid``) and rotating refresh tokens.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each login starts a
*family*; a refresh spends the presented token and issues the next one in the same family.
Presenting a spent token again means it was stolen or replayed, so the whole family is revoked
(OAuth 2.0 Security BCP, refresh token rotation with reuse detection), and the reuse is a
security event (:mod:`melody.auth.security_events`; an alarm fires on any).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from melody.auth.models import RefreshTokenRecord
from melody.auth.security_events import REFRESH_TOKEN_REUSE, security_event
from melody.core.errors import Unauthorized

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.auth.keys import KeyMaterial
    from melody.auth.ports import RefreshTokenStore
    from melody.core.clock import Clock

REFRESH_PREFIX = "mrt_"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(
        self,
        keys: KeyMaterial,
        store: RefreshTokenStore,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        access_ttl_s: int,
        refresh_ttl_s: int,
        roles_for: Callable[[str], tuple[str, ...]] = lambda _user_id: (),
    ) -> None:
        self._keys = keys
        # A user's roles, read at every issue (login and refresh): a role taken away in settings is
        # gone from the next access token, not only from the next login.
        self._roles_for = roles_for
        self._store = store
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._access_ttl_s = access_ttl_s
        self._refresh_ttl_s = refresh_ttl_s

    def issue(self, user_id: str, family_id: str | None = None) -> TokenPair:
        now = int(self._clock.now())
        key = self._keys.current
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": now + self._access_ttl_s,
            "jti": uuid.uuid4().hex,
            "token_use": "access",
        }
        roles = self._roles_for(user_id)
        if roles:
            claims["roles"] = sorted(roles)
        access = jwt.encode(
            claims,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )
        refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        self._store.put(
            RefreshTokenRecord(
                token_hash=hash_refresh_token(refresh),
                family_id=family_id or "fam_" + secrets.token_hex(12),
                user_id=user_id,
                issued_at=now,
                expires_at=now + self._refresh_ttl_s,
            )
        )
        return TokenPair(access, refresh, self._access_ttl_s, self._refresh_ttl_s)

    def rotate(self, refresh_token: str) -> tuple[TokenPair, str]:
        """Spend ``refresh_token`` and issue the next pair; returns it with the user id."""
        record = self._live_record(refresh_token)
        now = self._clock.now()
        if not self._store.mark_used(record.token_hash, now=now):  # a parallel rotation spent it first
            raise self._reused(record, now, reason="lost_rotation_race")
        return self.issue(record.user_id, record.family_id), record.user_id

    def revoke(self, refresh_token: str) -> str:
        """Log out: revoke the token's whole family. Returns the user id."""
        record = self._live_record(refresh_token, allow_used=True)
        now = self._clock.now()
        self._store.mark_used(record.token_hash, now=now)
        self._store.revoke_family(record.family_id, now=now, expires_at=int(record.expires_at))
        return record.user_id

    def _live_record(self, refresh_token: str, *, allow_used: bool = False) -> RefreshTokenRecord:
        invalid = Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
        if not refresh_token.startswith(REFRESH_PREFIX):
            raise invalid
        record = self._store.get(hash_refresh_token(refresh_token))
        if record is None or self._store.is_family_revoked(record.family_id):
            raise invalid
        if record.expires_at <= self._clock.now():
            raise Unauthorized("The refresh token has expired.", code="refresh_token_expired")
        if record.used_at is not None and not allow_used:
            # Reuse of a spent token: revoke now, before answering.
            raise self._reused(record, self._clock.now(), reason="spent_token_presented")
        return record

    def _reused(self, record: RefreshTokenRecord, now: float, *, reason: str) -> Unauthorized:
        """Revoke the family of a reused token, record the security event, and the error to raise."""
        self._store.revoke_family(record.family_id, now=now, expires_at=int(record.expires_at))
        security_event(REFRESH_TOKEN_REUSE, reason, user_id=record.user_id, family_id=record.family_id)
        return Unauthorized(
            "This refresh token was already used; every session it belonged to is now signed out.",
            code="refresh_token_reused",
        )
