"""Which routers each deployed function serves; the local stack serves them all in one app."""

from __future__ import annotations

from fastapi import FastAPI

from melody.api.app import create_app
from melody.api.routers import auth, system, users, wellknown


def auth_app(container: object | None) -> FastAPI:
    return create_app(container, [auth.router], root_routers=[wellknown.router])


def users_app(container: object | None) -> FastAPI:
    return create_app(container, [users.router])


def system_app(container: object | None) -> FastAPI:
    return create_app(container, [system.router])


def full_app(container: object | None) -> FastAPI:
    """Every router: the local stack's app and the source of the committed ``openapi.json``."""
    return create_app(container, [system.router, auth.router, users.router], root_routers=[wellknown.router])
