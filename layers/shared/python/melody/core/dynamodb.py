"""Pointing PynamoDB models at configured tables, and reading conditional-write failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pynamodb.models import Model

    from melody.core.settings import CommonSettings


_BOUND: set[type[Model]] = set()


def drop_connections() -> None:
    """Forget the connections of every bound model; each makes a new one on its next call."""
    for model in _BOUND:
        model._connection = None


def bind_model(model: type[Model], table_name: str, settings: CommonSettings) -> None:
    """Set the table, region and (locally) endpoint; drop a connection bound to an older endpoint."""
    _BOUND.add(model)
    model.Meta.table_name = table_name
    model.Meta.region = settings.aws_region
    model.Meta.host = settings.dynamodb_endpoint_url
    model._connection = None


def conditional_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write error is DynamoDB refusing the write's condition."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
