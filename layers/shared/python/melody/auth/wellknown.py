"""The issuer's discovery document and public keys, which API Gateway's JWT authorizer reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from melody.api.deps import AppServices

router = APIRouter(prefix="/.well-known", tags=["auth"])


@router.get("/openid-configuration")
def openid_configuration(services: AppServices, response: Response) -> dict[str, Any]:
    issuer = services.settings.jwt_issuer.rstrip("/")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return {
        "issuer": services.settings.jwt_issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": services.keys.algorithms(),
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "token_endpoint": f"{issuer}/api/v1/auth/verify-otp",
    }


@router.get("/jwks.json")
def jwks(services: AppServices, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return services.keys.jwks()
