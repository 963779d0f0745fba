"""Discover fixtures: a catalog schema of its own (seeded), services that may crawl loopback, and
the fixture server of real-shaped and hostile feeds."""

from __future__ import annotations

import pytest

from tests.integration.catalog.conftest import own_catalog
from tests.integration.discover.fixtures.server import FixtureServer

catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_discover_")


@pytest.fixture()
def feeds():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture()
def services(dev_settings, sms, database_url, catalog_schema, catalog_executor, seeded_catalog):
    from pydantic import SecretStr

    from melody.core.services import Services

    settings = dev_settings.model_copy(
        update={
            "otp_per_ip_per_minute": 1000,
            "otp_per_ip_per_hour": 1000,
            "otp_resend_after_s": 0,
            "database_url": SecretStr(database_url),
            "catalog_db_schema": catalog_schema,
            "discover_allow_loopback": True,
            "discover_min_host_delay_s": 0.01,
            "discover_fetch_timeout_s": 2.0,
            "discover_max_bytes": 1024 * 1024,
        }
    )
    services = Services(settings, sms_sender=sms, executor=catalog_executor)
    yield services
    catalog_executor.execute("DELETE FROM discover_sources")
    catalog_executor.execute("DELETE FROM discover_follows")


@pytest.fixture()
def user_headers(services):
    import uuid

    from tests.conftest import auth_header

    def _headers(user_id: str | None = None) -> dict[str, str]:
        pair = services.tokens.issue(user_id or "usr_" + uuid.uuid4().hex[:24])
        return auth_header(pair.access_token)

    return _headers
