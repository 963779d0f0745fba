"""The developer API's records (pure data; no storage or web framework here)."""

from __future__ import annotations

from pydantic import BaseModel

from melody.developer.plans import PlanName  # noqa: TC001 - pydantic resolves it at runtime

__all__ = ["AnalyzeJob", "ApiKeyRecord", "DayUsage"]


class ApiKeyRecord(BaseModel):
    key_id: str
    key_hash: str
    user_id: str
    name: str
    plan: PlanName
    prefix: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class DayUsage(BaseModel):
    day: str  # YYYY-MM-DD (UTC)
    calls: int = 0
    analyses: int = 0


class AnalyzeJob(BaseModel):
    """An analyze job started through the B2B API: which key started it and whether stems were asked for."""

    job_id: str
    key_id: str
    user_id: str
    stems: bool = False
    created_at: float
