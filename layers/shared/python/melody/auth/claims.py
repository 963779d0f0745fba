"""What a verified access token says about its caller.

Apart from :mod:`melody.auth.verify` (which imports PyJWT and its crypto backend) so that every
route's dependency can name it without loading the verifier at import time (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AccessClaims"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    token_id: str
    expires_at: int
    roles: tuple[str, ...] = ()
