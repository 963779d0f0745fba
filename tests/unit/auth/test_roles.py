"""Roles: operators named in MELODY_ADMIN_PHONES get ``admin`` in their access token; admin-only
routes answer 403 to everyone else."""

from __future__ import annotations

import time

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from melody.api.app import create_app
from melody.api.deps import AdminUser, CurrentUser
from melody.auth.keys import KeyMaterial, generate_key_material_json
from melody.auth.tokens import TokenService
from melody.auth.verify import AccessTokenVerifier
from melody.core.errors import NotFound
from melody.core.services import Services
from melody.core.settings import AuthSettings
from tests.unit.auth.fakes import FakeClock, MemoryTokens

KEYS = KeyMaterial.from_json(generate_key_material_json())
ADMIN, USER = "usr_admin", "usr_listener"


def tokens(roles_for):
    clock = FakeClock(time.time())  # the verifier checks against real time
    return TokenService(KEYS, MemoryTokens(), clock, issuer="https://iss", audience="melody-api", access_ttl_s=900,
                        refresh_ttl_s=3600, roles_for=roles_for)  # fmt: skip


def roles_for(user_id: str) -> tuple[str, ...]:
    return ("admin",) if user_id == ADMIN else ()


def test_the_access_token_carries_the_users_roles_and_only_them():
    service = tokens(roles_for)
    verifier = AccessTokenVerifier(KEYS, issuer="https://iss", audience="melody-api")
    assert verifier.verify(service.issue(ADMIN).access_token).roles == ("admin",)
    assert verifier.verify(service.issue(USER).access_token).roles == ()


def test_roles_are_read_again_at_refresh():
    """An operator removed from the list loses the role with the next access token, not the next login."""
    admins = {ADMIN}
    service = tokens(lambda user_id: ("admin",) if user_id in admins else ())
    verifier = AccessTokenVerifier(KEYS, issuer="https://iss", audience="melody-api")
    pair = service.issue(ADMIN)
    admins.clear()
    rotated, _ = service.rotate(pair.refresh_token)
    assert verifier.verify(rotated.access_token).roles == ()


@pytest.fixture()
def client():
    service = tokens(roles_for)
    router = APIRouter()

    @router.get("/admin-only")
    def admin_only(user_id: AdminUser) -> dict[str, str]:
        return {"user_id": user_id}

    @router.get("/anyone")
    def anyone(user_id: CurrentUser) -> dict[str, str]:
        return {"user_id": user_id}

    services = type("S", (), {"verifier": AccessTokenVerifier(KEYS, issuer="https://iss", audience="melody-api")})()
    app = create_app(services, [router])  # type: ignore[arg-type]
    return TestClient(app), service


def test_admin_only_routes_refuse_other_users_with_403(client):
    http, service = client

    def get(path, user):
        return http.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {service.issue(user).access_token}"})

    refused = get("/admin-only", USER)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
    assert get("/admin-only", ADMIN).json() == {"user_id": ADMIN}
    assert get("/anyone", USER).status_code == 200
    assert http.get("/api/v1/admin-only").status_code == 401  # no token at all: 401, not 403


def test_services_give_admin_to_the_listed_phone_numbers_only():
    settings = AuthSettings(_env_file=None, stage="test", admin_phones="+919876543210, +14155550100")
    assert settings.admin_phones == ["+919876543210", "+14155550100"]
    services = Services(settings)
    phones = {ADMIN: "+919876543210", USER: "+919812345678"}

    class Users:
        def get(self, user_id):
            if user_id not in phones:
                raise NotFound("no such user", code="user_not_found")
            return type("U", (), {"phone_e164": phones[user_id]})()

    services.__dict__["users"] = Users()
    assert services.roles_for(ADMIN) == ("admin",)
    assert services.roles_for(USER) == ()
    assert services.roles_for("usr_gone") == ()
    assert Services(AuthSettings(_env_file=None, stage="test")).roles_for(ADMIN) == ()  # no list: no lookup
