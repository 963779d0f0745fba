"""Response shape of the health route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class DependencyState(BaseModel):
    status: Literal["ok", "error", "not_configured"]
    detail: str | None = None
    latency_ms: float | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    dependencies: dict[str, DependencyState]
