"""``/system/health``: version and the state of every dependency, for probes and operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from melody.adapters.health import check_dependencies
from melody.api.deps import get_container
from melody.api.schemas import HealthOut

router = APIRouter(prefix="/system", tags=["system"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(container: Annotated[object, Depends(get_container)]) -> JSONResponse:
    settings = container.settings  # type: ignore[attr-defined]
    dependencies = check_dependencies(settings)
    ok = all(d.status != "error" for d in dependencies.values())
    body = HealthOut(
        status="ok" if ok else "degraded",
        version=getattr(settings, "version", "unknown"),
        stage=settings.stage,
        dependencies=dependencies,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
