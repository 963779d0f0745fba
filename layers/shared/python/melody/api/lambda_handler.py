"""One Lambda entry point for an API app: Mangum plus powertools logging, metrics and (when on) tracing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from melody.core.observability import logger, metrics, trace_handler
from melody.core.snapstart import install_snapstart_hooks

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI

    from melody.core.services import Services

__all__ = ["lambda_handler_for"]


def lambda_handler_for(
    app: FastAPI, services: Services | None = None, *, preload: tuple[str, ...] = ()
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler serving ``app``. With ``services``, SnapStart's hooks import ``preload`` (modules
    the routes import on first use) before the snapshot and renew the services' clients after a restore."""
    asgi = Mangum(app, lifespan="off")
    if services is not None:
        install_snapstart_hooks(services, preload=preload)

    def serve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = asgi(event, context)
        return response

    # powertools' decorators are untyped: the handler keeps serve's signature.
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
    )(trace_handler(metrics.log_metrics(serve, capture_cold_start_metric=True)))
    return handler
