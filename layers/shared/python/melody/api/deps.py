"""FastAPI dependencies every area shares: the app's services and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from melody.auth.claims import AccessClaims
from melody.core.errors import Forbidden, Unauthorized
from melody.core.services import Services

__all__ = ["AdminUser", "AppServices", "CurrentClaims", "CurrentUser", "admin_user_id", "current_user_id", "get_services"]

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/verify-otp")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]


def current_claims(
    services: AppServices,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access token>`.", code="missing_token")
    return services.verifier.verify(credentials.credentials)


CurrentClaims = Annotated[AccessClaims, Depends(current_claims)]


def current_user_id(claims: CurrentClaims) -> str:
    return claims.user_id


CurrentUser = Annotated[str, Depends(current_user_id)]


def admin_user_id(claims: CurrentClaims) -> str:
    """The caller, who must hold the ``admin`` role (named by the operators in MELODY_ADMIN_PHONES)."""
    if "admin" not in claims.roles:
        raise Forbidden("This needs an operator's account.", code="admin_only")
    return claims.user_id


AdminUser = Annotated[str, Depends(admin_user_id)]
