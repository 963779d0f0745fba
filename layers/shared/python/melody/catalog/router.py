"""``/music``: multilingual search, track details and trending (signed-in users only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import AfterValidator, WithJsonSchema

from melody.api.deps import AdminUser, AppServices, CurrentUser
from melody.api.error_codes import error_code
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.catalog.models import LANGUAGES, TRACK_ID
from melody.catalog.schemas import (
    AttachAudioIn,
    AttachAudioOut,
    AudioUploadIn,
    AudioUploadOut,
    HomeItemOut,
    HomeOut,
    HomeSectionOut,
    SearchItem,
    SearchOut,
    TrackOut,
    TrackSummary,
    TrendingItem,
    TrendingOut,
    UploadForm,
)
from melody.core.errors import InvalidInput, NotFound
from melody.library.service import instrumentals_of

router = APIRouter(prefix="/music", tags=["music"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})

MAX_QUERY = 200
MAX_LIMIT = 50
MAX_OFFSET = 500
TIMEFRAMES = {"daily": 1, "weekly": 7, "monthly": 30}
SUPPORTED_LANGUAGES = sorted(LANGUAGES)


def _known_language(value: str | None) -> str | None:
    if value is not None and value not in LANGUAGES:
        raise ValueError("unknown language code")
    return value


# Each constraint is declared once: FastAPI checks it and the OpenAPI document shows it; a request
# that breaks it gets the route's own code (melody.api.errors.error_code), still 422.
Language = Annotated[
    str | None,
    Query(description="ISO 639 code, e.g. hi, ta, en", json_schema_extra=error_code("unknown_language")),
    AfterValidator(_known_language),
    WithJsonSchema({"type": "string", "enum": SUPPORTED_LANGUAGES}),
]


def _limit(code: str = "invalid_limit") -> Any:
    return Query(ge=1, le=MAX_LIMIT, description=f"1–{MAX_LIMIT}, default 20", json_schema_extra=error_code(code))


@router.get(
    "/search",
    response_model=SearchOut,
    responses=error_responses(
        422,
        descriptions={
            422: "`q` is missing or blank (`empty_query`) or too long (`query_too_long`); `limit` (`invalid_limit`), "
            "`offset` (`invalid_offset`), `language` (`unknown_language`) or `source` (`invalid_source`) is out "
            "of range. `details` lists each problem's `loc`, `message` and `type`."
        },
    ),
)
def search(
    user_id: CurrentUser,
    services: AppServices,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY,
            pattern=r"\S",
            description="Title, artist or album in any script or spelling (not blank)",
            json_schema_extra=error_code("empty_query", string_too_long="query_too_long"),
        ),
    ],
    language: Language = None,
    limit: Annotated[int, _limit()] = 20,
    offset: Annotated[
        int,
        Query(ge=0, le=MAX_OFFSET, description="`next_offset` of the previous page",
              json_schema_extra=error_code("invalid_offset")),
    ] = 0,
    source: Annotated[
        Literal["catalog", "all"],
        Query(description="catalog (default) or all (adds Spotify, YouTube, Last.fm)",
              json_schema_extra=error_code("invalid_source")),
    ] = "catalog",
) -> SearchOut:
    text = q.strip()
    if not text:  # the pattern's "not blank" is Unicode's; str.strip may know a few more spaces
        raise InvalidInput("`q` must not be empty.", code="empty_query")
    page = services.search.search(text, language=language, limit=limit, offset=offset, source=source)
    return SearchOut(
        items=[
            SearchItem(**TrackSummary.of(h.track).model_dump(), matched=h.matched, score=round(h.score, 4))
            for h in page.hits
        ],
        # Paging ends where the offset bound does: never hand out an offset the next call would refuse.
        next_offset=page.next_offset if page.next_offset is not None and page.next_offset <= MAX_OFFSET else None,
        sources=page.sources,
    )


@router.get(
    "/track/{track_id}",
    response_model=TrackOut,
    responses=error_responses(404, descriptions={404: "No such track (`track_not_found`)."}),
)
def track(track_id: str, user_id: CurrentUser, services: AppServices) -> TrackOut:
    if not TRACK_ID.match(track_id):
        raise NotFound("No such track.", code="track_not_found")
    details = services.catalog.details(track_id)
    if details is None:
        raise NotFound("No such track.", code="track_not_found")
    instrumental = instrumentals_of(services.instrumental, user_id, [track_id])[track_id]  # the caller's own job only
    # Presigned here only (never in search lists): the player asks for details when it plays a song.
    audio_url = services.audio_url(track_id, title=details.title) if details.has_audio else None
    return TrackOut.of_details(details, instrumental.status, instrumental.job_id, audio_url=audio_url)


@router.get(
    "/trending",
    response_model=TrendingOut,
    responses=error_responses(
        422,
        descriptions={
            422: "`timeframe` (`invalid_timeframe`), `limit` (`invalid_limit`) or `language` (`unknown_language`) "
            "is not one the route accepts."
        },
    ),
)
def trending(
    user_id: CurrentUser,
    services: AppServices,
    language: Language = None,
    timeframe: Annotated[
        Literal["daily", "weekly", "monthly"],
        Query(description="daily, weekly (default) or monthly", json_schema_extra=error_code("invalid_timeframe")),
    ] = "weekly",
    limit: Annotated[int, _limit()] = 20,
) -> TrendingOut:
    today = dt.datetime.fromtimestamp(services.clock.now(), tz=dt.UTC).date()
    since = today - dt.timedelta(days=TIMEFRAMES[timeframe] - 1)
    rows = services.catalog.trending(since=since, language=language, limit=limit)
    return TrendingOut(
        timeframe=timeframe,
        language=language,
        items=[TrendingItem(**TrackSummary.of(t).model_dump(), plays=plays) for t, plays in rows],
    )


@router.get(
    "/home",
    response_model=HomeOut,
    responses=error_responses(
        422, descriptions={422: "`language` is not one the route accepts (`unknown_language`)."}
    ),
)
def home(user_id: CurrentUser, services: AppServices, language: Language = None) -> HomeOut:
    """The home screen: trending, recently played, your conversions and ready-to-sing songs, in the
    caller's preferred languages (or `language`). Sections without items are left out."""
    page = services.home.home(user_id, language=language)
    return HomeOut(
        languages=page.languages,
        sections=[
            HomeSectionOut(
                id=section.id,
                title=section.title,
                source=section.source,
                items=[
                    HomeItemOut(
                        **TrackSummary.of(item.track).model_dump(),
                        has_audio=item.has_audio,
                        instrumental_status=item.instrumental.status,
                        instrumental_job_id=item.instrumental.job_id,
                    )
                    for item in section.items
                ],
            )
            for section in page.sections
        ],
    )


