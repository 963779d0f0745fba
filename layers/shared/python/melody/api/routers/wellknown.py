"""The issuer's discovery document and public keys, which API Gateway's JWT authorizer reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from melody.api.deps import get_token_container
from melody.wiring import TokenContainer

router = APIRouter(prefix="/.well-known", tags=["auth"])
Container = Annotated[TokenContainer, Depends(get_token_container)]


@router.get("/openid-configuration")
def openid_configuration(container: Container, response: Response) -> dict:
    issuer = container.settings.jwt_issuer.rstrip("/")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return {
        "issuer": container.settings.jwt_issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": container.keys.algorithms(),
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "token_endpoint": f"{issuer}/api/v1/auth/verify-otp",
    }


@router.get("/jwks.json")
def jwks(container: Container, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return container.keys.jwks()
