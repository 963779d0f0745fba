"""``/discover`` (listeners: browse and suggest sources, follow, the feed) and ``/admin/sources``
(operators: add, list, change, remove and crawl sources). Every route needs a signed-in user; the
admin routes the ``admin`` role. A user sees only their own follows and feed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from melody.api.deps import AdminUser, AppServices, CurrentUser
from melody.api.error_codes import error_code
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.catalog.schemas import TrackSummary
from melody.discover.schemas import (
    ArtistRef,
    CrawlOut,
    FeedOut,
    FollowOut,
    FollowsOut,
    PostOut,
    SongOut,
    SourceAdminOut,
    SourceIn,
    SourceOut,
    SourcePatch,
    SourceRef,
    SourcesAdminOut,
    SourcesOut,
    SuggestIn,
)

__all__ = ["admin_router", "router"]

router = APIRouter(prefix="/discover", tags=["discover"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})
admin_router = APIRouter(
    prefix="/admin/sources", tags=["discover"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE), **error_responses(403)}
)

SourceId = Annotated[str, Path(max_length=64)]
TargetId = Annotated[str, Path(max_length=80)]
Limit = Annotated[int, Query(ge=1, le=100, description="1–100, default 50", json_schema_extra=error_code("invalid_limit"))]
Offset = Annotated[int, Query(ge=0, le=10_000, json_schema_extra=error_code("invalid_offset"))]


# -- listeners ------------------------------------------------------------------------------------


@router.get("/sources", response_model=SourcesOut, responses=error_responses(422))
def browse_sources(user_id: CurrentUser, services: AppServices, limit: Limit = 50, offset: Offset = 0) -> SourcesOut:
    """The sources you can follow (active and paused ones), by name."""
    rows = services.discover.list_sources(statuses=["active", "paused"], limit=limit + 1, offset=offset)
    return SourcesOut(items=[SourceOut.of(r) for r in rows[:limit]], next_offset=offset + limit if len(rows) > limit else None)


@router.post(
    "/sources",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SourceOut,
    responses=error_responses(409, 422, descriptions={409: "Already listed or suggested (`source_exists`)."}),
)
def suggest_source(body: SuggestIn, user_id: CurrentUser, services: AppServices) -> SourceOut:
    """Suggest a blog or feed: operators review it before it is crawled."""
    row = services.discover.add_source(body.url, name=body.name, language=body.language, status="suggested", suggested_by=user_id)
    return SourceOut.of(row)


@router.get("/follows", response_model=FollowsOut)
def list_follows(user_id: CurrentUser, services: AppServices) -> FollowsOut:
    rows = services.discover.follows(user_id)
    return FollowsOut(items=[FollowOut(kind=r["kind"], id=r["target_id"], name=r["name"], following=True) for r in rows])


@router.put(
    "/follows/{kind}/{target_id}",
    response_model=FollowOut,
    responses={
        201: {"description": "Now followed (200 when it already was).", "model": FollowOut},
        **error_responses(
            404, 422, descriptions={404: "No such source (`source_not_found`) or artist (`artist_not_found`)."}
        ),
    },
)
def follow(
    kind: Literal["source", "artist"], target_id: TargetId, user_id: CurrentUser, services: AppServices, response: Response
) -> FollowOut:
    created = services.discover.follow(user_id, kind, target_id)
    response.status_code = 201 if created else 200
    return FollowOut(kind=kind, id=target_id, name=None, following=True)


@router.delete(
    "/follows/{kind}/{target_id}",
    status_code=204,
    responses=error_responses(404, 422, descriptions={404: "You do not follow it (`not_following`)."}),
)
def unfollow(kind: Literal["source", "artist"], target_id: TargetId, user_id: CurrentUser, services: AppServices) -> Response:
    services.discover.unfollow(user_id, kind, target_id)
    return Response(status_code=204)


@router.get("/feed", response_model=FeedOut, responses=error_responses(422))
def feed(
    user_id: CurrentUser,
    services: AppServices,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^\d{1,12}_pst_[0-9a-f]{16}$",
            description="`next_cursor` of the previous page",
            json_schema_extra=error_code("invalid_cursor"),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="1–50, default 20", json_schema_extra=error_code("invalid_limit"))] = 20,
) -> FeedOut:
    """Newest posts first from the sources and artists you follow, each with the songs it names
    (the catalog song when matched: play it, save it, make it instrumental). Following nothing yet:
    a starter feed from popular sources in your languages (`starter: true`)."""
    page = services.discover.feed(user_id, cursor=cursor, limit=limit)
    return FeedOut(
        items=[
            PostOut(
                id=p.post_id,
                source=SourceRef(id=p.source_id, name=p.source_name),
                title=p.title,
                summary=p.summary,
                url=p.url,
                published_at=p.published_at,
                songs=[
                    SongOut(
                        artist=s.artist,
                        title=s.title,
                        provider=s.provider,
                        listen_url=s.url,
                        track=TrackSummary.of(s.track) if s.track else None,
                        has_audio=s.has_audio,
                        artists=[ArtistRef(id=a["id"], name=a["name"]) for a in s.artist_refs],
                    )  # fmt: skip
                    for s in p.songs
                ],
            )
            for p in page.posts
        ],
        next_cursor=page.next_cursor,
        starter=page.starter,
    )


# -- operators ------------------------------------------------------------------------------------


@admin_router.post(
    "",
    status_code=201,
    response_model=SourceAdminOut,
    responses=error_responses(409, 422, descriptions={409: "Already listed (`source_exists`)."}),
)
def add_source(body: SourceIn, admin_id: AdminUser, services: AppServices) -> SourceAdminOut:
    """Add an RSS, Atom or JSON Feed URL, or a page that links its feed; it is crawled at the next run."""
    return SourceAdminOut.of(services.discover.add_source(body.url, name=body.name, language=body.language))


@admin_router.get("", response_model=SourcesAdminOut, responses=error_responses(422))
def list_sources(
    admin_id: AdminUser,
    services: AppServices,
    source_status: Annotated[Literal["active", "paused", "suggested"] | None, Query(alias="status")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SourcesAdminOut:
    """Every source with its crawl health (`failing` with the last error while it backs off)."""
    statuses: list[str] = [source_status] if source_status else ["active", "paused", "suggested"]
    rows = services.discover.list_sources(statuses=statuses, limit=limit + 1, offset=offset)
    return SourcesAdminOut(items=[SourceAdminOut.of(r) for r in rows[:limit]], next_offset=offset + limit if len(rows) > limit else None)


@admin_router.get("/{source_id}", response_model=SourceAdminOut, responses=error_responses(404, 422))
def get_source(source_id: SourceId, admin_id: AdminUser, services: AppServices) -> SourceAdminOut:
    return SourceAdminOut.of(services.discover.source(source_id))


@admin_router.patch("/{source_id}", response_model=SourceAdminOut, responses=error_responses(404, 422))
def update_source(source_id: SourceId, body: SourcePatch, admin_id: AdminUser, services: AppServices) -> SourceAdminOut:
    """Rename, set the language, pause, or resume (also approves a suggested source)."""
    return SourceAdminOut.of(services.discover.update_source(source_id, body.model_dump(exclude_none=True)))


@admin_router.delete("/{source_id}", status_code=204, responses=error_responses(404, 422))
def remove_source(source_id: SourceId, admin_id: AdminUser, services: AppServices) -> Response:
    """Remove a source, its posts and its follows."""
    services.discover.remove_source(source_id)
    return Response(status_code=204)


@admin_router.post("/{source_id}/crawl", response_model=CrawlOut, responses=error_responses(404, 422))
def crawl_source(source_id: SourceId, admin_id: AdminUser, services: AppServices) -> CrawlOut:
    """Crawl one source now (politely: robots.txt, conditional GET), whatever its schedule."""
    r = services.discover.crawl_now(source_id)
    return CrawlOut(
        source_id=r.source_id, status=r.status, new_posts=r.new_posts, updated_posts=r.updated_posts, songs=r.songs, error=r.error
    )
