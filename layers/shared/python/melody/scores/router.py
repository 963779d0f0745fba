"""``/scores``: score uploads, the user's scores, one score's analysis and its downloads (owner only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import PROTECTED, error_responses
from melody.core.observability import logger
from melody.scores.schemas import (
    PresignedScorePost,
    ScoreDetailOut,
    ScoreDownloadOut,
    ScoreOut,
    ScoresPage,
    ScoreUploadOut,
    ScoreUploadRequest,
)

router = APIRouter(prefix="/scores", tags=["scores"], responses=PROTECTED)

_NOT_FOUND: dict[int | str, str] = {404: "No such score of yours (`score_not_found`)."}


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=ScoreUploadOut,
    responses=error_responses(
        422,
        429,
        descriptions={
            422: "Not a score file (`unsupported_score_type`; `details.extensions`), larger than the limit (`file_too_large`; "
            "`details.max_bytes`), or the body fails validation (`validation_error`).",
            429: "Too many score uploads started by this user in the last hour (`rate_limited`): retry after `Retry-After` seconds.",
        },
    ),
)
def create_score_upload(body: ScoreUploadRequest, user_id: CurrentUser, services: AppServices) -> ScoreUploadOut:
    """A score (`kind: score`) awaiting its file, and the presigned POST form that uploads it.

    The form binds the declared size and the Content-Type of the file's extension; once the file
    lands the score is analysed (`GET /scores/{score_id}` shows its status).
    """
    score, post = services.scores.create_upload(user_id, filename=body.filename, size_bytes=body.size_bytes)
    logger.info("score upload created", extra={"score_id": score.score_id, "user_id": user_id})
    return ScoreUploadOut(**ScoreOut.of(score).model_dump(), upload=PresignedScorePost(**post), max_bytes=services.scores.max_bytes)


@router.get("", response_model=ScoresPage, responses=error_responses(422))
def list_scores(
    user_id: CurrentUser,
    services: AppServices,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ScoresPage:
    """Your scores, newest first."""
    scores, next_cursor = services.scores.list_for_user(user_id, limit=limit, cursor=cursor)
    return ScoresPage(items=[ScoreOut.of(s) for s in scores], next_cursor=next_cursor)


@router.get("/{score_id}", response_model=ScoreDetailOut, responses=error_responses(404, descriptions=_NOT_FOUND))
def get_score(score_id: str, user_id: CurrentUser, services: AppServices) -> ScoreDetailOut:
    """One score: its status and, once analysed, the analysis and short-lived URLs of its renderings."""
    score = services.scores.get_for_user(user_id, score_id)
    links = services.scores.links(score) or {}
    return ScoreDetailOut(**ScoreOut.of(score).model_dump(), analysis=services.scores.analysis(score), **links)


@router.get(
    "/{score_id}/download/{what}",
    response_model=ScoreDownloadOut,
    responses=error_responses(
        404,
        409,
        422,
        descriptions={
            404: "No such score of yours (`score_not_found`).",
            409: "The score has not been analysed yet (`score_not_ready`).",
        },
    ),
)
def download_score(
    score_id: str, what: Literal["musicxml", "midi", "original"], user_id: CurrentUser, services: AppServices
) -> ScoreDownloadOut:
    """A short-lived link that downloads the normalised MusicXML, the MIDI rendering or the file as uploaded."""
    return ScoreDownloadOut(**services.scores.download(user_id, score_id, what))


@router.delete(
    "/{score_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        404,
        409,
        descriptions={**_NOT_FOUND, 409: "The score is still being analysed (`score_in_progress`): delete it once it has finished."},
    ),
)
def delete_score(score_id: str, user_id: CurrentUser, services: AppServices) -> Response:
    """Delete the score, its uploaded file, its accepted original, and its analysis and renderings.

    (Scores analysed before each score had its own results share theirs by content: those stay; they
    name no one, and nothing links them to you once the score is gone.)
    """
    services.scores.delete(user_id, score_id)
    # ids only: a file name can say more about its owner than the log needs
    logger.info("score deleted", extra={"score_id": score_id, "user_id": user_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
