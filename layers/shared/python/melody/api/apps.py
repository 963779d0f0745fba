"""Which routers each deployed function serves; the local stack serves them all in one app.

Routers are imported inside each factory so that a function loads only its own area's code
(cold start: the auth function never imports the search or audio modules).
"""

from __future__ import annotations

from fastapi import FastAPI

from melody.api.app import create_app


def auth_app(container: object | None) -> FastAPI:
    from melody.api.routers import auth, wellknown

    return create_app(container, [auth.router], root_routers=[wellknown.router])


def users_app(container: object | None) -> FastAPI:
    from melody.api.routers import users

    return create_app(container, [users.router])


def system_app(container: object | None) -> FastAPI:
    from melody.api.routers import system

    return create_app(container, [system.router])


def search_app(container: object | None) -> FastAPI:
    from melody.api.routers import music

    return create_app(container, [music.router])


def library_app(container: object | None) -> FastAPI:
    from melody.api.routers import library

    return create_app(container, [library.router])


def audio_app(container: object | None) -> FastAPI:
    from melody.api.routers import audio

    return create_app(container, [audio.router])


def full_app(container: object | None) -> FastAPI:
    """Every router: the local stack's app and the source of the committed ``openapi.json``."""
    from melody.api.routers import audio, auth, library, music, system, users, wellknown

    routers = [system.router, auth.router, users.router, music.router, library.router, audio.router]
    return create_app(container, routers, root_routers=[wellknown.router])
