"""Request and response bodies of the renditions routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from melody.api.error_codes import error_code
from melody.conversions.models import JobError
from melody.conversions.schemas import KeyOut, TempoOut
from melody.renditions.models import RenditionFormat, RenditionStatus

if TYPE_CHECKING:
    from melody.renditions.models import Rendition

__all__ = ["RenditionAnalysisOut", "RenditionOut", "RenditionRequest", "StemLink", "StemLinks"]


def _json_integer(value: Any) -> Any:
    """A JSON integer (``2.0`` included, as JSON Schema has it), never a string or a boolean."""
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("must be a number")
    return value


class RenditionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    semitones: Annotated[int, BeforeValidator(_json_integer)] = Field(
        default=0, ge=-6, le=6, description="Transposition in semitones (-6..+6; 0 keeps the key)."
    )
    tempo: Annotated[float, BeforeValidator(_json_number)] = Field(
        default=1.0,
        ge=0.75,
        le=1.25,
        description="Speed factor (0.75..1.25; 0.9 = 10 % slower), rounded to two decimals.",
        json_schema_extra=error_code("validation_error"),
    )
    format: RenditionFormat = Field(
        default="m4a",
        description="`m4a` (AAC, for playing) or `wav` (16-bit PCM, for editing; with 0 semitones and tempo 1.0 "
        "it is a lossless export of the stems).",
    )


class StemLink(BaseModel):
    url: str = Field(description="A short-lived presigned GET (like the job's stems).")
    format: str = Field(description="`m4a` (AAC) or `wav` (16-bit PCM), as asked.")


class StemLinks(BaseModel):
    instrumental: StemLink
    vocals: StemLink


class RenditionAnalysisOut(BaseModel):
    """The job's analysis as the rendition sounds: key moved by the semitones, timing scaled."""

    model_config = ConfigDict(extra="allow")

    semitones: int | None = None
    tempo_factor: float | None = None
    duration_s: float | None = None
    tempo: TempoOut | None = Field(default=None, description="bpm x tempo; beats and downbeats ÷ tempo.")
    key: KeyOut | None = Field(default=None, description="Tonic, Camelot and Open Key moved by the semitones.")


class RenditionOut(BaseModel):
    rendition_id: str
    status: RenditionStatus
    semitones: int
    tempo: float
    format: RenditionFormat = "m4a"
    progress: int = Field(description="0..100")
    stage: str | None = None
    error: JobError | None = None
    stems: StemLinks | None = Field(default=None, description="When succeeded: the rendered stems.")
    analysis: RenditionAnalysisOut | None = None
    expires_in: int | None = Field(default=None, description="Seconds the stem links stay valid.")

    @classmethod
    def of(cls, rendition: Rendition, stems: dict[str, Any] | None = None, expires_in: int | None = None) -> RenditionOut:
        return cls(
            rendition_id=rendition.rendition_id,
            status=rendition.status,
            semitones=rendition.semitones,
            tempo=rendition.tempo,
            format=rendition.format,
            progress=rendition.progress,
            stage=rendition.stage,
            error=JobError(**rendition.error.model_dump()) if rendition.error else None,
            stems=StemLinks(**stems) if stems else None,
            analysis=RenditionAnalysisOut(**rendition.analysis) if rendition.analysis else None,
            expires_in=expires_in if stems else None,
        )
