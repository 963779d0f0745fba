"""Request and response bodies of the audio (conversion jobs) routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from melody.conversions.models import Engine, Job, JobError, JobStatus


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+$")
    size_bytes: int = Field(gt=0)
    engine: Engine | None = None


class ConvertTrackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_id: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    engine: Engine | None = None


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in: int


class Results(BaseModel):
    instrumental_url: str
    vocals_url: str
    waveform_url: str
    original_url: str
    analysis: dict[str, Any]
    engine: dict[str, str]


class JobOut(BaseModel):
    job_id: str
    status: JobStatus
    stage: str | None
    progress: int
    engine: str
    source: Literal["upload", "catalog"]
    filename: str | None
    track_id: str | None
    error: JobError | None
    results: Results | None
    timings: dict[str, Any]

    @classmethod
    def of(cls, job: Job, results: dict[str, Any] | None = None) -> JobOut:
        timings = {
            "created_at": job.created_at,
            "queued_at": job.queued_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "updated_at": job.updated_at,
            "stages_s": job.stage_timings,
        }
        return cls(
            job_id=job.job_id,
            status=job.status,
            stage=job.stage,
            progress=job.progress,
            engine=job.engine,
            source=job.source,
            filename=job.filename,
            track_id=job.track_id,
            error=job.error,
            results=Results(**results) if results else None,
            timings=timings,
        )


class UploadOut(JobOut):
    upload: PresignedPost
    max_bytes: int


class JobsPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None
