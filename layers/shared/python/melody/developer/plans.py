"""Plans: a per-second rate and a monthly quota each; the numbers come from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PLAN_NAMES", "Plan", "PlanName", "plans_from_settings"]

PlanName = Literal["free", "pro", "enterprise"]
PLAN_NAMES: tuple[PlanName, ...] = ("free", "pro", "enterprise")


@dataclass(frozen=True)
class Plan:
    name: PlanName
    rate_per_s: int
    monthly_quota: int


def plans_from_settings(settings: object) -> dict[str, Plan]:
    """Every plan from ``MELODY_PLAN_<NAME>_RATE_PER_S`` / ``..._MONTHLY_QUOTA`` (settings fields)."""
    return {
        name: Plan(
            name=name,
            rate_per_s=int(getattr(settings, f"plan_{name}_rate_per_s")),
            monthly_quota=int(getattr(settings, f"plan_{name}_monthly_quota")),
        )
        for name in PLAN_NAMES
    }
