"""Lyrics fixtures: the real app on moto and PostgreSQL (own catalog schema), LRCLIB on a MockTransport."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.catalog.conftest import own_catalog

catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_lyrics_")


class Lrclib:
    """A recorded-shape LRCLIB: ``answers`` by track name; ``offline`` makes every call fail to connect."""

    def __init__(self) -> None:
        self.answers: dict[str, dict] = {}
        self.offline = False
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.offline:
            raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)
        record = self.answers.get(request.url.params.get("track_name", ""))
        if request.url.path == "/api/get":
            if record is None:
                return httpx.Response(404, json={"code": 404, "name": "TrackNotFound", "message": "Failed to find specified track"})
            return httpx.Response(200, json=record)
        return httpx.Response(200, json=[record] if record else [])


@pytest.fixture()
def lrclib() -> Lrclib:
    return Lrclib()


@pytest.fixture()
def services(dev_settings, sms, database_url, catalog_schema, catalog_executor, seeded_catalog, lrclib):
    from pydantic import SecretStr

    from melody.core.services import Services
    from melody.lyrics.lrclib import LrclibProvider

    settings = dev_settings.model_copy(
        update={"database_url": SecretStr(database_url), "catalog_db_schema": catalog_schema, "provider_secret_id": None}
    )
    provider = LrclibProvider(timeout=1.0, transport=httpx.MockTransport(lrclib))
    return Services(settings, sms_sender=sms, executor=catalog_executor, providers=[], lyrics_provider=provider)


@pytest.fixture()
def user_headers(services):
    from tests.conftest import auth_header

    def _headers(user_id: str | None = None) -> dict[str, str]:
        return auth_header(services.tokens.issue(user_id or "usr_" + uuid.uuid4().hex[:24]).access_token)

    return _headers
