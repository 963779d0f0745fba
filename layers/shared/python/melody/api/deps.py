"""FastAPI dependencies every area shares: the app's services and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from melody.core.errors import Unauthorized
from melody.core.services import Services

__all__ = ["AppServices", "CurrentUser", "current_user_id", "get_services"]

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/verify-otp")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]


def current_user_id(
    services: AppServices,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access token>`.", code="missing_token")
    return services.verifier.verify(credentials.credentials).user_id


CurrentUser = Annotated[str, Depends(current_user_id)]
