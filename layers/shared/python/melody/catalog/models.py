"""Catalog values: songs as imported and as returned, search results, trending entries."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CatalogModel(BaseModel):
    """Builds its validator on first use, not at import: a function pays only for the models it uses."""

    model_config = ConfigDict(defer_build=True)

# Languages a search may filter on (ISO 639-1, plus 639-3 where 639-1 has none, e.g. Bhojpuri).
LANGUAGES: frozenset[str] = frozenset(
    "en hi ta te pa bn mr ml kn gu ur or as bho ne sa ko ja zh ar es fr pt it de tr ru id".split()
)
InstrumentalStatus = Literal["none", "pending", "processing", "completed", "failed"]
TRACK_ID = re.compile(r"^trk_[A-Za-z0-9_-]{4,64}$")


class SongIn(CatalogModel):
    """One line of a catalogue JSON Lines file (``songs.jsonl``) or a provider hit to upsert."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str | None = None
    title: str = Field(min_length=1, max_length=500)
    title_latin: str | None = Field(default=None, max_length=500)
    artists: list[str] = Field(default_factory=list)
    album: str | None = Field(default=None, max_length=500)
    album_kind: Literal["album", "film", "single"] = "album"
    language: str | None = None
    year: int | None = Field(default=None, ge=1000, le=2999)
    duration_s: int | None = Field(default=None, ge=0, le=24 * 3600)
    popularity: int = Field(default=0, ge=0, le=100)
    genres: list[str] = Field(default_factory=list)
    isrc: str | None = None
    external_ids: dict[str, str] = Field(default_factory=dict)  # provider → id
    external_urls: dict[str, str] = Field(default_factory=dict)  # provider → url

    @field_validator("artists")
    @classmethod
    def _clean_artists(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for name in value:
            name = (name or "").strip()
            if name and name not in seen:
                seen.append(name)
        return seen

    @field_validator("language")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @field_validator("isrc")
    @classmethod
    def _isrc(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = re.sub(r"[^A-Za-z0-9]", "", value).upper()
        return value or None

    def track_id(self) -> str:
        if self.id:
            return self.id
        basis = self.isrc or f"{self.title}|{','.join(self.artists)}|{self.duration_s}"
        return "trk_" + hashlib.sha1(basis.encode()).hexdigest()[:12]


class ArtistRef(CatalogModel):
    artist_id: str
    name: str


class ExternalLink(CatalogModel):
    provider: str
    external_id: str
    url: str | None = None


class Track(CatalogModel):
    id: str
    title: str
    title_latin: str | None
    title_native: str | None = None
    artists: list[str]
    album: str | None
    language: str | None
    year: int | None = None
    duration_s: int | None
    popularity: int = 0
    genres: list[str] = Field(default_factory=list)
    isrc: str | None = None


class TrackDetails(Track):
    artist_refs: list[ArtistRef] = Field(default_factory=list)
    external_links: list[ExternalLink] = Field(default_factory=list)
    has_audio: bool = False
    # Analysed attributes (melody.catalog.attributes), written back by the pipeline; None until then.
    bpm: float | None = None
    musical_key: str | None = None
    camelot: str | None = None
    energy: float | None = None
    loudness_lufs: float | None = None


class SearchHit(CatalogModel):
    track: Track
    score: float
    matched: list[str]
    source: str = "catalog"


class SourceStatus(CatalogModel):
    status: Literal["ok", "error", "timeout", "rate_limited", "skipped", "cached"]
    count: int = 0
    detail: str | None = None
    retry_after_s: int | None = None


class SearchPage(CatalogModel):
    hits: list[SearchHit]
    next_offset: int | None
    sources: dict[str, SourceStatus]


class TrendingEntry(CatalogModel):
    track: Track
    plays: int
