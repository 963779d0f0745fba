"""How error responses appear in the OpenAPI document, in one place.

Every failure is rendered by :mod:`melody.api.errors` as ``{"error": {"code", "message", "details"}}``
(:class:`~melody.auth.schemas.ErrorOut`); routes list the statuses they can really return with
``responses=error_responses(401, 404, ...)`` and the app adds a ``default`` response (an unexpected
failure, 500) to every operation. Declaring ``default`` also keeps FastAPI from adding its own 422
(``HTTPValidationError``, a shape this API never returns): a route whose input can fail validation
declares 422 itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from melody.api.error_shape import ErrorOut

if TYPE_CHECKING:
    from collections.abc import Mapping

DESCRIPTIONS: dict[int | str, str] = {
    401: "Not signed in: the access token is missing (`missing_token`), not valid (`invalid_token`) or expired "
    "(`token_expired`).",
    403: "Signed in, but not allowed to do this.",
    404: "Not found.",
    409: "Conflicts with the current state of the resource.",
    410: "Gone: no longer available.",
    422: "The request is not valid. When the body or a parameter fails validation, `code` is "
    "`validation_error` and `details` lists each problem's `loc`, `message` and `type` (never the submitted "
    "value); a value the route checks itself has its own `code` and, where useful, an object in `details`.",
    429: "Too many requests: retry after the number of seconds in `Retry-After` (also `details.retry_after_s`).",
    503: "A dependency is unavailable for now; try again shortly.",
    "default": "An unexpected failure (`internal_error`, 500), or another status in the same error shape.",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again (at least 1).",
        "schema": {"type": "integer"},
    }
}


WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'RFC 6750: `Bearer`, with `error="invalid_token"` when the access token sent is not valid '
        "or has expired.",
        "schema": {"type": "string", "pattern": "^Bearer"},
    }
}


def error_response(status: int | str, description: str | None = None) -> dict[str, Any]:
    """One OpenAPI response entry: the error model, a description and, for 429, ``Retry-After``
    (for 401, ``WWW-Authenticate``)."""
    entry: dict[str, Any] = {"model": ErrorOut, "description": description or DESCRIPTIONS[status]}
    if status == 429:
        entry["headers"] = RETRY_AFTER
    if status == 401:
        entry["headers"] = WWW_AUTHENTICATE
    return entry


def error_responses(
    *statuses: int | str, descriptions: Mapping[int | str, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route or router: each status documented with the error model.

    ``descriptions`` overrides the generic text for a status (say which resource is missing).
    """
    descriptions = descriptions or {}
    unknown = set(descriptions) - set(statuses)
    if unknown:
        raise ValueError(f"descriptions for undeclared statuses: {sorted(map(str, unknown))}")
    return {status: error_response(status, descriptions.get(status)) for status in statuses}


TOKEN_KEYS_UNAVAILABLE = "the issuer's token keys (`jwks_unavailable`)"
# DynamoDB still throttling after the client's retries (auth and user records)
STORE_UNAVAILABLE = "the account store (`temporarily_unavailable`)"
CATALOG_UNAVAILABLE = (
    "the song catalog (`catalog_unavailable`: unreachable, `catalog_not_configured`) or the issuer's token keys "
    "(`jwks_unavailable`)"
)


def unavailable(what: str) -> dict[int | str, dict[str, Any]]:
    """503, naming the dependency that may be down."""
    return error_responses(503, descriptions={503: f"A dependency is unavailable for now: {what}; try again shortly."})


# What every signed-in route can answer before it runs: no valid token (401), or the issuer's keys
# could not be fetched (503, in the functions that verify through the issuer's JWKS). A router
# that also needs the catalog adds ``unavailable(CATALOG_UNAVAILABLE)`` after it.
PROTECTED = {**error_responses(401), **unavailable(TOKEN_KEYS_UNAVAILABLE)}

# Added by the app to every operation.
DEFAULT = error_responses("default")
