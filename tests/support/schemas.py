"""Scratch PostgreSQL schemas for catalog tests: each test module can have its own data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_schema(database_url: str, prefix: str) -> Iterator[str]:
    """A new empty schema ``<prefix><random>``, dropped (with everything in it) afterwards."""
    import psycopg

    name = prefix + uuid.uuid4().hex[:10]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextmanager
def schema_executor(database_url: str, schema: str) -> Iterator[object]:
    """The catalog's psycopg executor on ``schema``, closed afterwards."""
    from melody.core.sql.executor import PsycopgExecutor

    executor = PsycopgExecutor(database_url, schema=schema)
    try:
        yield executor
    finally:
        executor.close()
