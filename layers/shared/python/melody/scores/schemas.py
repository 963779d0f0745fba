"""Request and response bodies of the ``/scores`` routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from melody.api.error_codes import error_code
from melody.scores.models import Score, ScoreErrorInfo, ScoreFormat, ScoreStatus

# The default of MELODY_SCORE_MAX_BYTES: the most the document promises (a stage may allow less).
MAX_SCORE_BYTES = 10 * 1024 * 1024


def _json_integer(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


class ScoreUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["score"] = Field(default="score", description="Always `score` (the audio uploads are `POST /audio/uploads`).")
    filename: str = Field(
        min_length=1,
        max_length=200,
        description="The file's name; its extension picks the format: .musicxml .xml .mxl .mid .midi .abc.",
    )
    size_bytes: Annotated[int, BeforeValidator(_json_integer)] = Field(
        gt=0,
        le=MAX_SCORE_BYTES,
        json_schema_extra=error_code("validation_error", less_than_equal="file_too_large"),
        description="The file's exact size in bytes: the upload form accepts a file of this size only.",
    )


class PresignedScorePost(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Send these form fields first (`Content-Type` included), then `file`.")
    expires_in: int


class ScoreOut(BaseModel):
    score_id: str
    status: ScoreStatus
    title: str
    filename: str
    format: ScoreFormat
    size_bytes: int
    reused: bool = Field(
        description="An earlier upload's analysis of the same file was reused (only scores analysed before each score had its own)."
    )
    summary: dict[str, Any] = Field(description="key, key_confidence, measures, parts, time_signature, duration_s, title, composer")
    error: ScoreErrorInfo | None = Field(
        default=None,
        description="Why the score failed: `score_corrupt`, `score_unsupported`, `score_too_large`, `score_empty`, "
        "`size_mismatch`, `upload_rejected`, `object_missing`, `timeout` or `processing_failed`.",
    )
    created_at: float
    updated_at: float
    finished_at: float | None = None

    @classmethod
    def of(cls, score: Score) -> ScoreOut:
        return cls.model_validate(score.model_dump(include=set(cls.model_fields)))


class ScoreUploadOut(ScoreOut):
    upload: PresignedScorePost
    max_bytes: int


class ScoreDetailOut(ScoreOut):
    analysis: dict[str, Any] | None = Field(
        default=None,
        description="The full analysis once succeeded: parts (with ambitus), measures, time_signatures, tempo_marks, "
        "duration_s, key (with confidence) and key_alternatives, key_timeline, modulations, chords (per measure, "
        "Roman numerals in the local key), cadences, top_voice (interval histogram, contour), rhythmic_density.",
    )
    musicxml_url: str | None = Field(default=None, description="Short-lived URL of the normalised MusicXML (what the view engraves).")
    midi_url: str | None = Field(default=None, description="Short-lived URL of the MIDI rendering.")


class ScoresPage(BaseModel):
    items: list[ScoreOut]
    next_cursor: str | None = None


class ScoreDownloadOut(BaseModel):
    url: str = Field(description="A presigned GET answering `Content-Disposition: attachment` with `filename`.")
    filename: str
    format: Literal["musicxml", "midi", "original"]
    expires_in: int
