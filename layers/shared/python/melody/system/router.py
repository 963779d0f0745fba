"""``/system/health``: for probes, whether the API and its dependencies are up (200) or not (503).

The route is public, so the public answer is the status, version and stage only: the names of the
tables, buckets and database (and which one is failing) are an operator's business. They are in
the body only where every caller is an operator, the ``dev`` and ``test`` stages (``melody dev``,
the test suites); in AWS an operator reads them from the function's log, where a degraded check
logs each failing dependency.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from melody.api.deps import AppServices
from melody.core.observability import logger
from melody.system.health import check_dependencies
from melody.system.schemas import HealthOut

router = APIRouter(prefix="/system", tags=["system"])

# Stages whose callers are all operators: the body names each dependency and its state.
DETAILED_STAGES = frozenset({"dev", "test"})


@router.get(
    "/health",
    response_model=HealthOut,
    response_model_exclude_none=True,
    responses={503: {"model": HealthOut, "description": "A dependency is failing (`status: degraded`)."}},
)
def health(services: AppServices) -> JSONResponse:
    settings = services.settings
    dependencies = check_dependencies(settings)
    ok = all(d.status != "error" for d in dependencies.values())
    if not ok:
        failing = sorted(name for name, state in dependencies.items() if state.status == "error")
        logger.warning("health degraded", extra={"failing": failing})
    body = HealthOut(
        status="ok" if ok else "degraded",
        version=getattr(settings, "version", "unknown"),
        stage=settings.stage,
        dependencies=dependencies if settings.stage in DETAILED_STAGES else None,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ok else 503)
