"""Dependency checks for ``/system/health``: each table and bucket, and the catalog database."""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import TYPE_CHECKING

from melody.core.resources import BUCKETS, TABLES
from melody.core.sql.connect import catalog_executor
from melody.system.schemas import DependencyState

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.core.settings import CommonSettings
    from melody.core.sql.executor import SqlExecutor


def _timed(check: Callable[[], object]) -> DependencyState:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a health probe reports, it does not raise
        return DependencyState(status="error", detail=type(exc).__name__)
    return DependencyState(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


# The route is public: without a cache, anyone could turn each request into one DescribeTable per
# table, one HeadBucket per bucket and a database round trip (which may wake a paused Aurora).
CACHE_TTL_S = 10.0
TOOL_STAGES = frozenset({"dev", "test"})
FAILURE_TTL_S = 2.0
_cache: dict[tuple[tuple[str, str], ...], tuple[float, dict[str, DependencyState]]] = {}
_cache_lock = threading.Lock()


def check_dependencies(settings: CommonSettings, *, max_age_s: float = CACHE_TTL_S) -> dict[str, DependencyState]:
    """Each dependency's state, at most ``max_age_s`` old (one probe at a time per process)."""
    key = tuple(sorted((k, str(v)) for k, v in settings.model_dump().items()))
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            healthy = all(state.status != "error" for state in hit[1].values())
            # a failure is re-checked sooner: recovery should show within seconds
            if time.monotonic() - hit[0] < (max_age_s if healthy else min(max_age_s, FAILURE_TTL_S)):
                return hit[1]
        states = _probe(settings)
        _cache[key] = (time.monotonic(), states)
        return states


def _probe(settings: CommonSettings) -> dict[str, DependencyState]:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url)
    states: dict[str, DependencyState] = {}
    for table in TABLES:
        name = getattr(settings, table.settings_field)
        states[f"table:{table.settings_field}"] = _timed(partial(dynamodb.describe_table, TableName=name))
    for bucket in BUCKETS:
        name = getattr(settings, bucket.settings_field)
        states[f"bucket:{bucket.settings_field}"] = _timed(partial(s3.head_bucket, Bucket=name))
    states["catalog_database"] = check_catalog(settings)
    if settings.stage in TOOL_STAGES:
        # The audio pipeline's decoder, where one process runs the pipeline too (melody dev, the
        # test suites): the API functions in AWS ship no ffmpeg (the pipeline's functions have
        # their own layer), so there it would only ever read as missing.
        states["ffmpeg"] = check_ffmpeg()
    return states


def check_catalog(settings: object, executor: SqlExecutor | None = None) -> DependencyState:
    """``SELECT 1`` through the same executor the catalog functions use (psycopg or the Data API)."""
    executor = executor or catalog_executor(settings)
    if executor is None:
        return DependencyState(status="not_configured")
    try:
        return _timed(lambda: executor.query("SELECT 1 AS ok"))
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()


_ffmpeg_cache: dict[str, DependencyState] = {}


def check_ffmpeg(binary: str = "ffmpeg") -> DependencyState:
    """ffmpeg on ``PATH`` (``MELODY_FFMPEG`` wins) and its version (``ffmpeg -version``'s first
    line); cached per process, the binary does not change under a running server."""
    import os
    import shutil
    import subprocess

    binary = os.environ.get("MELODY_FFMPEG", binary)
    hit = _ffmpeg_cache.get(binary)
    if hit is not None:
        return hit
    path = shutil.which(binary)
    if path is None:
        state = DependencyState(status="error", detail="ffmpeg not found on PATH")
    else:
        started = time.perf_counter()
        try:
            out = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            state = DependencyState(status="error", detail=type(exc).__name__)
        else:
            words = out.split()
            version = words[2] if len(words) > 2 and words[:2] == ["ffmpeg", "version"] else None
            state = DependencyState(
                status="ok", version=version, latency_ms=round((time.perf_counter() - started) * 1000, 2)
            )
    _ffmpeg_cache[binary] = state
    return state
