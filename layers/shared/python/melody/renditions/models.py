"""Rendition records: one per (job result, semitones, tempo), shared by every job of that result."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel

__all__ = [
    "RENDITIONS_PREFIX",
    "STEMS",
    "Rendition",
    "CONTENT_TYPES",
    "RenditionError",
    "RenditionFormat",
    "RenditionStatus",
    "execution_name",
    "media_key",
    "normalise_tempo",
    "rendition_id_for",
]

RenditionStatus = Literal["queued", "processing", "succeeded", "failed"]
RenditionFormat = Literal["m4a", "wav"]
STEMS = ("instrumental", "vocals")
CONTENT_TYPES = {"m4a": "audio/mp4", "wav": "audio/wav"}
# Rendered stems live under this prefix of the media bucket, keyed by content hash and engine.
RENDITIONS_PREFIX = "renditions/"


class RenditionError(BaseModel):
    code: str
    message: str


class Rendition(BaseModel):
    rendition_id: str
    result_key: str  # the job result whose stems it renders ("<content hash>#<engine>")
    semitones: int
    tempo: float
    # wav at 0 semitones and tempo 1.0 is a lossless export of the stems ("wav on request").
    format: RenditionFormat = "m4a"
    status: RenditionStatus
    stage: str | None = None
    progress: int = 0
    error: RenditionError | None = None
    instrumental_key: str | None = None
    vocals_key: str | None = None
    # The job's analysis, shifted: key by the semitones, tempo and beat times by the tempo.
    analysis: dict[str, Any] | None = None
    attempt: int = 0  # a failed rendition asked for again runs as a new execution
    created_at: float
    updated_at: float
    started_at: float | None = None
    finished_at: float | None = None


def normalise_tempo(tempo: float) -> float:
    """The tempo as cached and rendered: two decimals (0.9 and 0.9004 are one rendition)."""
    return round(float(tempo), 2)


def rendition_id_for(result_key: str, semitones: int, tempo: float, fmt: RenditionFormat = "m4a") -> str:
    """The rendition's id: derived from its cache key, so the same request finds the same record."""
    cache_key = f"{result_key}|{int(semitones):+d}|{normalise_tempo(tempo):.2f}"
    if fmt != "m4a":  # m4a ids predate the format and stay as they were
        cache_key += f"|{fmt}"
    return "rnd_" + hashlib.sha256(cache_key.encode()).hexdigest()[:24]


def execution_name(rendition: Rendition) -> str:
    """The execution's name: the rendition id, then ``<id>-r<n>`` for the n-th retry of a failure."""
    return rendition.rendition_id if rendition.attempt == 0 else f"{rendition.rendition_id}-r{rendition.attempt}"


def media_key(rendition: Rendition, stem: str) -> str:
    """Where a rendered stem is stored: deterministic, so a retried step overwrites its own output."""
    digest, _, engine = rendition.result_key.partition("#")
    return f"{RENDITIONS_PREFIX}{digest}/{engine or 'dsp'}/{rendition.semitones:+d}_{rendition.tempo:.2f}/{stem}.{rendition.format}"
