"""The one aggregator: which feature routers each deployed function serves.

Each factory imports only its own feature's router, so a function loads only its area's code
(cold start: the users function never imports the auth, catalog or conversions modules). The
local stack serves :func:`full_app`, which is also the source of the committed ``openapi.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from melody.api.app import create_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI

    from melody.core.services import Services

__all__ = ["FUNCTION_APPS", "full_app"]


def auth_app(services: Services | None) -> FastAPI:
    from melody.auth import router, wellknown

    return create_app(services, [router.router], root_routers=[wellknown.router])


def users_app(services: Services | None) -> FastAPI:
    from melody.users import router

    return create_app(services, [router.router])


def system_app(services: Services | None) -> FastAPI:
    from melody.system import router

    return create_app(services, [router.router])


def catalog_app(services: Services | None) -> FastAPI:
    from melody.catalog import router

    return create_app(services, [router.router])


def library_app(services: Services | None) -> FastAPI:
    from melody.library import router
    from melody.lyrics import router as lyrics  # the player's lyrics: same tables, same catalog reads

    return create_app(services, [router.router, lyrics.router])


def conversions_app(services: Services | None) -> FastAPI:
    from melody.conversions import router
    from melody.renditions import router as renditions  # a job's renditions: /audio/jobs/{job_id}/renditions

    return create_app(services, [router.router, renditions.router])


def developer_app(services: Services | None) -> FastAPI:
    from melody.developer import b2b_router, router

    return create_app(services, [router.router, b2b_router.router])


def discover_app(services: Services | None) -> FastAPI:
    from melody.discover import router

    return create_app(services, [router.router, router.admin_router])



def scores_app(services: Services | None) -> FastAPI:
    from melody.scores import router  # never music21: the analysis runs in the score pipeline

    return create_app(services, [router.router])

# The API functions by name: ``functions/<name>/handler.py`` serves ``FUNCTION_APPS[name]`` and CDK
# routes exactly that app's routes to it (tests/infra/test_route_drift.py holds both to it).
FUNCTION_APPS: dict[str, Callable[[Services | None], FastAPI]] = {
    "auth": auth_app,
    "users": users_app,
    "system": system_app,
    "catalog": catalog_app,
    "library": library_app,
    "conversions": conversions_app,
    "discover": discover_app,
    "developer": developer_app,
    "scores": scores_app,
}


def full_app(services: Services | None) -> FastAPI:
    """Every router: the local stack's app and the source of the committed ``openapi.json``."""
    from melody.auth import router as auth
    from melody.auth import wellknown
    from melody.catalog import router as catalog
    from melody.conversions import router as conversions
    from melody.developer import b2b_router as developer_b2b
    from melody.developer import router as developer
    from melody.library import router as library
    from melody.lyrics import router as lyrics
    from melody.system import router as system
    from melody.users import router as users

    routers = [system.router, auth.router, users.router, catalog.router, library.router, lyrics.router, conversions.router]
    routers += [developer.router, developer_b2b.router]
    from melody.renditions import router as renditions

    routers += [renditions.router]
    from melody.discover import router as discover

    routers += [discover.router, discover.admin_router]
    from melody.scores import router as scores

    routers += [scores.router]
    return create_app(services, routers, root_routers=[wellknown.router])
