"""Domain records shared by the services and the adapters that persist them."""

from __future__ import annotations

from pydantic import BaseModel


class OtpChallenge(BaseModel):
    challenge_id: str
    phone_e164: str
    code_mac: str
    created_at: float
    expires_at: float
    attempts: int = 0
    consumed: bool = False


class RefreshTokenRecord(BaseModel):
    token_hash: str
    family_id: str
    user_id: str
    issued_at: float
    expires_at: float
    used_at: float | None = None
    # Set by the rotation that spent this token (see melody.auth.tokens): the successor pair sealed
    # with a key only this token's holder can derive, until when it may be answered again, and when
    # that one replay was answered.
    successor: str | None = None
    grace_until: float | None = None
    grace_used_at: float | None = None
