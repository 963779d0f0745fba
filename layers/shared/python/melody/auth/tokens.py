"""Access tokens (short-lived RS256 JWTs with ``kid``) and rotating refresh tokens.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each login starts a
*family*; a refresh spends the presented token and issues the next one in the same family.
Presenting a spent token again means it was stolen or replayed, so the whole family is revoked
(OAuth 2.0 Security BCP, refresh token rotation with reuse detection), and the reuse is a
security event (:mod:`melody.auth.security_events`; an alarm fires on any).

A refresh whose answer was lost (a flaky network) must not end the session: for ``refresh_grace_s``
after a token is spent, it is accepted *once* more and answered with the very pair its rotation
issued. Only token hashes are stored, so the rotation keeps that pair sealed in the spent token's
record: AES-256-GCM under a key derived (HKDF-SHA256) from the spent token itself, bound to its hash,
so only whoever holds that token can open it. The spend (with the sealed pair and the end of the
window) and the one replay are each a single conditional write, so of two racing refreshes with the
same token one rotates and the other is answered the same pair, and nothing is revoked. A replay
after the window, a second replay, or one after the successor was already used (its answer was not
lost) is reuse, as before. Tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
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
_SEAL_VERSION = "v1."
_SEAL_INFO = b"melody refresh-token successor v1"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class IssuedPair:
    """A pair as issued, with the absolute expiry times a replay answers from."""

    pair: TokenPair
    access_expires_at: int
    refresh_expires_at: int


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _seal_key(refresh_token: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(refresh_token.encode())


def seal_successor(previous_token: str, issued: IssuedPair) -> str:
    """The pair ``previous_token``'s rotation issued, encrypted so that only that token opens it."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    payload = json.dumps(
        {
            "a": issued.pair.access_token,
            "r": issued.pair.refresh_token,
            "ae": issued.access_expires_at,
            "re": issued.refresh_expires_at,
        }
    ).encode()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_seal_key(previous_token)).encrypt(nonce, payload, hash_refresh_token(previous_token).encode())
    return _SEAL_VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_successor(previous_token: str, sealed: str) -> tuple[str, str, int, int] | None:
    """(access token, refresh token, access expiry, refresh expiry), or None when it does not open."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not sealed.startswith(_SEAL_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_SEAL_VERSION) :])
        plain = AESGCM(_seal_key(previous_token)).decrypt(
            raw[:12], raw[12:], hash_refresh_token(previous_token).encode()
        )
        body = json.loads(plain)
        return str(body["a"]), str(body["r"]), int(body["ae"]), int(body["re"])
    except (InvalidTag, ValueError, KeyError, TypeError):
        return None


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
        refresh_grace_s: int = 0,
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
        self._grace_s = refresh_grace_s

    def issue(self, user_id: str, family_id: str | None = None) -> TokenPair:
        return self._issue(user_id, family_id).pair

    def _access_token(self, user_id: str, now: int) -> str:
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
        return jwt.encode(
            claims,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )

    def _issue(self, user_id: str, family_id: str | None) -> IssuedPair:
        now = int(self._clock.now())
        access = self._access_token(user_id, now)
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
        return IssuedPair(
            TokenPair(access, refresh, self._access_ttl_s, self._refresh_ttl_s),
            access_expires_at=now + self._access_ttl_s,
            refresh_expires_at=now + self._refresh_ttl_s,
        )

    def rotate(self, refresh_token: str) -> tuple[TokenPair, str]:
        """Spend ``refresh_token`` and issue the next pair; returns it with the user id.

        Within the grace window the token just spent is answered once more with the same pair.
        """
        record = self._live_record(refresh_token, allow_used=True)
        now = self._clock.now()
        reason = "spent_token_presented"
        if record.used_at is None:
            # The successor is stored before the spend makes it reachable, so a racing refresh that is
            # answered it can use it at once.
            issued = self._issue(record.user_id, record.family_id)
            sealed = seal_successor(refresh_token, issued) if self._grace_s else None
            grace_until = now + self._grace_s if self._grace_s else None
            if self._store.spend(record.token_hash, now=now, successor=sealed, grace_until=grace_until):
                return issued.pair, record.user_id
            # A parallel rotation spent it first: this pair was never handed out; answer with that one's.
            self._discard(issued.pair.refresh_token)
            record = self._store.get(record.token_hash) or record
            reason = "lost_rotation_race"
        pair = self._replay(refresh_token, record, now)
        if pair is None:
            raise self._reused(record, now, reason=reason)
        return pair, record.user_id

    def _replay(self, refresh_token: str, record: RefreshTokenRecord, now: float) -> TokenPair | None:
        """The pair the spend of ``record`` issued, when this is the one replay its grace allows; else None."""
        if (
            not self._grace_s
            or record.successor is None
            or record.grace_until is None
            or record.grace_used_at is not None
            or now > record.grace_until
        ):
            return None
        opened = open_successor(refresh_token, record.successor)
        if opened is None:
            return None
        access, refresh, access_expires_at, refresh_expires_at = opened
        successor = self._store.get(hash_refresh_token(refresh))
        if successor is None or successor.used_at is not None:
            return None  # the successor was used: its answer was not lost, so this is a replay
        if not self._store.use_grace(record.token_hash, now=now):  # another replay was answered first
            return None
        if access_expires_at <= now:  # a grace longer than the access tokens live: sign a fresh one
            access_expires_at = int(now) + self._access_ttl_s
            access = self._access_token(record.user_id, int(now))
        from melody.core.observability import logger

        logger.info("refresh answered again within its grace", extra={"user_id": record.user_id, "family_id": record.family_id})
        return TokenPair(
            access,
            refresh,
            expires_in=max(1, int(access_expires_at - now)),
            refresh_expires_in=max(1, int(refresh_expires_at - now)),
        )

    def _discard(self, refresh_token: str) -> None:
        try:
            self._store.discard(hash_refresh_token(refresh_token))
        except Exception:  # best effort: an unknown, unused token record expires by itself
            from melody.core.observability import logger

            logger.warning("could not discard an unused refresh-token record", exc_info=True)

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
