"""The one error body of the API: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
