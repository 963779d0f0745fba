"""The FastAPI application factory shared by every API function and the local stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI

from melody import __version__
from melody.api.errors import install_error_handlers
from melody.api.openapi_docs import DEFAULT

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from melody.core.services import Services

API_PREFIX = "/api/v1"
NO_STORE = b"no-store"


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every ``/api/v1`` response that does not set its own.

    Those responses carry a user's data (profile, library, jobs, tokens) or an error about the
    request; no browser, proxy or CDN may keep them. Routes that may be cached (the issuer's
    discovery document and keys, outside ``/api/v1``) set their own ``Cache-Control``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(API_PREFIX + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", NO_STORE))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_no_store)


def tidy_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent or a value, never JSON ``null``: ``anyOf [X, null]`` becomes ``X``.

    FastAPI renders an optional query parameter (``str | None = None``) as ``anyOf`` with
    ``null``; a query string cannot carry a null, and clients generated from the document (and
    contract fuzzers) should see the constraints of the value itself.
    """
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                options = schema.get("anyOf")
                if not options:
                    continue
                values = [option for option in options if option != {"type": "null"}]
                if len(values) == 1 and len(values) < len(options):
                    del schema["anyOf"]
                    parameter["schema"] = {**values[0], **schema}
    return document


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
    app.add_middleware(NoStoreMiddleware)
    # Every operation documents the error shape for an unexpected failure (`default`); the
    # statuses a route can really return are on its own decorator (see melody.api.openapi_docs).
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, responses=DEFAULT)
    for router in root_routers:
        app.include_router(router, responses=DEFAULT)

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tidy_parameters(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