# -- operators: licensed audio for catalog tracks ------------------------------------------------

_ADMIN_ERRORS: dict[int | str, str] = {403: "The caller is not an operator (`admin_only`)."}


def _track_id(track_id: str) -> str:
    if not TRACK_ID.match(track_id):
        raise NotFound("No such track.", code="track_not_found")
    return track_id


@router.post(
    "/admin/tracks/{track_id}/audio",
    status_code=status.HTTP_201_CREATED,
    response_model=AudioUploadOut,
    responses=error_responses(
        403,
        404,
        422,
        descriptions={
            **_ADMIN_ERRORS,
            404: "No such track (`track_not_found`).",
            422: "Not an audio file (`unsupported_media_type`), larger than the limit (`file_too_large`; "
            "`details.max_bytes`), or the body fails validation (`validation_error`).",
        },
    ),
)
def create_track_audio_upload(track_id: str, body: AudioUploadIn, admin_id: AdminUser, services: AppServices) -> AudioUploadOut:
    """Operators: a presigned upload form for a catalog track's licensed audio (under the media
    bucket's `catalog/` prefix). Upload the file with it, then `POST …/audio/attach`."""
    service = services.catalog_audio
    key, form = service.upload_form(
        _track_id(track_id), filename=body.filename, content_type=body.content_type, size_bytes=body.size_bytes
    )
    return AudioUploadOut(track_id=track_id, key=key, upload=UploadForm(**form), max_bytes=service.max_bytes)


@router.post(
    "/admin/tracks/{track_id}/audio/attach",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AttachAudioOut,
    responses=error_responses(
        403,
        404,
        422,
        descriptions={
            **_ADMIN_ERRORS,
            404: "No such track (`track_not_found`), or nothing was uploaded at `key` (`audio_not_uploaded`).",
            422: "`key` is not under `catalog/<track_id>/` (`invalid_audio_key`), the file is too large "
            "(`file_too_large`), or the body fails validation (`validation_error`).",
        },
    ),
)
def attach_track_audio(track_id: str, body: AttachAudioIn, admin_id: AdminUser, services: AppServices) -> AttachAudioOut:
    """Operators: make the uploaded file the track's audio and run the audio pipeline on it (stems,
    analysis, waveform; shared by every listener's conversion of the track). The track then reports
    `has_audio`, and its analysed attributes once the job succeeds."""
    result = services.catalog_audio.attach(_track_id(track_id), body.key, user_id=admin_id, engine=body.engine)
    return AttachAudioOut(
        track_id=result.track_id, key=result.key, has_audio=True, job_id=result.job.job_id, status=result.job.status
    )
