"""Access-token verification: every protected route's check, with the issuer's public keys only.

Kept apart from :mod:`melody.auth.tokens` (which signs) so a function that only verifies imports
no signing-key code.
"""

from __future__ import annotations

from typing import Any, Protocol

import jwt

from melody.auth.claims import AccessClaims
from melody.core.errors import Unauthorized

__all__ = ["AccessClaims", "AccessTokenVerifier", "VerificationKey", "VerificationKeys"]


class VerificationKey(Protocol):
    @property
    def kid(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def public_key(self) -> Any: ...


class VerificationKeys(Protocol):
    """The issuer's keys by kid: the local key material, or the published JWKS (``RemoteJwks``)."""

    def by_kid(self, kid: str) -> VerificationKey | None: ...


class AccessTokenVerifier:
    """Verifies access tokens against the published keys (used by every API function)."""

    def __init__(self, keys: VerificationKeys, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.by_kid(str(header.get("kid", "")))
            if key is None:
                raise Unauthorized("The access token was signed by an unknown key.", code="invalid_token")
            claims = jwt.decode(
                token,
                key.public_key(),
                algorithms=[key.algorithm],  # the key's own algorithm, never the header's
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is not valid.", code="invalid_token") from exc
        if claims.get("token_use") != "access":
            raise Unauthorized("The access token is not valid.", code="invalid_token")
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise Unauthorized("The access token is not valid.", code="invalid_token")
        return AccessClaims(
            user_id=claims["sub"], token_id=claims["jti"], expires_at=int(claims["exp"]), roles=tuple(roles)
        )
