"""Response shape of the health route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DependencyState(BaseModel):
    status: Literal["ok", "error", "not_configured"]
    detail: str | None = None
    latency_ms: float | None = None
    version: str | None = Field(default=None, description="A tool's version (ffmpeg).")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    dependencies: dict[str, DependencyState] | None = Field(
        default=None,
        description="Each table, bucket, the catalog database and ffmpeg (present, its version) by name: "
        "only for an operator "
        "(the dev and test stages); absent from the public answer, which names no resource.",
    )
