"""Catalog fixtures: a unique PostgreSQL schema per session (dropped after), migrated and seeded.

``container`` is overridden here so the shared ``client``/``login`` fixtures serve the catalog.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[4] / "shared" / "catalog" / "songs.jsonl"
FIXTURE = Path(__file__).resolve().parent / "songs_fixture.jsonl"


def seed_file() -> Path:
    return SEED if SEED.is_file() else FIXTURE


@pytest.fixture(scope="session")
def catalog_schema(database_url: str):
    import psycopg

    schema = "test_catalog_" + uuid.uuid4().hex[:10]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def catalog_executor(database_url: str, catalog_schema: str):
    from melody.adapters.catalog.executor import PsycopgExecutor

    executor = PsycopgExecutor(database_url, schema=catalog_schema)
    yield executor
    executor.close()


@pytest.fixture(scope="session")
def seeded_catalog(catalog_executor):
    from melody.adapters.catalog.loader import ensure_catalog

    ensure_catalog(catalog_executor, seed_file())
    from melody.adapters.catalog.repository import CatalogRepository

    return CatalogRepository(catalog_executor)


@pytest.fixture()
def providers():
    """Providers for ``source=all`` (none by default; tests put fakes here)."""
    return []


@pytest.fixture()
def container(dev_settings, sms, database_url, catalog_schema, catalog_executor, seeded_catalog, providers):
    from pydantic import SecretStr

    from melody.adapters.providers.cache import bind_search_cache_model
    from melody.wiring import AuthContainer, MusicServices

    settings = dev_settings.model_copy(
        update={
            "otp_per_ip_per_minute": 1000,
            "otp_per_ip_per_hour": 1000,
            "otp_resend_after_s": 0,
            "database_url": SecretStr(database_url),
            "catalog_db_schema": catalog_schema,
            "provider_secret_id": None,
        }
    )
    container = AuthContainer(settings, sms_sender=sms)
    bind_search_cache_model(settings)
    container.music = MusicServices(settings, container.clock, executor=catalog_executor, providers=providers)
    return container


@pytest.fixture()
def user_headers(container):
    """``user_headers(user_id=None)`` → an Authorization header for a (new) user, without the OTP round trip."""
    from tests.conftest import auth_header

    def _headers(user_id: str | None = None) -> dict[str, str]:
        pair = container.tokens.issue(user_id or "usr_" + uuid.uuid4().hex[:24])
        return auth_header(pair.access_token)

    return _headers
