"""Fixtures shared by every test layer: moto's server, PostgreSQL, dev settings and a logged-in client."""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on loopback for DynamoDB and S3 (the same one ``melody dev`` starts)."""
    from melody_dev.local.standins import start_moto, use_fake_aws_credentials

    use_fake_aws_credentials()
    server, url = start_moto()
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def database_url() -> str:
    """Real PostgreSQL: ``DATABASE_URL`` or the machine's server; CI installs and starts one."""
    import psycopg

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from melody.auth.key_file import ensure_local_key_file

    return ensure_local_key_file(tmp_path_factory.mktemp("keys") / "signing-key.json")


@pytest.fixture(scope="session")
def dev_settings(moto_endpoint: str, key_file: Path):
    """Dev settings on moto with every table and bucket provisioned (unique names per session)."""
    from melody_dev.local.provision import provision
    from melody_dev.local.stack import build_dev_settings

    suffix = uuid.uuid4().hex[:6]
    settings = build_dev_settings(key_file.parent, dynamodb_url=moto_endpoint, s3_url=moto_endpoint, database_url=None)
    overrides = {
        name: f"{getattr(settings, name)}-{suffix}"
        for name in type(settings).model_fields
        if name.endswith("_table") or name.endswith("_bucket")
    }
    settings = settings.model_copy(update={**overrides, "signing_key_file": key_file})
    provision(settings)
    return settings


class CapturingSender:
    """Records codes instead of sending them, so tests can log in."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_otp(self, phone_e164: str, code: str) -> None:
        self.sent.append((phone_e164, code))

    def last_code(self, phone_e164: str) -> str:
        return next(code for phone, code in reversed(self.sent) if phone == phone_e164)


@pytest.fixture()
def sms() -> CapturingSender:
    return CapturingSender()


@pytest.fixture()
def services(dev_settings, sms):
    from melody.core.services import Services

    # Generous limits: every TestClient request comes from one address and tests log in often.
    # The limits themselves are tested with their own clients.
    settings = dev_settings.model_copy(
        update={"otp_per_ip_per_minute": 1000, "otp_per_ip_per_hour": 1000, "otp_resend_after_s": 0}
    )
    return Services(settings, sms_sender=sms)


@pytest.fixture()
def client(services):
    from fastapi.testclient import TestClient

    from melody.api.apps import full_app

    with TestClient(full_app(services)) as test_client:
        yield test_client


def random_indian_mobile() -> str:
    import random

    return "9" + "".join(random.choice("0123456789") for _ in range(9))


@pytest.fixture()
def login(client, sms):
    """``login()`` → (access_token, refresh_token, user) for a fresh (or given) number."""

    def _login(phone: str | None = None) -> tuple[str, str, dict]:
        phone = phone or random_indian_mobile()
        challenge = client.post("/api/v1/auth/request-otp", json={"phone_number": phone})
        assert challenge.status_code == 202, challenge.text
        e164 = "+91" + re.sub(r"\D", "", phone)[-10:]
        verified = client.post(
            "/api/v1/auth/verify-otp",
            json={"challenge_id": challenge.json()["challenge_id"], "code": sms.last_code(e164)},
        )
        assert verified.status_code == 200, verified.text
        body = verified.json()
        return body["access_token"], body["refresh_token"], body["user"]

    return _login


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def stderr_buffer() -> io.StringIO:
    return io.StringIO()
