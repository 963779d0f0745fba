"""Request and response bodies of the developer (keys, usage) and B2B (analyze) routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from melody.api.error_codes import error_code
from melody.conversions.schemas import MAX_UPLOAD_BYTES, AnalysisOut, PresignedPost
from melody.developer.plans import PlanName  # noqa: TC001 - pydantic resolves it at runtime

if TYPE_CHECKING:
    from melody.developer.models import ApiKeyRecord
    from melody.developer.service import KeyUsage

__all__ = [
    "AnalyzeJobOut",
    "AnalyzeRequest",
    "AnalyzeUploadOut",
    "ApiKeyCreated",
    "ApiKeyOut",
    "ApiKeysOut",
    "CreateKeyRequest",
    "DayUsageOut",
    "KeyUsageOut",
    "PlanOut",
    "QueryRequest",
    "UsageOut",
]


def _json_integer(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, description="Yours to tell keys apart (any script).")
    plan: PlanName = Field(default="free", description="A self-serve plan (`free` unless the operators allow more).")


class PlanOut(BaseModel):
    name: PlanName
    rate_per_s: int = Field(description="Requests per second (`RateLimit-Limit`).")
    monthly_quota: int = Field(description="Requests per calendar month (UTC).")


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it; the key itself is never shown again.")
    plan: PlanOut
    created_at: int
    last_used_at: int | None = Field(description="Epoch seconds, to the minute.")
    revoked_at: int | None
    active: bool

    @classmethod
    def of(cls, record: ApiKeyRecord, plan: PlanOut) -> ApiKeyOut:
        return cls(
            key_id=record.key_id,
            name=record.name,
            prefix=record.prefix,
            plan=plan,
            created_at=int(record.created_at),
            last_used_at=int(record.last_used_at) if record.last_used_at else None,
            revoked_at=int(record.revoked_at) if record.revoked_at else None,
            active=record.active,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key, shown this once: store it now (`X-API-Key: <key>`).")


class ApiKeysOut(BaseModel):
    items: list[ApiKeyOut]


class DayUsageOut(BaseModel):
    date: str = Field(description="YYYY-MM-DD (UTC)")
    calls: int
    analyses: int = Field(description="Analyses billed (each audio once per key).")


class KeyUsageOut(BaseModel):
    key_id: str
    name: str
    prefix: str
    active: bool
    calls: int
    analyses: int
    days: list[DayUsageOut]

    @classmethod
    def of(cls, usage: KeyUsage) -> KeyUsageOut:
        r = usage.record
        return cls(
            key_id=r.key_id,
            name=r.name,
            prefix=r.prefix,
            active=r.active,
            calls=usage.calls,
            analyses=usage.analyses,
            days=[DayUsageOut(date=d, calls=c, analyses=a) for d, c, a in usage.days],
        )


class UsageOut(BaseModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    calls: int
    analyses: int
    days: list[DayUsageOut] = Field(description="Every day of the range, all your keys together.")
    keys: list[KeyUsageOut]

    model_config = ConfigDict(populate_by_name=True)


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=300, json_schema_extra=error_code("invalid_query"))
    limit: int = Field(default=20, ge=1, le=100, json_schema_extra=error_code("invalid_limit"))


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(
        min_length=7,
        max_length=100,
        pattern=r"^audio/[A-Za-z0-9.+-]+$",
        json_schema_extra=error_code("unsupported_media_type"),
    )
    size_bytes: Annotated[int, BeforeValidator(_json_integer)] = Field(
        gt=0,
        le=MAX_UPLOAD_BYTES,
        json_schema_extra=error_code("validation_error", less_than_equal="file_too_large"),
        description="The file's exact size in bytes: the upload form accepts a file of this size only.",
    )
    stems: bool = Field(default=False, description="Also return the instrumental and vocal stems.")


AnalyzeStatus = Literal["awaiting_upload", "queued", "processing", "succeeded", "failed"]


class AnalyzeJobOut(BaseModel):
    job_id: str
    status: AnalyzeStatus
    stage: str | None = None
    progress: int = 0
    stems_requested: bool
    error: dict[str, str] | None = None
    content_hash: str | None = Field(default=None, description="SHA-256 of the audio: results are shared by content.")
    billed: bool | None = Field(
        default=None, description="Whether reading this result billed an analysis now (each audio once per key)."
    )
    analysis: AnalysisOut | None = None
    waveform_url: str | None = None
    instrumental_url: str | None = Field(default=None, description="Only when `stems` was asked for.")
    vocals_url: str | None = Field(default=None, description="Only when `stems` was asked for.")


class AnalyzeUploadOut(AnalyzeJobOut):
    upload: PresignedPost = Field(description="POST the file to `url` with `fields` (multipart form), then poll the job.")
    max_bytes: int
