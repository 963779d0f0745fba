"""Request and response bodies of the auth routes (validated at the edge)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from melody.users.schemas import UserOut


class RequestOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Digits with the usual separators (spaces, dashes, dots, parentheses) and a leading ``+``; whether
    # it is a mobile number of its country is checked against the numbering plan (422 invalid_phone_number).
    phone_number: str = Field(
        min_length=4, max_length=32, pattern=r"^\+?[0-9 ().-]*[0-9][0-9 ().-]*$", examples=["98765 43210"]
    )
    country_code: str | None = Field(default=None, min_length=1, max_length=5, examples=["+91", "IN"])


class OtpChallengeOut(BaseModel):
    challenge_id: str
    expires_at: int
    expires_in: int
    resend_at: int
    code_length: int = 6
    phone_hint: str = Field(
        description="The number the code was sent to, normalised (a trunk prefix such as a leading 0 dropped) "
        "and masked: the country code and the last two digits.",
        examples=["+91 ******** 10"],
    )


class VerifyOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(pattern=r"^otp_[A-Za-z0-9_-]{8,64}$")
    code: str = Field(pattern=r"^[0-9]{6}$")


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=10, max_length=256)




class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_expires_in: int


class LoginOut(TokensOut):
    user: UserOut










