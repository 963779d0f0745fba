"""Response bodies of the library routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from melody.catalog.models import InstrumentalStatus
from melody.catalog.schemas import JOB_ID_DESCRIPTION, TrackSummary


class LibraryItemOut(BaseModel):
    track_id: str
    track: TrackSummary | None
    added_at: int | None
    updated_at: int
    play_count: int
    last_played_at: int | None
    instrumental_status: InstrumentalStatus
    instrumental_job_id: str | None = Field(description=JOB_ID_DESCRIPTION)
    deleted: bool = False


class LibraryOut(BaseModel):
    items: list[LibraryItemOut]
    next_cursor: str | None


class PlayOut(BaseModel):
    track_id: str
    in_library: bool
    play_count: int | None
    last_played_at: int | None
