"""The FastAPI application factory shared by every API function and the local stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from melody import __version__
from melody.api.errors import install_error_handlers
from melody.api.openapi_docs import DEFAULT

if TYPE_CHECKING:
    from collections.abc import Iterable

    from melody.core.services import Services

API_PREFIX = "/api/v1"


def create_app(services: Services | None, routers: Iterable[APIRouter], *, root_routers: Iterable[APIRouter] = ()) -> FastAPI:
    """An app serving ``routers`` under ``/api/v1`` (and ``root_routers`` at ``/``).

    ``services`` holds the settings and the wired services; it is read by the dependencies in
    :mod:`melody.api.deps`. It may be ``None`` only to render the OpenAPI document.
    """
    app = FastAPI(
        title="Melody Studio API",
        version=__version__,
        description="Phone login, multilingual search, stems and analysis, and a personal library.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    # Every operation documents the error shape for an unexpected failure (`default`); the
    # statuses a route can really return are on its own decorator (see melody.api.openapi_docs).
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, responses=DEFAULT)
    for router in root_routers:
        app.include_router(router, responses=DEFAULT)
    return app
