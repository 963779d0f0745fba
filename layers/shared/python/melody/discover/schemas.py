"""Discover's request and response bodies (validated at the edge; every string plain text)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from melody.api.error_codes import error_code
from melody.catalog.models import LANGUAGES
from melody.catalog.schemas import TrackSummary

if TYPE_CHECKING:
    import datetime as dt

__all__ = [
    "ArtistRef",
    "CrawlOut",
    "FeedOut",
    "FollowOut",
    "FollowsOut",
    "PostOut",
    "SourceAdminOut",
    "SourceIn",
    "SourceOut",
    "SourcePatch",
    "SourcesAdminOut",
    "SourcesOut",
    "SuggestIn",
]

Status = Literal["active", "paused", "suggested"]


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError("not a supported language code")
    return value


# The enum in the schema is the check's own list, so a client (and the contract fuzzer) knows it.
Language = Annotated[
    str,
    AfterValidator(_language),
    WithJsonSchema({"type": "string", "enum": sorted(LANGUAGES)}),
    Field(json_schema_extra=error_code("invalid_language")),
]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://", json_schema_extra=error_code("invalid_source_url"))
    name: str | None = Field(default=None, min_length=1, max_length=120)
    language: Language | None = None


class SuggestIn(SourceIn):
    pass


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    language: Language | None = None
    status: Literal["active", "paused"] | None = None


class SourceOut(BaseModel):
    id: str
    name: str
    url: str
    language: str | None
    post_count: int
    follower_count: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> SourceOut:
        return cls(
            id=row["source_id"], name=row["name"], url=row["url"], language=row["language"],
            post_count=int(row.get("post_count") or 0), follower_count=int(row.get("follower_count") or 0),
        )  # fmt: skip


def _epoch(value: dt.datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


class SourceAdminOut(SourceOut):
    feed_url: str | None
    status: Status
    suggested_by: str | None
    health: Literal["ok", "failing", "new"]
    last_error: str | None
    consecutive_failures: int
    last_crawled_at: int | None
    last_success_at: int | None
    next_crawl_at: int | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> SourceAdminOut:
        failures = int(row.get("consecutive_failures") or 0)
        health: Literal["ok", "failing", "new"] = "failing" if failures else ("ok" if row.get("last_success_at") else "new")
        return cls(
            **SourceOut.of(row).model_dump(),
            feed_url=row["feed_url"], status=row["status"], suggested_by=row["suggested_by"], health=health,
            last_error=row["last_error"], consecutive_failures=failures,
            last_crawled_at=_epoch(row["last_crawled_at"]), last_success_at=_epoch(row["last_success_at"]),
            next_crawl_at=_epoch(row["next_crawl_at"]),
        )  # fmt: skip


class SourcesOut(BaseModel):
    items: list[SourceOut]
    next_offset: int | None


class SourcesAdminOut(BaseModel):
    items: list[SourceAdminOut]
    next_offset: int | None


class CrawlOut(BaseModel):
    source_id: str
    status: Literal["fetched", "not_modified", "failed"]
    new_posts: int
    updated_posts: int
    songs: int
    error: str | None


class SongOut(BaseModel):
    artist: str | None
    title: str | None
    provider: Literal["youtube", "spotify", "soundcloud", "bandcamp"] | None
    listen_url: str | None = Field(description="The provider's page for the song (rebuilt from its id)")
    track: TrackSummary | None = Field(description="The catalog song, when matched or discovered")
    has_audio: bool
    artists: list[ArtistRef] = Field(default_factory=list, description="The catalog song's artists, to follow")


class PostOut(BaseModel):
    id: str
    source: SourceRef
    title: str = Field(description="Plain text")
    summary: str = Field(description="Plain text, at most 400 characters")
    url: str
    published_at: int
    songs: list[SongOut]


class ArtistRef(BaseModel):
    id: str
    name: str


class SourceRef(BaseModel):
    id: str
    name: str


class FeedOut(BaseModel):
    items: list[PostOut]
    next_cursor: str | None
    starter: bool = Field(description="True: you follow nothing yet, these are popular sources in your languages")


class FollowOut(BaseModel):
    kind: Literal["source", "artist"]
    id: str
    name: str | None
    following: bool


class FollowsOut(BaseModel):
    items: list[FollowOut]


SongOut.model_rebuild()
PostOut.model_rebuild()
