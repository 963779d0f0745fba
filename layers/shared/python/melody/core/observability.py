"""Powertools logger, metrics and tracer shared by every function (one instance per process)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "melody-studio")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MelodyStudio"), service=SERVICE)
tracer = Tracer(service=SERVICE)
