"""Response bodies of the music routes (search, track, trending)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from melody.catalog.keys import has_brahmic, to_latin
from melody.catalog.models import InstrumentalStatus, SourceStatus, Track, TrackDetails


def display_latin(track: Track) -> str | None:
    """The stored Latin title, else a transliteration of an Indian-script title."""
    if track.title_latin:
        return track.title_latin
    if has_brahmic(track.title):
        return to_latin(track.title).title() or None
    return None


JOB_ID_DESCRIPTION = (
    "The caller's own conversion job behind `instrumental_status` (null when none): its stems and "
    "analysis come from `GET /audio/conversion-status/{job_id}`."
)


class TrackSummary(BaseModel):
    id: str
    title: str
    title_latin: str | None
    artists: list[str]
    album: str | None
    language: str | None
    duration_s: int | None

    @classmethod
    def of(cls, track: Track) -> TrackSummary:
        return cls(
            id=track.id,
            title=track.title,
            title_latin=display_latin(track),
            artists=track.artists,
            album=track.album,
            language=track.language,
            duration_s=track.duration_s,
        )


class SearchItem(TrackSummary):
    matched: list[Literal["title", "artists", "album"]]
    score: float


class SearchOut(BaseModel):
    items: list[SearchItem]
    next_offset: int | None
    sources: dict[str, SourceStatus]


class ArtistOut(BaseModel):
    artist_id: str
    name: str


class ExternalLinkOut(BaseModel):
    provider: str
    external_id: str
    url: str | None


AUDIO_URL_DESCRIPTION = (
    "A short-lived presigned GET of the track's original audio, for the player (it expires after "
    "`MELODY_MEDIA_URL_EXPIRES_S`: ask for the track again for a fresh one); null when the track has "
    "no original audio. Search, trending and library lists never carry it."
)


class TrackOut(TrackSummary):
    title_native: str | None
    year: int | None
    genres: list[str]
    isrc: str | None
    popularity: int
    artist_details: list[ArtistOut]
    external_links: list[ExternalLinkOut]
    has_audio: bool
    audio_url: str | None = Field(description=AUDIO_URL_DESCRIPTION)
    instrumental_status: InstrumentalStatus
    instrumental_job_id: str | None = Field(description=JOB_ID_DESCRIPTION)

    @classmethod
    def of_details(
        cls,
        track: TrackDetails,
        status: InstrumentalStatus,
        job_id: str | None = None,
        *,
        audio_url: str | None = None,
    ) -> TrackOut:
        return cls(
            **TrackSummary.of(track).model_dump(),
            title_native=track.title_native,
            year=track.year,
            genres=track.genres,
            isrc=track.isrc,
            popularity=track.popularity,
            artist_details=[ArtistOut(**a.model_dump()) for a in track.artist_refs],
            external_links=[ExternalLinkOut(**e.model_dump()) for e in track.external_links],
            has_audio=track.has_audio and audio_url is not None,  # playable means a URL to play
            audio_url=audio_url,
            instrumental_status=status,
            instrumental_job_id=job_id,
        )


class TrendingItem(TrackSummary):
    plays: int


class TrendingOut(BaseModel):
    timeframe: Literal["daily", "weekly", "monthly"]
    language: str | None
    items: list[TrendingItem]






