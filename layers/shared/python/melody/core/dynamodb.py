"""Pointing PynamoDB models at configured tables, reading conditional-write failures, and throttling.

Throttling (``ProvisionedThroughputExceededException``, ``ThrottlingException``...) is retried by
botocore's ``standard`` retry mode, which PynamoDB configures with ``1 + Meta.max_retry_attempts``
attempts (exponential backoff with jitter); :func:`bind_model` sets :data:`MAX_RETRY_ATTEMPTS`
explicitly. What is still throttled after the retries is a brief outage, not a bug: adapters wrap
their methods in :func:`unavailable_when_throttled`, which turns it into
:class:`~melody.core.errors.ServiceUnavailable` (503, ``temporarily_unavailable``) instead of a 500.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from melody.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable

    from pynamodb.models import Model

    from melody.core.settings import CommonSettings

__all__ = [
    "MAX_RETRY_ATTEMPTS",
    "TEMPORARILY_UNAVAILABLE",
    "THROTTLING_ERROR_CODES",
    "bind_model",
    "conditional_failed",
    "drop_connections",
    "throttled",
    "unavailable_when_throttled",
]

# Retries after the first attempt (botocore standard mode: backoff random(0, 1) * 2**n s, so at most
# 1 + 2 + 4 = 7 s in all before giving up, within an API function's timeout).
MAX_RETRY_ATTEMPTS = 3
TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
# DynamoDB's throttling errors (the ones botocore's standard retry mode retries as throttling).
THROTTLING_ERROR_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)

_BOUND: set[type[Model]] = set()

P = ParamSpec("P")
R = TypeVar("R")


def drop_connections() -> None:
    """Forget the connections of every bound model; each makes a new one on its next call."""
    for model in _BOUND:
        model._connection = None


def bind_model(model: type[Model], table_name: str, settings: CommonSettings) -> None:
    """Set the table, region, (locally) endpoint and retries; drop a connection bound to an older endpoint."""
    _BOUND.add(model)
    model.Meta.table_name = table_name
    model.Meta.region = settings.aws_region
    model.Meta.host = settings.dynamodb_endpoint_url
    model.Meta.max_retry_attempts = MAX_RETRY_ATTEMPTS
    model._connection = None


def conditional_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write error is DynamoDB refusing the write's condition."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "cause_response_code", None)  # PynamoDB's errors
    if code is None:
        response = getattr(exc, "response", None)  # botocore's ClientError
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
    return code if isinstance(code, str) else None


def throttled(exc: BaseException) -> bool:
    """Whether ``exc`` (a PynamoDB error, or a botocore ``ClientError``) is DynamoDB throttling."""
    return _error_code(exc) in THROTTLING_ERROR_CODES


def unavailable_when_throttled(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn``, with throttling that outlasted the retries raised as a 503 ``temporarily_unavailable``."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ServiceUnavailable:
            raise
        except Exception as exc:
            if not throttled(exc):
                raise
            from melody.core.observability import logger

            logger.warning(
                "dynamodb throttled after retries",
                extra={"operation": fn.__qualname__, "error_code": _error_code(exc)},
            )
            raise ServiceUnavailable(
                "The service is busy; try again shortly.",
                code=TEMPORARILY_UNAVAILABLE,
                headers={"Retry-After": "1"},
            ) from exc

    return wrapper
