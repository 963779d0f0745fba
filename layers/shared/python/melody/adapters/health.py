"""Dependency checks for ``/system/health``: each table and bucket, and the catalog database."""

from __future__ import annotations

import time
from collections.abc import Callable

from melody.api.schemas import DependencyState
from melody.resources import BUCKETS, TABLES
from melody.settings import CommonSettings


def _timed(check: Callable[[], None]) -> DependencyState:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a health probe reports, it does not raise
        return DependencyState(status="error", detail=type(exc).__name__)
    return DependencyState(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def check_dependencies(settings: CommonSettings) -> dict[str, DependencyState]:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url)
    states: dict[str, DependencyState] = {}
    for table in TABLES:
        name = getattr(settings, table.settings_field)
        states[f"table:{table.settings_field}"] = _timed(lambda n=name: dynamodb.describe_table(TableName=n))
    for bucket in BUCKETS:
        name = getattr(settings, bucket.settings_field)
        states[f"bucket:{bucket.settings_field}"] = _timed(lambda n=name: s3.head_bucket(Bucket=n))
    database_url = getattr(settings, "database_url", None)
    if database_url is None:
        states["catalog_database"] = DependencyState(status="not_configured")
    else:
        states["catalog_database"] = _timed(lambda: _ping_database(database_url.get_secret_value()))
    return states


def _ping_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("SELECT 1")
