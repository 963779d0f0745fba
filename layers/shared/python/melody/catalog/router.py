"""``/music``: multilingual search, track details and trending (signed-in users only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import CATALOG_UNAVAILABLE, PROTECTED, error_responses, unavailable
from melody.api.params import int_param
from melody.catalog.models import LANGUAGES, TRACK_ID
from melody.catalog.schemas import SearchItem, SearchOut, TrackOut, TrackSummary, TrendingItem, TrendingOut
from melody.core.errors import InvalidInput, NotFound
from melody.library.service import instrumentals_of

router = APIRouter(prefix="/music", tags=["music"], responses={**PROTECTED, **unavailable(CATALOG_UNAVAILABLE)})

MAX_QUERY = 200
MAX_LIMIT = 50
MAX_OFFSET = 500
TIMEFRAMES = {"daily": 1, "weekly": 7, "monthly": 30}




def _language(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().lower()
    if code not in LANGUAGES:
        raise InvalidInput(
            "Unknown language code.", code="unknown_language", details={"supported": sorted(LANGUAGES)}
        )
    return code


@router.get("/search", response_model=SearchOut, responses=error_responses(422))
def search(
    user_id: CurrentUser,
    services: AppServices,
    q: Annotated[str | None, Query(description="Title, artist or album in any script or spelling")] = None,
    language: Annotated[str | None, Query(description="ISO 639 code, e.g. hi, ta, en")] = None,
    limit: Annotated[str | None, Query(description=f"1–{MAX_LIMIT}, default 20")] = None,
    offset: Annotated[str | None, Query(description="`next_offset` of the previous page")] = None,
    source: Annotated[str | None, Query(description="catalog (default) or all (adds Spotify, YouTube, Last.fm)")] = None,
) -> SearchOut:
    text = (q or "").strip()
    if not text:
        raise InvalidInput("`q` must not be empty.", code="empty_query")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"`q` is longer than {MAX_QUERY} characters.", code="query_too_long")
    size = int_param(limit, name="limit", default=20, low=1, high=MAX_LIMIT, code="invalid_limit")
    start = int_param(offset, name="offset", default=0, low=0, high=MAX_OFFSET, code="invalid_offset")
    where = source or "catalog"
    if where not in ("catalog", "all"):
        raise InvalidInput("`source` must be `catalog` or `all`.", code="invalid_source")
    page = services.search.search(text, language=_language(language), limit=size, offset=start, source=where)
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


@router.get("/trending", response_model=TrendingOut, responses=error_responses(422))
def trending(
    user_id: CurrentUser,
    services: AppServices,
    language: str | None = None,
    timeframe: str | None = None,
    limit: str | None = None,
) -> TrendingOut:
    frame = timeframe or "weekly"
    if frame not in TIMEFRAMES:
        raise InvalidInput("`timeframe` must be daily, weekly or monthly.", code="invalid_timeframe")
    size = int_param(limit, name="limit", default=20, low=1, high=MAX_LIMIT, code="invalid_limit")
    lang = _language(language)
    today = dt.datetime.fromtimestamp(services.clock.now(), tz=dt.UTC).date()
    since = today - dt.timedelta(days=TIMEFRAMES[frame] - 1)
    rows = services.catalog.trending(since=since, language=lang, limit=size)
    return TrendingOut(
        timeframe=frame,
        language=lang,
        items=[TrendingItem(**TrackSummary.of(t).model_dump(), plays=plays) for t, plays in rows],
    )
