"""Score records and where a score's files live."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

ScoreStatus = Literal["awaiting_upload", "queued", "processing", "succeeded", "failed"]
ScoreFormat = Literal["musicxml", "midi", "abc"]

# Uploads land under the uploads bucket's ``uploads/`` prefix (its lifecycle expires them), in a
# ``scores/`` folder the audio trigger does not match; the accepted copy and results are in media.
UPLOAD_PREFIX = "uploads/scores/"
ORIGINALS_PREFIX = "originals/scores/"
RESULTS_PREFIX = "scores/"
UPLOAD_KEY = re.compile(r"^uploads/scores/(?P<user>usr_[a-z0-9]+)/(?P<score>scr_[a-z0-9]+)/(?P<file>[^/]+)$")

# Extension → (format, the Content-Type the form binds and the object is stored with).
EXTENSIONS: dict[str, tuple[ScoreFormat, str]] = {
    "musicxml": ("musicxml", "application/vnd.recordare.musicxml+xml"),
    "xml": ("musicxml", "application/vnd.recordare.musicxml+xml"),
    "mxl": ("musicxml", "application/vnd.recordare.musicxml"),
    "mid": ("midi", "audio/midi"),
    "midi": ("midi", "audio/midi"),
    "abc": ("abc", "text/vnd.abc"),
}
CONTENT_TYPES = frozenset(content_type for _, content_type in EXTENSIONS.values())
# Failures caused by the file itself: a retry cannot fix them; the object is kept.
INPUT_ERROR_CODES = frozenset(
    {"score_corrupt", "score_unsupported", "score_too_large", "score_empty", "size_mismatch", "upload_rejected", "object_missing"}
)


class ScoreErrorInfo(BaseModel):
    code: str
    message: str


class Score(BaseModel):
    score_id: str
    user_id: str
    status: ScoreStatus
    filename: str
    title: str
    format: ScoreFormat
    content_type: str
    size_bytes: int
    bucket: str  # where the upload form writes
    key: str
    upload_etag: str | None = None
    original_bucket: str | None = None  # the accepted upload's immutable copy (media bucket)
    original_key: str | None = None
    content_hash: str | None = None
    reused: bool = False  # the analysis of the same bytes uploaded before was reused (records from before owned_results)
    # The results are this score's own, under scores/<user>/<score>/. Records written before read as
    # False: theirs are under scores/<content hash>/, shared by every score of the same bytes.
    owned_results: bool = False
    summary: dict[str, Any] = Field(default_factory=dict)  # key, measures, parts, duration: what lists show
    error: ScoreErrorInfo | None = None
    created_at: float
    updated_at: float
    finished_at: float | None = None


def execution_name(score: Score) -> str:
    """The analysis execution's name: the score id (a score is analysed once; never retried)."""
    return score.score_id


def _result_files(base: str) -> dict[str, str]:
    return {"analysis": base + "analysis.json", "musicxml": base + "score.musicxml", "midi": base + "score.mid"}


def result_keys(content_hash: str) -> dict[str, str]:
    """The media keys of one content's analysis and renderings, shared by every upload of it.

    Legacy: only records from before ``owned_results`` name them; nothing writes there any more.
    """
    return _result_files(f"{RESULTS_PREFIX}{content_hash}/")


def _one_segment(value: str) -> bool:
    return bool(value) and "/" not in value and value not in {".", ".."}


def owned_results_prefix(user_id: str, score_id: str) -> str:
    """The media prefix of one score's own results: ``scores/<user>/<score>/``."""
    if not (_one_segment(user_id) and _one_segment(score_id)):
        # An id with a slash could name a prefix inside another score's (or a content hash's).
        raise ValueError("user and score ids must be single key segments")
    return f"{RESULTS_PREFIX}{user_id}/{score_id}/"


def owned_result_keys(user_id: str, score_id: str) -> dict[str, str]:
    """The media keys of one score's own analysis and renderings (what the analyse step writes)."""
    return _result_files(owned_results_prefix(user_id, score_id))


def results_of(score: Score) -> dict[str, str] | None:
    """Where a score's analysis and renderings are: its own keys, or the shared content-hash keys of a
    record from before ``owned_results``; None when it has none (not succeeded, or a legacy record without a hash)."""
    if score.status != "succeeded":
        return None
    if score.owned_results:
        return owned_result_keys(score.user_id, score.score_id)
    return result_keys(score.content_hash) if score.content_hash else None


def summary_of(analysis: dict[str, Any]) -> dict[str, Any]:
    """The few fields a list of scores shows, from the stored analysis."""
    key = analysis.get("key") or {}
    signatures = analysis.get("time_signatures") or []
    return {
        "title": analysis.get("title"),
        "composer": analysis.get("composer"),
        "key": key.get("name"),
        "key_confidence": key.get("confidence"),
        "measures": analysis.get("measures"),
        "parts": len(analysis.get("parts") or []),
        "time_signature": signatures[0]["signature"] if signatures else None,
        "duration_s": analysis.get("duration_s"),
    }
