"""Request and response bodies of ``/lyrics`` (validated at the edge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from melody.api.error_codes import error_code
from melody.lyrics.lrc import MAX_LRC_BYTES

if TYPE_CHECKING:
    from melody.lyrics.service import Lyrics

__all__ = ["AttachLyricsRequest", "LyricLineOut", "LyricsOut"]


class AttachLyricsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lrc: str = Field(
        min_length=1,
        max_length=MAX_LRC_BYTES,  # characters here; the parser also bounds the UTF-8 bytes
        description="The text of an `.lrc` file: `[mm:ss.xx]` timed lines, optional `[offset:±ms]`. "
        f"At most {MAX_LRC_BYTES // 1024} KB.",
        json_schema_extra=error_code("invalid_lrc", string_too_long="lrc_too_large"),
    )


class LyricLineOut(BaseModel):
    t: float | None = Field(description="Seconds from the start (the LRC offset applied); null in plain lyrics.")
    text: str = Field(description="The line as written (any script).")
    latin: str | None = Field(
        default=None, description="A Latin transliteration, for lines in an Indic script (Devanagari, Tamil…)."
    )


class LyricsOut(BaseModel):
    track_id: str
    source: Literal["user", "lrclib", "none"] = Field(
        description="`user`: the lyrics you attached; `lrclib`: found on LRCLIB; `none`: no lyrics."
    )
    synced: bool = Field(description="Whether each line has a time.")
    lines: list[LyricLineOut]
    offset_ms: int = Field(default=0, description="The `[offset:]` of the LRC, already applied to `t`.")
    provider_status: str | None = Field(
        default=None,
        description="How the provider answered when asked: `ok`, `not_found`, `skipped`, `timeout`, "
        "`rate_limited`, `error` (offline or failing: no lyrics this time, try later).",
    )
    updated_at: float | None = Field(default=None, description="When you attached them (`source: user`).")

    @classmethod
    def of(cls, lyrics: Lyrics) -> LyricsOut:
        return cls(
            track_id=lyrics.track_id,
            source=lyrics.source,
            synced=lyrics.synced,
            lines=[LyricLineOut(t=line.t, text=line.text, latin=line.latin) for line in lyrics.lines],
            offset_ms=lyrics.offset_ms,
            provider_status=lyrics.provider_status,
            updated_at=lyrics.updated_at,
        )
