"""One Lambda entry point for an API app: Mangum plus powertools logging, tracing and metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from melody.core.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI


def lambda_handler_for(app: FastAPI) -> Callable[[dict, Any], dict]:
    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict, context: Any) -> dict:
        return asgi(event, context)

    return handler
