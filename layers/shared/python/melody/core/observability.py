"""Powertools logger and metrics shared by every function (one instance per process), and tracing.

The Tracer is built only when tracing is on: it imports the X-Ray SDK (about 150 ms of a cold
start), which a function with tracing off, the local stack and the tests never need.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeVar

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SERVICE", "logger", "metrics", "trace_handler", "tracing_enabled"]

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "melody-studio")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MelodyStudio"), service=SERVICE)

H = TypeVar("H", bound="Callable[..., object]")


def tracing_enabled() -> bool:
    """As powertools decides: in Lambda (not SAM local), unless ``POWERTOOLS_TRACE_DISABLED`` is set."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not os.environ.get("AWS_SAM_LOCAL")


def trace_handler(handler: H) -> H:
    """``handler`` under powertools' Tracer when tracing is on, else ``handler`` itself."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    traced: H = Tracer(service=SERVICE).capture_lambda_handler(capture_response=False)(handler)
    return traced
