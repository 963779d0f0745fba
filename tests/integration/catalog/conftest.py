"""Catalog fixtures: a unique PostgreSQL schema per session (dropped after), migrated and seeded.

``services`` is overridden here so the shared ``client``/``login`` fixtures serve the catalog.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.schemas import schema_executor, scratch_schema

SEED = Path(__file__).resolve().parents[4] / "shared" / "catalog" / "songs.jsonl"
FIXTURE = Path(__file__).resolve().parent / "songs_fixture.jsonl"


def seed_file() -> Path:
    return SEED if SEED.is_file() else FIXTURE


def own_catalog(prefix: str, *, scope: str = "module", seeded: bool = True):
    """``catalog_schema``, ``catalog_executor`` and ``seeded_catalog`` fixtures on a schema of their
    own (migrated and seeded). A test module that adds data the others must not see assigns them:
    ``catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_merge_")``; with
    ``seeded=False`` only the first two (the module seeds its own)."""

    @pytest.fixture(scope=scope, name="catalog_schema")
    def _schema(database_url: str):
        with scratch_schema(database_url, prefix) as schema:
            yield schema

    @pytest.fixture(scope=scope, name="catalog_executor")
    def _executor(database_url: str, catalog_schema: str):
        with schema_executor(database_url, catalog_schema) as executor:
            yield executor

    @pytest.fixture(scope=scope, name="seeded_catalog")
    def _seeded(catalog_executor):
        from melody.catalog.postgres.loader import ensure_catalog
        from melody.catalog.postgres.repository import CatalogRepository

        ensure_catalog(catalog_executor, seed_file())
        return CatalogRepository(catalog_executor)

    return (_schema, _executor, _seeded) if seeded else (_schema, _executor)


catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_catalog_", scope="session")


@pytest.fixture()
def providers():
    """Providers for ``source=all`` (none by default; tests put fakes here)."""
    return []


@pytest.fixture()
def services(dev_settings, sms, database_url, catalog_schema, catalog_executor, seeded_catalog, providers):
    from pydantic import SecretStr

    from melody.catalog.providers.cache import bind_search_cache_model
    from melody.core.services import Services

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
    bind_search_cache_model(settings)
    return Services(settings, sms_sender=sms, executor=catalog_executor, providers=providers)


@pytest.fixture()
def user_headers(services):
    """``user_headers(user_id=None)`` → an Authorization header for a (new) user, without the OTP round trip."""
    from tests.conftest import auth_header

    def _headers(user_id: str | None = None) -> dict[str, str]:
        pair = services.tokens.issue(user_id or "usr_" + uuid.uuid4().hex[:24])
        return auth_header(pair.access_token)

    return _headers
