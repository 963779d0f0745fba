"""``/audio``: upload URLs, conversion jobs and their status (each user sees only their own)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from melody.api.deps import AppServices, CurrentUser
from melody.api.error_codes import error_code
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.conversions.schemas import (
    ConvertTrackRequest,
    DownloadOut,
    DownloadPendingOut,
    JobOut,
    JobsPage,
    LinkRequest,
    MelodyOut,
    PresignedPost,
    UploadOut,
    UploadRequest,
)
from melody.core.observability import logger, metrics

router = APIRouter(prefix="/audio", tags=["audio"], responses=PROTECTED)


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses=error_responses(
        404,
        422,
        429,
        descriptions={
            404: "`track_id` is not a catalog track (`track_not_found`).",
            422: "Not an audio file (`unsupported_media_type`), larger than the limit (`file_too_large`; "
            "`details.max_bytes`), over your storage quota (`storage_quota_exceeded`; `details.limit_bytes`, "
            "`details.used_bytes`), an `engine` this deployment does not offer (`engine_unavailable`; `details.engines`), "
            "or the body fails validation (`validation_error`).",
            429: "Too many uploads started by this user in the last minute or hour (`rate_limited`), or too many "
            "upload forms not yet used (`too_many_pending_uploads`; a form no longer counts once it expires): "
            "retry after `Retry-After` seconds (also `details.retry_after_s`).",
        },
    ),
)
def create_upload(body: UploadRequest, user_id: CurrentUser, services: AppServices) -> UploadOut:
    job, post = services.jobs.create_upload(
        user_id,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        engine=body.engine,
        track_id=body.track_id,
    )
    metrics.add_metric(name="UploadCreated", unit=MetricUnit.Count, value=1)
    logger.info("upload created", extra={"job_id": job.job_id, "user_id": user_id})
    base = JobOut.of(job).model_dump()
    return UploadOut(**base, upload=PresignedPost(**post), max_bytes=services.jobs.max_upload_bytes)


@router.post(
    "/convert-to-instrumental",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses={
        **error_responses(
            422,
            404,
            descriptions={
                404: "The track has no audio to convert (`track_audio_not_found`).",
                422: "An `engine` this deployment does not offer (`engine_unavailable`; `details.engines`), or the body "
                "fails validation (`validation_error`).",
            },
        ),
        **unavailable(CATALOG_UNAVAILABLE),
    },
)
def convert_track(body: ConvertTrackRequest, user_id: CurrentUser, services: AppServices) -> JobOut:
    job = services.jobs.convert_track(user_id, body.track_id, body.engine)
    return JobOut.of(job)


@router.get(
    "/conversion-status/{job_id}",
    response_model=JobOut,
    responses=error_responses(404, descriptions={404: "No such job of yours (`job_not_found`)."}),
)
def conversion_status(job_id: str, user_id: CurrentUser, services: AppServices) -> JobOut:
    job = services.jobs.with_suggestion(services.jobs.get_for_user(user_id, job_id))
    return JobOut.of(job, services.jobs.result_links(job))


@router.get("/jobs", response_model=JobsPage, responses=error_responses(422))
def list_jobs(
    user_id: CurrentUser,
    services: AppServices,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JobsPage:
    jobs, next_cursor = services.jobs.list_for_user(user_id, limit=limit, cursor=cursor)
    return JobsPage(items=[JobOut.of(job, services.jobs.result_links(job)) for job in jobs], next_cursor=next_cursor)


_NOT_FOUND: dict[int | str, str] = {404: "No such job of yours (`job_not_found`)."}


@router.post(
    "/jobs/{job_id}/link",
    response_model=JobOut,
    responses=error_responses(
        404,
        409,
        422,
        descriptions={
            404: "No such job of yours (`job_not_found`), or no such catalog track (`track_not_found`).",
            409: "The job converted a catalog track, not an upload (`not_an_upload`).",
        },
    ),
)
def link_upload(job_id: str, body: LinkRequest, user_id: CurrentUser, services: AppServices) -> JobOut:
    """Confirm which catalog track an upload is (the suggestion or another): it then plays from your copy."""
    job = services.jobs.link(user_id, job_id, body.track_id)
    return JobOut.of(job, services.jobs.result_links(job))


@router.get(
    "/jobs/{job_id}/download/{stem}",
    response_model=DownloadOut,
    responses={
        202: {
            "description": "A WAV export is being made (`status` preparing): ask again after `retry_after_s`.",
            "model": DownloadPendingOut,
        },
        **error_responses(
            404,
            409,
            422,
            descriptions={
                404: "No such job of yours (`job_not_found`) or stem (`stem_not_found`: drums, bass and other exist "
                "only for songs separated by a multi-stem engine; `details.stems`).",
                409: "The job has not succeeded (`job_not_ready`), or it was a developer API analysis without stems "
                "(`stems_unavailable`; its `original` still downloads).",
                422: "That format is not offered for that stem (`format_unavailable`; `details.formats`): wav is "
                "made for the instrumental and vocals only.",
            },
        ),
    },
)
def download_stem(
    job_id: str,
    stem: Literal["instrumental", "vocals", "original", "drums", "bass", "other"],
    user_id: CurrentUser,
    services: AppServices,
    fmt: Annotated[
        Literal["m4a", "wav"],
        Query(
            alias="format",
            description="`m4a` (AAC, as the stems are stored) or `wav` (16-bit PCM, made on request: the first "
            "ask answers 202 and starts it)",
            json_schema_extra=error_code("format_unavailable"),
        ),
    ] = "m4a",
) -> DownloadOut | JSONResponse:
    """A link that downloads one stem (or the original upload) named after the song's title."""
    exports = services.renditions if fmt == "wav" else None
    body = services.jobs.download(user_id, job_id, stem, fmt, exports=exports)
    if body.get("status") == "preparing":
        pending = DownloadPendingOut(**body)
        return JSONResponse(
            pending.model_dump(), status_code=status.HTTP_202_ACCEPTED, headers={"Retry-After": str(pending.retry_after_s)}
        )
    return DownloadOut(**body)


@router.get(
    "/jobs/{job_id}/melody",
    response_model=MelodyOut,
    responses=error_responses(
        404,
        409,
        descriptions={
            **_NOT_FOUND,
            409: "The job has not succeeded (`job_not_ready`), or it was a developer API analysis without stems "
            "(`stems_unavailable`: the lead sheet is made from the vocal stem).",
        },
    ),
)
def job_melody(job_id: str, user_id: CurrentUser, services: AppServices) -> MelodyOut:
    """The sung melody of the song as notes: key, meter, chords, and links to its MIDI and MusicXML lead sheet."""
    return MelodyOut.model_validate(services.jobs.melody(user_id, job_id))


@router.post(
    "/jobs/{job_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses=error_responses(
        404,
        409,
        descriptions={
            **_NOT_FOUND,
            409: "Only failed jobs can be retried (`job_not_failed`), and only when the file itself was not "
            "the problem and its original is kept (`not_retryable`).",
        },
    ),
)
def retry_job(job_id: str, user_id: CurrentUser, services: AppServices) -> JobOut:
    return JobOut.of(services.jobs.retry(user_id, job_id))


@router.delete(
    "/jobs/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        404,
        409,
        descriptions={**_NOT_FOUND, 409: "The song is still being processed (`job_in_progress`)."},
    ),
)
def delete_job(job_id: str, user_id: CurrentUser, services: AppServices) -> Response:
    """Delete the job, its library entry and original; shared stems stay while another job uses them."""
    services.jobs.delete(user_id, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
