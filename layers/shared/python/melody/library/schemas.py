"""Response bodies of the library routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from melody.catalog.models import InstrumentalStatus
from melody.catalog.schemas import JOB_ID_DESCRIPTION, TrackSummary


class SuggestedTrackOut(BaseModel):
    track_id: str
    title: str
    artists: list[str] = Field(default_factory=list)
    score: float = 0.0


class UploadInfo(BaseModel):
    """An upload's entry: its title, the catalog track it is (if linked) and the match offered."""

    job_id: str
    title: str
    linked_track_id: str | None
    suggested_track: SuggestedTrackOut | None = Field(
        description="The catalog track the file's tags match, offered only: confirm it with "
        "`POST /audio/jobs/{job_id}/link`."
    )

    @classmethod
    def of(cls, job_id: str, title: str | None, linked: str | None, suggested: dict[str, Any] | None) -> UploadInfo:
        return cls(
            job_id=job_id,
            title=title or "Untitled",
            linked_track_id=linked,
            suggested_track=SuggestedTrackOut(**suggested) if suggested and not linked else None,
        )


class RenameUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="Any characters; shown as typed.")


class LibraryItemOut(BaseModel):
    track_id: str = Field(description="A catalog track id, or an upload's job id (`kind: upload`).")
    kind: Literal["track", "upload"] = "track"
    track: TrackSummary | None
    added_at: int | None
    updated_at: int
    play_count: int
    last_played_at: int | None
    instrumental_status: InstrumentalStatus
    instrumental_job_id: str | None = Field(description=JOB_ID_DESCRIPTION)
    deleted: bool = False
    upload: UploadInfo | None = None


class LibraryOut(BaseModel):
    items: list[LibraryItemOut]
    next_cursor: str | None


class PlayOut(BaseModel):
    track_id: str
    in_library: bool
    play_count: int | None
    last_played_at: int | None
