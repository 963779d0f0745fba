"""Response bodies of the music routes (search, track, trending)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


# Where a provider's id alone makes a listening link ("Listen on …") when the catalog has no URL.
PROVIDER_URLS: dict[str, str] = {
    "spotify": "https://open.spotify.com/track/{id}",
    "youtube": "https://www.youtube.com/watch?v={id}",
}
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def provider_url(provider: str, external_id: str) -> str | None:
    """The public page of a Spotify track or YouTube video from its id; None for other providers
    or an id that is not one (never a URL built from arbitrary text)."""
    template = PROVIDER_URLS.get(provider.lower())
    if template is None or not _LINK_ID.match(external_id):
        return None
    return template.format(id=external_id)


class ExternalLinkOut(BaseModel):
    provider: str
    external_id: str
    url: str | None = Field(
        description="The song's page at the provider (\"Listen on …\"): the stored URL, else one made from a "
        "Spotify track or YouTube video id; null when neither is known."
    )

    @classmethod
    def of(cls, provider: str, external_id: str, url: str | None) -> ExternalLinkOut:
        return cls(provider=provider, external_id=external_id, url=url or provider_url(provider, external_id))


class TrackAttributesOut(BaseModel):
    """What the audio pipeline measured on the track's licensed audio (written back to the catalog)."""

    bpm: float | None
    key: str | None = Field(description='Tonic and mode, e.g. "A minor"')
    camelot: str | None = Field(description='Camelot wheel notation, e.g. "8A"')
    energy: float | None = Field(description="0–1")
    loudness_lufs: float | None = Field(description="Integrated loudness (ITU-R BS.1770)")


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
    attributes: TrackAttributesOut | None = Field(
        default=None, description="Analysed attributes of the track's audio; null until the pipeline has run on it."
    )

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
            external_links=[ExternalLinkOut.of(e.provider, e.external_id, e.url) for e in track.external_links],
            has_audio=track.has_audio and audio_url is not None,  # playable means a URL to play
            audio_url=audio_url,
            instrumental_status=status,
            instrumental_job_id=job_id,
            attributes=_attributes(track),
        )


def _attributes(track: TrackDetails) -> TrackAttributesOut | None:
    values = {"bpm": track.bpm, "key": track.musical_key, "camelot": track.camelot, "energy": track.energy,
              "loudness_lufs": track.loudness_lufs}
    return None if all(v is None for v in values.values()) else TrackAttributesOut(**values)


class TrendingItem(TrackSummary):
    plays: int


class TrendingOut(BaseModel):
    timeframe: Literal["daily", "weekly", "monthly"]
    language: str | None
    items: list[TrendingItem]








# -- home ---------------------------------------------------------------------------------------


class HomeItemOut(TrackSummary):
    has_audio: bool = Field(description="The track has licensed audio: playable, and convertible to an instrumental.")
    instrumental_status: InstrumentalStatus
    instrumental_job_id: str | None = Field(description=JOB_ID_DESCRIPTION)


class HomeSectionOut(BaseModel):
    id: Literal["trending", "recently_played", "your_conversions", "ready_to_sing"]
    title: str
    source: str = Field(
        description="Where the items come from: `plays` or `popularity` (trending: popularity when the recent "
        "plays are too few to rank), `your_plays`, `your_jobs`, `catalog_audio`."
    )
    items: list[HomeItemOut]


class HomeOut(BaseModel):
    languages: list[str] = Field(
        description="The languages the sections are in: the `language` parameter, else the caller's preferred "
        "languages (`preferences.preferred_languages`); empty means every language."
    )
    sections: list[HomeSectionOut] = Field(description="In this order; a section without items is left out.")


# -- operators: catalog audio -------------------------------------------------------------------

AUDIO_CONTENT_TYPE = r"^audio/[A-Za-z0-9.+-]+$"


class AudioUploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=7, max_length=100, pattern=AUDIO_CONTENT_TYPE)
    size_bytes: int = Field(gt=0, strict=True, description="The file's size in bytes (at most the catalog audio limit).")


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in: int


class AudioUploadOut(BaseModel):
    track_id: str
    key: str = Field(description="Where the form stores the file: pass it to `POST …/audio/attach` once uploaded.")
    upload: UploadForm = Field(description="A presigned POST: send `fields` and then the file as `file`.")
    max_bytes: int


class AttachAudioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=10, max_length=400, pattern=r"^catalog/[A-Za-z0-9._/-]+$")
    engine: Literal["dsp", "lalal", "neural", "demucs"] | None = None


class AttachAudioOut(BaseModel):
    track_id: str
    key: str
    has_audio: bool
    job_id: str = Field(description="The pipeline's job on this audio (the operator's own: `GET /audio/conversion-status/{job_id}`).")
    status: str
