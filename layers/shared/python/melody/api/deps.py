"""FastAPI dependencies: the app's container, the caller's identity and the client's address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from melody.api.client_address import client_address
from melody.errors import Unauthorized
from melody.wiring import AuthContainer, TokenContainer

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/verify-otp")


def get_container(request: Request) -> Any:
    return request.app.state.container


def get_token_container(request: Request) -> TokenContainer:
    return request.app.state.container


def get_auth_container(request: Request) -> AuthContainer:
    return request.app.state.container


def current_user_id(
    container: Annotated[TokenContainer, Depends(get_token_container)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access token>`.", code="missing_token")
    return container.verifier.verify(credentials.credentials).user_id


def client_ip(request: Request) -> str:
    # Behind API Gateway the caller's address is in the request context (Mangum keeps the event).
    event = request.scope.get("aws.event") or {}
    source = event.get("requestContext", {}).get("http", {}).get("sourceIp")
    if not source:
        source = request.client.host if request.client else "unknown"
    secret = getattr(get_container(request), "origin_verify_secret", None)
    return client_address(str(source), request.headers, secret() if callable(secret) else None)


CurrentUser = Annotated[str, Depends(current_user_id)]
ClientIp = Annotated[str, Depends(client_ip)]


def get_music(request: Request) -> Any:
    """The music services (catalog, search, library) of the app's container.

    The search/library functions' :class:`~melody.wiring.CatalogContainer` has them; any other
    container (the local stack's, tests') gets one built from its settings, once per app.
    """
    container = request.app.state.container
    music = getattr(container, "music", None)
    if music is None:
        music = getattr(request.app.state, "music", None)
        if music is None:
            from melody.wiring import MusicServices

            music = MusicServices(container.settings, getattr(container, "clock", None))
            request.app.state.music = music
    return music


def get_jobs(request: Request) -> Any:
    """The jobs services of the app's container (built once per app from its settings)."""
    container = request.app.state.container
    jobs = getattr(container, "jobs_services", None) or getattr(request.app.state, "jobs_services", None)
    if jobs is None:
        from melody.jobs.container import JobsServices

        jobs = JobsServices(container.settings, getattr(container, "clock", None))
        request.app.state.jobs_services = jobs
    return jobs
