"""The arithmetic of the per-key limits: one-second windows, calendar months, and the headers.

Counting itself is atomic in the store (one conditional ``UpdateItem ... ADD`` per window; see
:mod:`melody.developer.dynamodb`): concurrent calls can never be admitted past the limit, because
DynamoDB evaluates each increment's condition against the counter as it is at that write.
The headers follow the IETF draft ``RateLimit header fields for HTTP`` (``RateLimit-Limit``,
``RateLimit-Remaining``, ``RateLimit-Reset`` in seconds) and RFC 9110's ``Retry-After``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = ["Admission", "day_of", "month_of", "rate_headers", "seconds_to_month_end", "seconds_to_next_second", "second_window"]


@dataclass(frozen=True)
class Admission:
    """What the limits said about one call: admitted or not, and the numbers for the headers."""

    admitted: bool
    limit: int  # the plan's requests per second
    remaining: int  # left in this second's window
    reset_s: int  # seconds until the binding window resets
    refused_by: Literal["rate", "quota"] | None = None
    quota: int = 0
    quota_used: int = 0

    @property
    def retry_after_s(self) -> int:
        return max(1, self.reset_s)


def second_window(now: float) -> int:
    return int(math.floor(now))


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC)


def day_of(now: float) -> str:
    return _utc(now).strftime("%Y-%m-%d")


def month_of(now: float) -> str:
    return _utc(now).strftime("%Y-%m")


def seconds_to_month_end(now: float) -> int:
    at = _utc(now)
    nxt = datetime(at.year + (at.month == 12), at.month % 12 + 1, 1, tzinfo=UTC)
    return max(1, math.ceil(nxt.timestamp() - now))


def seconds_to_next_second(now: float) -> int:
    return max(1, math.ceil(second_window(now) + 1 - now))


def rate_headers(admission: Admission) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(admission.limit),
        "RateLimit-Remaining": str(max(0, admission.remaining)),
        "RateLimit-Reset": str(max(0, admission.reset_s)),
    }
    if not admission.admitted:
        headers["Retry-After"] = str(admission.retry_after_s)
    return headers
