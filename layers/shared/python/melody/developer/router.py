"""``/developer``: the signed-in user's API keys and their usage (each user sees only their own)."""

from __future__ import annotations

import re
from datetime import date  # noqa: TC003 - FastAPI reads the annotation at runtime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BeforeValidator

from melody.api.deps import AppServices, CurrentUser
from melody.api.error_codes import error_code
from melody.api.openapi_docs import PROTECTED, error_responses
from melody.core.observability import logger
from melody.developer.models import DayUsage
from melody.developer.schemas import (
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeysOut,
    CreateKeyRequest,
    DayUsageOut,
    KeyUsageOut,
    PlanOut,
    UsageOut,
)
from melody.developer.usage import MAX_DAYS, fill_days

router = APIRouter(prefix="/developer", tags=["developer"], responses=PROTECTED)


def _plan(services: AppServices, name: str) -> PlanOut:
    plan = services.developer.plan(name)
    return PlanOut(name=plan.name, rate_per_s=plan.rate_per_s, monthly_quota=plan.monthly_quota)


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=error_responses(
        403,
        409,
        422,
        descriptions={
            403: "The plan is not self-serve (`plan_not_available`; `details.self_serve_plans`).",
            409: "As many active keys as allowed (`too_many_api_keys`; `details.max_keys`): revoke one first.",
        },
    ),
)
def create_key(body: CreateKeyRequest, user_id: CurrentUser, services: AppServices) -> ApiKeyCreated:
    """A new API key. The key is in this answer only: only its HMAC is stored, it cannot be shown again."""
    record, key = services.developer.create_key(user_id, name=body.name, plan=body.plan)
    logger.info("api key created", extra={"user_id": user_id, "key_id": record.key_id, "plan": record.plan})
    return ApiKeyCreated(**ApiKeyOut.of(record, _plan(services, record.plan)).model_dump(), key=key)


@router.get("/keys", response_model=ApiKeysOut)
def list_keys(user_id: CurrentUser, services: AppServices) -> ApiKeysOut:
    """Your keys, newest first, revoked ones included (prefix only: never the key)."""
    return ApiKeysOut(items=[ApiKeyOut.of(r, _plan(services, r.plan)) for r in services.developer.list_keys(user_id)])


@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, descriptions={404: "No such key of yours (`api_key_not_found`)."}),
)
def revoke_key(key_id: str, user_id: CurrentUser, services: AppServices) -> Response:
    """Revoke a key at once: its next call is answered 401 `invalid_api_key`. Revoking twice is harmless."""
    services.developer.revoke_key(user_id, key_id)
    logger.info("api key revoked", extra={"user_id": user_id, "key_id": key_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _iso_date_text(value: object) -> object:
    """Only ``YYYY-MM-DD``: pydantic would also read ``0`` (or any number) as a Unix timestamp."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]


@router.get(
    "/usage",
    response_model=UsageOut,
    responses=error_responses(
        404,
        422,
        descriptions={
            404: "`key_id` is not one of your keys (`api_key_not_found`).",
            422: f"`from`/`to` are not dates, are out of order or span more than {MAX_DAYS} days "
            "(`invalid_date_range`).",
        },
    ),
)
def usage(
    user_id: CurrentUser,
    services: AppServices,
    first: Annotated[
        IsoDate | None,
        Query(alias="from", description="First day (UTC, YYYY-MM-DD); default 29 days before `to`",
              json_schema_extra=error_code("invalid_date_range")),
    ] = None,
    last: Annotated[
        IsoDate | None,
        Query(alias="to", description="Last day (UTC, YYYY-MM-DD); default today",
              json_schema_extra=error_code("invalid_date_range")),
    ] = None,
    key_id: Annotated[str | None, Query(max_length=40, description="Only this key of yours")] = None,
) -> UsageOut:
    """Calls and billed analyses per day for your keys (never another user's)."""
    start, end, keys = services.developer.usage(user_id, first, last, key_id=key_id)
    per_key = [KeyUsageOut.of(k) for k in keys]
    rows = (DayUsage(day=d, calls=c, analyses=a) for k in keys for d, c, a in k.days)
    days = [DayUsageOut(date=d, calls=c, analyses=a) for d, c, a in fill_days(rows, start, end)]
    return UsageOut(
        from_=start.isoformat(),
        to=end.isoformat(),
        calls=sum(k.calls for k in per_key),
        analyses=sum(k.analyses for k in per_key),
        days=days,
        keys=per_key,
    )
