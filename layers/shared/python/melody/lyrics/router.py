"""``/lyrics/{track_id}``: synced lyrics for a catalog track or one of the caller's uploads (its job id).

Every route is scoped to the signed-in user: attached lyrics are the caller's own, and another
user's upload answers 404 like an unknown id.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.catalog.models import TRACK_ID
from melody.core.errors import NotFound
from melody.lyrics.schemas import AttachLyricsRequest, LyricsOut

__all__ = ["router"]

JOB_ID = re.compile(r"^job_[a-z0-9]{1,40}$")
NOT_FOUND = "No such catalog track, or no upload of yours with this id (`track_not_found`)."

router = APIRouter(prefix="/lyrics", tags=["lyrics"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})


def _song_id(track_id: str) -> str:
    if TRACK_ID.match(track_id) or JOB_ID.match(track_id):
        return track_id
    raise NotFound("No such song.", code="track_not_found")  # never echo the id


@router.get("/{track_id}", response_model=LyricsOut, responses=error_responses(404, descriptions={404: NOT_FOUND}))
def get_lyrics(track_id: str, user_id: CurrentUser, services: AppServices) -> LyricsOut:
    """Your attached LRC when there is one, else LRCLIB's (cached); Indic lines carry `latin`."""
    return LyricsOut.of(services.lyrics.get(user_id, _song_id(track_id)))


@router.put(
    "/{track_id}",
    response_model=LyricsOut,
    responses=error_responses(
        404,
        422,
        descriptions={
            404: NOT_FOUND,
            422: "Not a synced LRC (`invalid_lrc`, `lrc_not_synced`, with `details.line`) or too large "
            "(`lrc_too_large`).",
        },
    ),
)
def attach_lyrics(track_id: str, body: AttachLyricsRequest, user_id: CurrentUser, services: AppServices) -> LyricsOut:
    """Attach your own `.lrc` to a song (replaces yours; only you see it)."""
    return LyricsOut.of(services.lyrics.attach(user_id, _song_id(track_id), body.lrc))


@router.delete(
    "/{track_id}",
    status_code=204,
    responses=error_responses(
        404, descriptions={404: NOT_FOUND + " Or you attached none (`lyrics_not_attached`)."}
    ),
)
def detach_lyrics(track_id: str, user_id: CurrentUser, services: AppServices) -> Response:
    services.lyrics.detach(user_id, _song_id(track_id))
    return Response(status_code=204)
