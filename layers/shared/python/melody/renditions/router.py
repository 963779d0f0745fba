"""``/audio/jobs/{job_id}/renditions``: a converted song in another key and/or tempo (the job's owner only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Response, status

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import PROTECTED, error_responses
from melody.core.observability import logger
from melody.renditions.schemas import RenditionOut, RenditionRequest

if TYPE_CHECKING:
    from melody.core.services import Services
    from melody.renditions.models import Rendition

__all__ = ["router"]

router = APIRouter(prefix="/audio", tags=["audio"], responses=PROTECTED)


def _out(services: Services, rendition: Rendition) -> RenditionOut:
    service = services.renditions
    return RenditionOut.of(rendition, service.stem_links(rendition), service.media_url_expires_s)


@router.post(
    "/jobs/{job_id}/renditions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RenditionOut,
    responses={
        200: {"description": "The rendition exists already (`status` succeeded, with its stems).", "model": RenditionOut},
        **error_responses(
            404,
            409,
            422,
            429,
            descriptions={
                404: "No such job of yours (`job_not_found`).",
                409: "The job has not succeeded (`job_not_ready`), or it was a developer API analysis without stems "
                "(`stems_unavailable`).",
                422: "semitones 0 with tempo 1.0 in m4a is the song itself (`rendition_identity`), or the body fails "
                "validation (`validation_error`: semitones -6..6, tempo 0.75..1.25).",
                429: "Too many new renditions this hour (`rate_limited`): retry after `Retry-After` seconds.",
            },
        ),
    },
)
def create_rendition(
    job_id: str, body: RenditionRequest, user_id: CurrentUser, services: AppServices, response: Response
) -> RenditionOut:
    """Render the song's instrumental and vocals transposed and/or time-stretched (cached per song)."""
    rendition, ready = services.renditions.request(
        user_id, job_id, semitones=body.semitones, tempo=body.tempo, fmt=body.format
    )
    if ready:
        response.status_code = status.HTTP_200_OK
    logger.info("rendition requested", extra={"job_id": job_id, "rendition_id": rendition.rendition_id, "cached": ready})
    return _out(services, rendition)


@router.get(
    "/jobs/{job_id}/renditions/{rendition_id}",
    response_model=RenditionOut,
    responses=error_responses(
        404, descriptions={404: "No such job of yours (`job_not_found`) or rendition of it (`rendition_not_found`)."}
    ),
)
def get_rendition(job_id: str, rendition_id: str, user_id: CurrentUser, services: AppServices) -> RenditionOut:
    """A rendition's status; when it has succeeded, its stems (short-lived links) and shifted analysis."""
    return _out(services, services.renditions.get(user_id, job_id, rendition_id))
