"""Job records and the pipeline's result records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["awaiting_upload", "queued", "processing", "succeeded", "failed"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed"})
# Accepted uploads are copied under this prefix of the media bucket (no upload form can write there).
ORIGINALS_PREFIX = "originals/"
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
    bucket: str  # where the upload form writes (uploads) or the catalog track's audio (media)
    key: str
    # The accepted upload: its ETag, and the immutable copy the pipeline processes and the job
    # serves (``originals/...`` in the media bucket, which no upload form can write). Set once,
    # when the job leaves ``awaiting_upload``; later objects at ``key`` never change them.
    upload_etag: str | None = None
    original_bucket: str | None = None
    original_key: str | None = None
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


def source_location(job: Job) -> tuple[str, str]:
    """Where the job's audio is read from: the accepted copy of an upload, else ``bucket``/``key``."""
    if job.original_bucket and job.original_key:
        return job.original_bucket, job.original_key
    return job.bucket, job.key


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
