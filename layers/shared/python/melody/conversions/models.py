"""Job records and the pipeline's result records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["awaiting_upload", "queued", "processing", "succeeded", "failed"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed"})
Engine = Literal["dsp", "lalal", "demucs"]


class JobError(BaseModel):
    code: str
    message: str


class Job(BaseModel):
    job_id: str
    user_id: str
    status: JobStatus
    stage: str | None = None
    progress: int = 0
    engine: Engine = "dsp"
    source: Literal["upload", "catalog"] = "upload"
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    bucket: str
    key: str
    track_id: str | None = None
    content_hash: str | None = None
    result_key: str | None = None
    error: JobError | None = None
    created_at: float
    updated_at: float
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stage_timings: dict[str, float] = Field(default_factory=dict)


class AudioResult(BaseModel):
    """What the pipeline produced for one content hash and engine (shared by every job of it)."""

    result_key: str
    content_hash: str
    engine: str
    engine_version: str
    instrumental_key: str
    vocals_key: str
    waveform_key: str
    analysis_key: str
    analysis: dict[str, Any]
    created_at: float


def result_key_for(content_hash: str, engine: str) -> str:
    return f"{content_hash}#{engine}"
