"""``/b2b``: the developer API, called with an API key (never an access token).

Every route depends on :data:`~melody.developer.deps.ApiKeyCaller`: the key is checked (revoked
keys fail at once) and the call counted against the key's plan before the route runs, and every
answer carries ``RateLimit-Limit``/``RateLimit-Remaining``/``RateLimit-Reset``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from melody.api.deps import AppServices  # noqa: TC001 - FastAPI reads the annotation at runtime
from melody.api.error_codes import error_code
from melody.api.openapi_docs import error_response, error_responses, unavailable
from melody.conversions.schemas import AnalysisOut, PresignedPost
from melody.core.observability import logger
from melody.developer.deps import ApiKeyCaller, RateLimitHeadersRoute
from melody.developer.schemas import AnalyzeJobOut, AnalyzeRequest, AnalyzeUploadOut, QueryRequest
from melody.developer.search_schemas import NextPage, QueryResult, TrackFilters, TrackPage

RATE_HEADERS = {
    "RateLimit-Limit": {"description": "Requests per second of the key's plan.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the current second.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window resets.", "schema": {"type": "integer"}},
}

_KEY_401 = error_response(
    401,
    "The API key is missing (`missing_api_key`), unknown or revoked (`invalid_api_key`); "
    'the answer carries `WWW-Authenticate: ApiKey realm="melody-b2b"`.',
)
_KEY_401["headers"] = {"WWW-Authenticate": {"description": "`ApiKey`", "schema": {"type": "string"}}}
_429 = error_response(
    429,
    "Over the plan's requests per second (`rate_limited`) or its monthly quota (`quota_exceeded`): retry after "
    "`Retry-After` seconds (also `details.retry_after_s`).",
)
_429["headers"] = {**_429["headers"], **RATE_HEADERS}

router = APIRouter(
    prefix="/b2b",
    tags=["b2b"],
    route_class=RateLimitHeadersRoute,
    responses={
        401: _KEY_401,
        429: _429,
        **unavailable(
            "the song catalog (`catalog_unavailable`, `catalog_not_configured`), the key and usage tables "
            "(`temporarily_unavailable`) or the keys' configuration (`api_keys_not_configured`)"
        ),
    },
)

_OK: dict[int | str, dict[str, Any]] = {200: {"description": "Successful Response", "headers": RATE_HEADERS}}


@router.post("/query", response_model=QueryResult, responses={**_OK, **error_responses(422)})
def query(body: QueryRequest, key: ApiKeyCaller, services: AppServices) -> QueryResult:
    """Natural-language music search ("upbeat punjabi songs around 120 bpm in A minor", "dard bhare gaane")."""
    return services.track_finder.query(body.text, body.limit)


@router.get("/tracks", response_model=TrackPage, responses={**_OK, **error_responses(422)})
def tracks(
    key: ApiKeyCaller,
    services: AppServices,
    filters: Annotated[TrackFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=100, json_schema_extra=error_code("invalid_limit"))] = 20,
    cursor: Annotated[
        str | None,
        Query(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_=-]+$", json_schema_extra=error_code("invalid_cursor")),
    ] = None,
) -> TrackPage:
    """Catalog tracks with analysis by tempo, key, Camelot, energy and language; `compatible_with` mixes harmonically."""
    return services.track_finder.tracks(filters, limit, cursor)


@router.get(
    "/tracks/{track_id}/next",
    response_model=NextPage,
    responses={**_OK, **error_responses(404, 422, descriptions={404: "No such track with analysis (`track_not_found`)."})},
)
def next_tracks(
    track_id: str,
    key: ApiKeyCaller,
    services: AppServices,
    limit: Annotated[int, Query(ge=1, le=50, json_schema_extra=error_code("invalid_limit"))] = 10,
) -> NextPage:
    """The best tracks to play next in a DJ set (harmonic, tempo and energy continuity), each explained."""
    return services.track_finder.next_tracks(track_id, limit)


@router.post(
    "/analyze",
    status_code=status.HTTP_201_CREATED,
    response_model=AnalyzeUploadOut,
    responses={
        201: {"description": "The upload form", "headers": RATE_HEADERS},
        **error_responses(
            422,
            descriptions={
                422: "Not an audio file (`unsupported_media_type`), larger than the upload limit (`file_too_large`; "
                "`details.max_bytes`) or not valid (`validation_error`). Analyses are metered by the key's plan, "
                "never by the account's storage quota."
            },
        ),
    },
)
def analyze(body: AnalyzeRequest, key: ApiKeyCaller, services: AppServices) -> AnalyzeUploadOut:
    """Upload audio for analysis (tempo, beats, key, Camelot, loudness, energy, waveform; stems if asked).

    The same presigned upload and pipeline as the app's uploads: POST the file to `upload.url`, then
    read `GET /b2b/analyze/{job_id}`. Without `stems` the audio is analysed only (no separation: faster);
    with them it is also separated. Audio already analysed (same content) is not processed again, and
    each audio is billed once per key.
    """
    job, post = services.jobs.create_upload(
        key.user_id,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        engine=None,
        client="api",  # an analysis for the developer's app: not a song in their library, nor their quota
        separate=body.stems,  # analysis only unless the stems are asked for
    )
    services.developer.record_analyze_job(key, job.job_id, stems=body.stems)
    logger.info("b2b analyze created", extra={"job_id": job.job_id, "key_id": key.key_id})
    return AnalyzeUploadOut(
        job_id=job.job_id,
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        stems_requested=body.stems,
        upload=PresignedPost(**post),
        max_bytes=services.jobs.max_upload_bytes,
    )


@router.get(
    "/analyze/{job_id}",
    response_model=AnalyzeJobOut,
    responses={**_OK, **error_responses(404, descriptions={404: "No analyze job of this key's owner (`job_not_found`)."})},
)
def analyze_result(job_id: str, key: ApiKeyCaller, services: AppServices) -> AnalyzeJobOut:
    """An analyze job's status, and its analysis once it has succeeded (stem links only if asked for)."""
    record = services.developer.analyze_job(key, job_id)
    job = services.jobs.get_for_user(key.user_id, job_id)
    out = AnalyzeJobOut(
        job_id=job.job_id,
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        stems_requested=record.stems,
        error=job.error.model_dump() if job.error else None,
        content_hash=job.content_hash,
    )
    links = services.jobs.result_links(job)
    if links is None:
        return out
    out.analysis = AnalysisOut.model_validate(links["analysis"])
    out.waveform_url = links["waveform_url"]
    if record.stems:  # an analysis-only job's links name no stems (a missing link stays null)
        out.instrumental_url = links.get("instrumental_url")
        out.vocals_url = links.get("vocals_url")
    if job.content_hash:
        out.billed = services.developer.bill_analysis(record, job.content_hash)
    return out
