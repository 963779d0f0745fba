"""Capture the powertools log lines and EMF records the auth code writes (both JSON, one per line)."""

from __future__ import annotations

import io
import json

import pytest


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def emf_records(text: str) -> list[dict]:
    return [record for record in json_lines(text) if "_aws" in record]


@pytest.fixture()
def log_lines():
    """``log_lines()`` → the shared logger's records so far (its handler points at its stream from import time)."""
    from melody.core.observability import logger

    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield lambda: json_lines(buffer.getvalue())
    handler.setStream(previous)  # type: ignore[attr-defined]
