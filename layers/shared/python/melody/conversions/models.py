"""Job records and the pipeline's result records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

JobStatus = Literal["awaiting_upload", "queued", "processing", "succeeded", "failed"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed"})
# Accepted uploads are copied under this prefix of the media bucket (no upload form can write there).
ORIGINALS_PREFIX = "originals/"
# Where a result's objects live in the media bucket: the pipeline's (``steps.py``: stems, analysis and
# the lead sheet's files) and the renditions made from it (``melody.renditions.models.RENDITIONS_PREFIX``);
# deleting a song's last job deletes them, so its role may delete here.
RESULT_PREFIXES = ("stems/", "analysis/", "melody/", "renditions/")
# ``neural``: an operator's ONNX separation model; ``demucs`` is its former name (still accepted).
Engine = Literal["dsp", "lalal", "neural", "demucs"]
# Stems beyond instrumental and vocals that a multi-source engine (neural) produces, in display order.
EXTRA_STEMS = ("drums", "bass", "other")
# Failure codes caused by what the user uploaded (nothing an operator can fix, and a retry cannot).
INPUT_ERROR_CODES = frozenset(
    {"not_audio", "corrupt_audio", "empty_audio", "silent_audio", "too_long", "file_too_large", "size_mismatch", "object_missing"}
)


class JobError(BaseModel):
    code: str
    message: str


class SuggestedTrack(BaseModel):
    """A catalog track an upload's tags and duration seem to match: offered, never applied by itself."""

    track_id: str
    title: str
    artists: list[str] = Field(default_factory=list)
    score: float = 0.0


class Job(BaseModel):
    job_id: str
    user_id: str
    status: JobStatus
    stage: str | None = None
    progress: int = 0
    engine: Engine = "dsp"
    source: Literal["upload", "catalog"] = "upload"
    # "api": a developer's B2B analysis (POST /b2b/analyze), not a song of theirs: no library entry.
    client: Literal["app", "api"] = "app"
    # Whether the stems are wanted: False for a B2B analysis that did not ask for them (the pipeline
    # then analyses only: no separation, no melody). Records from before this field read as True.
    separate: bool = True
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
    # A catalog track: the one converted (``source == "catalog"``), or the one an upload is the
    # user's own copy of (given at upload or confirmed later through ``/link``).
    track_id: str | None = None
    # Uploads: the display title (the file's tags, else the name as typed; never sanitised), the
    # tags the probe read, and the catalog match offered for the user to confirm.
    title: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    duration_s: float | None = None
    suggested_track: SuggestedTrack | None = None
    match_checked: bool = False
    attempt: int = 0  # retries of a failed job; each runs as its own execution
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
    # None in a result stored by an analysis-only job (``has_stems`` False): a later job that wants
    # the stems separates the audio and the result gains them (see ``DynamoResultStore.add_stems``).
    instrumental_key: str | None = None
    vocals_key: str | None = None
    waveform_key: str
    analysis_key: str
    analysis: dict[str, Any]
    created_at: float
    # drums / bass / other -> their keys, when the engine produced them (absent in older results)
    extra_stem_keys: dict[str, str] = Field(default_factory=dict)
    # the lead sheet: {status, notes_count, key, ..., midi_key, musicxml_key} or {status: failed, code}
    # (absent in results from before the melody step, and in results reused from them)
    melody: dict[str, Any] | None = None
    # False: analysis and waveform only (no stems, no melody). Results from before it read as True.
    has_stems: bool = True

    @model_validator(mode="after")
    def _stems_present(self) -> AudioResult:
        if self.has_stems and not (self.instrumental_key and self.vocals_key):
            raise ValueError("a result with stems names their keys")
        return self

    @property
    def stem_keys(self) -> dict[str, str]:
        """Every stem's object key by name (instrumental, vocals, then any extra ones); empty without stems."""
        if not self.has_stems or not self.instrumental_key or not self.vocals_key:
            return {}
        return {"instrumental": self.instrumental_key, "vocals": self.vocals_key, **self.extra_stem_keys}


def execution_name(job: Job) -> str:
    """The pipeline execution's name: the job id, then ``<job id>-r<n>`` for the n-th retry."""
    return job.job_id if job.attempt == 0 else f"{job.job_id}-r{job.attempt}"


def result_key_for(content_hash: str, engine: str, revision: str | None = None) -> str:
    """``<hash>#<engine>@<revision>``, or ``<hash>#<engine>`` without a revision.

    The pipeline's revision (:func:`melody.core.services.result_revisions`) names everything a
    result depends on besides the song: the engine's own version (dsp's version, the neural
    weights' SHA-256) and the analysis' version, e.g. ``<hash>#dsp@1.1.0.a0.2.0``. A job reuses
    only a result of the same key, so after either changes a re-upload is separated and analysed
    again rather than served the old stems and analysis. Results under older keys (``<hash>#dsp``
    and others) stay for the jobs that point at them, until their last job is deleted; no new job
    reuses them.
    """
    return f"{content_hash}#{engine}@{revision}" if revision else f"{content_hash}#{engine}"
