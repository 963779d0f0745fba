"""Request and response bodies of the auth, users and system routes (validated at the edge), and the
error body every route answers with (:class:`ErrorOut`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from melody.domain.models import Preferences, User


class RequestOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(min_length=4, max_length=32, examples=["98765 43210"])
    country_code: str | None = Field(default=None, min_length=1, max_length=5, examples=["+91", "IN"])


class OtpChallengeOut(BaseModel):
    challenge_id: str
    expires_at: int
    expires_in: int
    resend_at: int
    code_length: int = 6


class VerifyOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(pattern=r"^otp_[A-Za-z0-9_-]{8,64}$")
    code: str = Field(pattern=r"^[0-9]{6}$")


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=10, max_length=256)


class UserOut(BaseModel):
    user_id: str
    phone_number: str
    name: str | None
    avatar_url: str | None
    preferences: Preferences
    is_verified: bool
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            user_id=user.user_id,
            phone_number=user.phone_e164,
            name=user.name,
            avatar_url=user.avatar_url,
            preferences=user.preferences,
            is_verified=user.is_verified,
            created_at=int(user.created_at),
            updated_at=int(user.updated_at),
        )


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_expires_in: int


class LoginOut(TokensOut):
    user: UserOut


class DependencyState(BaseModel):
    status: Literal["ok", "error", "not_configured"]
    detail: str | None = None
    latency_ms: float | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    dependencies: dict[str, DependencyState]


class FieldIssue(BaseModel):
    """One reason a request failed validation: where (``loc``), why (``message``) and its ``type``."""

    loc: list[str | int] = Field(examples=[["body", "phone_number"]])
    message: str = Field(examples=["Field required"])
    type: str = Field(examples=["missing"])


class ErrorInfo(BaseModel):
    code: str = Field(
        description="Stable and machine-readable, e.g. `not_found`, `otp_expired`.", examples=["not_found"]
    )
    message: str = Field(description="For people; may change.", examples=["No such track."])
    details: list[FieldIssue] | dict[str, Any] | None = Field(
        description="A list of field issues for `validation_error`; otherwise an object (say `retry_after_s`) or null."
    )


class ErrorOut(BaseModel):
    """The body of every error response, whatever its status."""

    error: ErrorInfo
