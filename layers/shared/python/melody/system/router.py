"""``/system/health``: version and the state of every dependency, for probes and operators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from melody.api.deps import AppServices
from melody.system.health import check_dependencies
from melody.system.schemas import HealthOut

router = APIRouter(prefix="/system", tags=["system"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(services: AppServices) -> JSONResponse:
    settings = services.settings
    dependencies = check_dependencies(settings)
    ok = all(d.status != "error" for d in dependencies.values())
    body = HealthOut(
        status="ok" if ok else "degraded",
        version=getattr(settings, "version", "unknown"),
        stage=settings.stage,
        dependencies=dependencies,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
