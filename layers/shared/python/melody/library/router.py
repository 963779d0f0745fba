"""``/library``: the caller's saved tracks. Every route is scoped to the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.api.params import int_param
from melody.catalog.models import TRACK_ID, Track
from melody.catalog.ports import Instrumental
from melody.catalog.schemas import TrackSummary
from melody.core.errors import InvalidInput, NotFound
from melody.library.schemas import LibraryItemOut, LibraryOut, PlayOut
from melody.library.service import LibraryEntry

router = APIRouter(prefix="/library", tags=["library"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})


def _track_id(track_id: str) -> str:
    if not TRACK_ID.match(track_id):
        raise NotFound("No such track in the catalog.", code="track_not_found", details={"track_id": track_id})
    return track_id


def _item(entry: LibraryEntry, track: Track | None, instrumental: Instrumental) -> LibraryItemOut:
    return LibraryItemOut(
        track_id=entry.track_id,
        track=TrackSummary.of(track) if track else None,
        added_at=int(entry.added_at) if entry.added_at else None,
        updated_at=int(entry.updated_at),
        play_count=entry.play_count,
        last_played_at=int(entry.last_played_at) if entry.last_played_at else None,
        instrumental_status=instrumental.status,
        instrumental_job_id=instrumental.job_id,
        deleted=entry.deleted,
    )


@router.get("", response_model=LibraryOut, responses=error_responses(422))
def list_library(
    user_id: CurrentUser,
    services: AppServices,
    cursor: str | None = None,
    limit: str | None = None,
    updated_since: str | None = None,
) -> LibraryOut:
    size = int_param(limit, name="limit", default=20, low=1, high=100, code="invalid_limit")
    since = None
    if updated_since not in (None, ""):
        try:
            since = float(updated_since)
        except ValueError:
            raise InvalidInput("`updated_since` must be epoch seconds.", code="invalid_updated_since") from None
        if since < 0:
            raise InvalidInput("`updated_since` must be epoch seconds.", code="invalid_updated_since")
    page = services.library.list(user_id, limit=size, cursor=cursor or None, updated_since=since)
    return LibraryOut(items=[_item(*row) for row in page.items], next_cursor=page.next_cursor)


@router.put(
    "/{track_id}",
    response_model=LibraryItemOut,
    responses=error_responses(404, descriptions={404: "No such track in the catalog (`track_not_found`)."}),
)
def add_to_library(track_id: str, user_id: CurrentUser, services: AppServices, response: Response) -> LibraryItemOut:
    row, created = services.library.add(user_id, _track_id(track_id))
    response.status_code = 201 if created else 200
    return _item(*row)


@router.delete(
    "/{track_id}",
    status_code=204,
    responses=error_responses(
        404,
        descriptions={
            404: "No such track in the catalog (`track_not_found`), or it is not in your library (`not_in_library`)."
        },
    ),
)
def remove_from_library(track_id: str, user_id: CurrentUser, services: AppServices) -> Response:
    if not services.library.remove(user_id, _track_id(track_id)):
        raise NotFound("This track is not in your library.", code="not_in_library")
    return Response(status_code=204)


@router.post(
    "/{track_id}/plays",
    response_model=PlayOut,
    responses=error_responses(404, descriptions={404: "No such track in the catalog (`track_not_found`)."}),
)
def record_play(track_id: str, user_id: CurrentUser, services: AppServices) -> PlayOut:
    entry = services.library.play(user_id, _track_id(track_id))
    return PlayOut(
        track_id=track_id,
        in_library=entry is not None,
        play_count=entry.play_count if entry else None,
        last_played_at=int(entry.last_played_at) if entry and entry.last_played_at else None,
    )
