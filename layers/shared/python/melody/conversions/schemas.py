"""Request and response bodies of the audio (conversion jobs) routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from melody.api.error_codes import error_code
from melody.conversions.models import Engine, Job, JobError, JobStatus, SuggestedTrack

TRACK_ID_PATTERN = r"^[A-Za-z0-9_-]+$"

# The default of MELODY_MAX_UPLOAD_BYTES: the most the document promises (a stage may allow less).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def _json_integer(value: Any) -> Any:
    """A JSON integer (``5.0`` included, as JSON Schema has it), never a string or a boolean."""
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


class UploadRequest(BaseModel):
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
    engine: Engine | None = Field(
        default=None,
        description="The separation engine (default: the deployment's); one the deployment does not offer answers 422 "
        "`engine_unavailable` with `details.engines`. `neural` gives drums, bass and other stems too.",
    )
    track_id: str | None = Field(
        default=None,
        min_length=3,
        max_length=64,
        pattern=TRACK_ID_PATTERN,
        description="The catalog track this file is (your own copy): once converted, that track plays from it.",
    )


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_id: str = Field(min_length=3, max_length=64, pattern=TRACK_ID_PATTERN)


class DownloadOut(BaseModel):
    url: str = Field(description="A presigned GET answering `Content-Disposition: attachment` with `filename`.")
    filename: str
    format: str = Field(
        description="`m4a` or `wav` for a stem, as asked; for `original`, the uploaded file's own extension."
    )
    expires_in: int


class DownloadPendingOut(BaseModel):
    """A WAV export being made: ask the same URL again after ``retry_after_s``."""

    status: Literal["preparing"] = "preparing"
    export_id: str
    retry_after_s: int


class MelodyKey(BaseModel):
    tonic: str
    mode: str


class MelodyDownloads(BaseModel):
    midi: str = Field(description="`melody.mid` (presigned GET, short-lived).")
    musicxml: str = Field(description="`melody.musicxml`, the lead sheet (presigned GET, short-lived).")
    notes: str = Field(description="`melody.json`: the notes in seconds and the bar times, to follow the song.")


class MelodyOut(BaseModel):
    """The sung melody of a job's song as a lead sheet."""

    status: Literal["succeeded", "failed", "unavailable"] = Field(
        description="`unavailable`: the song was processed before lead sheets existed."
    )
    code: str | None = Field(default=None, description="Why the melody step failed (the conversion itself succeeded).")
    notes_count: int | None = None
    key: MelodyKey | None = None
    time_signature: str | None = None
    bpm: float | None = None
    tracker: str | None = None
    in_key_ratio: float | None = None
    range: list[int] | None = Field(default=None, description="Lowest and highest MIDI pitch sung.")
    chords: list[str] = Field(default_factory=list, description="One chord symbol per bar that has one.")
    first_bar_s: float | None = Field(default=None, description="Where bar 1 of the lead sheet is in the song.")
    downloads: MelodyDownloads | None = None
    expires_in: int | None = None
    analysis_status: str | None = Field(
        default=None, description="`succeeded`, `skipped` (no score engine installed) or `failed: <code>`."
    )
    analysis: dict[str, Any] | None = Field(default=None, description="The score analysis of the lead sheet.")


class ConvertTrackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_id: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    engine: Engine | None = Field(
        default=None,
        description="The separation engine (default: the deployment's); one the deployment does not offer answers 422 "
        "`engine_unavailable` with `details.engines`.",
    )


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in: int


class RunnerUpKeyOut(BaseModel):
    tonic: str
    mode: str
    camelot: str | None = None
    open_key: str | None = None
    probability: float | None = None


class TempoOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    bpm: float | None = None
    confidence: float | None = Field(default=None, description="Calibrated probability that `bpm` is within 4 %.")
    beats: list[float] = Field(default_factory=list, description="Beat times in seconds.")
    downbeats: list[float] = Field(default_factory=list, description="The beats that start a bar (seconds).")
    time_signature: str | None = Field(default=None, examples=["4/4", "3/4", "6/8"])
    beats_per_bar: int | None = Field(default=None, description="Counted beats, so 6/8 gives 2 (dotted quarters).")


class KeyOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    tonic: str | None = None
    mode: str | None = None
    confidence: float | None = Field(default=None, description="Calibrated probability that the key is exactly right.")
    camelot: str | None = None
    open_key: str | None = None
    tuning_hz: float | None = Field(default=None, description="The recording's A4 reference, estimated (440 = standard).")
    tuning_cents: float | None = Field(default=None, description="Its offset from A440 in cents.")
    runner_up: RunnerUpKeyOut | None = None


class LoudnessOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    integrated_lufs: float | None = None
    range_lu: float | None = None
    true_peak_dbtp: float | None = None


class AnalysisOut(BaseModel):
    """The musical analysis; results made before a field existed simply lack it (null or empty)."""

    model_config = ConfigDict(extra="allow")

    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    tempo: TempoOut | None = None
    key: KeyOut | None = None
    loudness: LoudnessOut | None = None
    energy: float | None = None
    engine: dict[str, str] | None = None


class Results(BaseModel):
    instrumental_url: str | None = Field(
        default=None, description="Null only for a developer API analysis without stems (`client` api; `stems` empty)."
    )
    vocals_url: str | None = Field(
        default=None, description="Null only for a developer API analysis without stems (`client` api; `stems` empty)."
    )
    drums_url: str | None = Field(default=None, description="With a multi-stem engine (`neural`) only.")
    bass_url: str | None = Field(default=None, description="With a multi-stem engine (`neural`) only.")
    other_url: str | None = Field(default=None, description="With a multi-stem engine (`neural`) only.")
    stems: list[str] = Field(
        default_factory=lambda: ["instrumental", "vocals"],
        description="The stems this result has, in display order: instrumental and vocals, then drums, bass, other when "
        "present; empty for a developer API analysis without stems.",
    )
    waveform_url: str
    original_url: str
    analysis: AnalysisOut
    engine: dict[str, str]


class JobOut(BaseModel):
    job_id: str
    status: JobStatus
    stage: str | None
    progress: int
    engine: str
    source: Literal["upload", "catalog"]
    client: Literal["app", "api"] = Field(
        default="app", description="`api`: a developer API analysis (`POST /b2b/analyze`), kept out of the library."
    )
    filename: str | None
    title: str | None = Field(description="Uploads: the file's title tag, else its name as typed.")
    track_id: str | None
    suggested_track: SuggestedTrack | None = Field(
        description="Uploads: the catalog track the file's tags and length match, offered only "
        "(confirm with `POST /audio/jobs/{job_id}/link`)."
    )
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
            client=job.client,
            filename=job.filename,
            title=job.title,
            track_id=job.track_id,
            suggested_track=None if job.track_id else job.suggested_track,
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
