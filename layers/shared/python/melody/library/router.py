"""``/library``: the caller's saved tracks. Every route is scoped to the signed-in user."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response

from melody.api.deps import AppServices, CurrentUser
from melody.api.error_codes import error_code
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.catalog.models import TRACK_ID, Track
from melody.catalog.ports import Instrumental
from melody.catalog.schemas import TrackSummary
from melody.core.errors import NotFound
from melody.library.schemas import LibraryItemOut, LibraryOut, PlayOut, RenameUploadRequest, UploadInfo
from melody.library.service import LibraryEntry, is_upload_id

JOB_ID = re.compile(r"^job_[a-z0-9]{1,40}$")

router = APIRouter(prefix="/library", tags=["library"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})


def _track_id(track_id: str) -> str:
    if not TRACK_ID.match(track_id):
        # never echo the id: a path segment may be kilobytes long
        raise NotFound("No such track in the catalog.", code="track_not_found")
    return track_id


def _playable_id(track_id: str) -> str:
    """A catalog track id, or one of the user's uploads (``job_...``)."""
    if is_upload_id(track_id) and JOB_ID.match(track_id):
        return track_id
    return _track_id(track_id)


def _item(entry: LibraryEntry, track: Track | None, instrumental: Instrumental) -> LibraryItemOut:
    upload = entry.kind == "upload"
    return LibraryItemOut(
        track_id=entry.track_id,
        kind="upload" if upload else "track",
        upload=UploadInfo.of(entry.track_id, entry.title, entry.linked_track_id, entry.suggested_track) if upload else None,
        track=TrackSummary.of(track) if track else None,
        added_at=int(entry.added_at) if entry.added_at else None,
        updated_at=int(entry.updated_at),
        play_count=entry.play_count,
        last_played_at=int(entry.last_played_at) if entry.last_played_at else None,
        instrumental_status=instrumental.status,
        instrumental_job_id=instrumental.job_id,
        deleted=entry.deleted,
    )


MAX_CURSOR = 1024


@router.get(
    "",
    response_model=LibraryOut,
    responses=error_responses(
        422,
        descriptions={
            422: "`limit` (`invalid_limit`), `cursor` (`invalid_cursor`: not one this API returned to you) or "
            "`updated_since` (`invalid_updated_since`) is not valid."
        },
    ),
)
def list_library(
    user_id: CurrentUser,
    services: AppServices,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`next_cursor` of the previous page",
            json_schema_extra=error_code("invalid_cursor"),
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=100, description="1–100, default 20", json_schema_extra=error_code("invalid_limit"))
    ] = 20,
    updated_since: Annotated[
        float | None,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="Epoch seconds: only entries changed since (deleted ones included, `deleted: true`)",
            json_schema_extra=error_code("invalid_updated_since"),
        ),
    ] = None,
) -> LibraryOut:
    page = services.library.list(user_id, limit=limit, cursor=cursor, updated_since=updated_since)
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
    responses=error_responses(
        404,
        descriptions={
            404: "No such track in the catalog (`track_not_found`). `track_id` may also be one of your uploads "
            "(its job id): its play counts in your library only."
        },
    ),
)
def record_play(track_id: str, user_id: CurrentUser, services: AppServices) -> PlayOut:
    entry = services.library.play(user_id, _playable_id(track_id))
    return PlayOut(
        track_id=track_id,
        in_library=entry is not None,
        play_count=entry.play_count if entry else None,
        last_played_at=int(entry.last_played_at) if entry and entry.last_played_at else None,
    )


@router.patch(
    "/uploads/{job_id}",
    response_model=LibraryItemOut,
    responses=error_responses(
        404,
        422,
        descriptions={
            404: "No such upload in your library (`upload_not_found`).",
            422: "The title is empty or too long (`invalid_title`, `validation_error`).",
        },
    ),
)
def rename_upload(job_id: str, body: RenameUploadRequest, user_id: CurrentUser, services: AppServices) -> LibraryItemOut:
    """Retitle one of your uploads: the library shows it and its downloads are named after it."""
    if not JOB_ID.match(job_id):
        raise NotFound("No such upload in your library.", code="upload_not_found")
    return _item(*services.library.rename_upload(user_id, job_id, body.title))
