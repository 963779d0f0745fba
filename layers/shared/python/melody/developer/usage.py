"""The usage report's date range and totals (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from melody.core.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterable

    from melody.developer.models import DayUsage

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "day_range", "fill_days"]

DEFAULT_DAYS = 30
MAX_DAYS = 366


def day_range(first: date | None, last: date | None, *, today: date) -> tuple[date, date]:
    """``from``/``to`` (inclusive, UTC days): default the last 30 days; at most 366 days, in order."""
    last = last or today
    try:
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # `to` within 30 days of year 1
        raise InvalidInput("`to` is too early.", code="invalid_date_range") from None
    if first > last:
        raise InvalidInput("`from` must not be after `to`.", code="invalid_date_range")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(
            f"At most {MAX_DAYS} days at a time.", code="invalid_date_range", details={"max_days": MAX_DAYS}
        )
    return first, last


def fill_days(rows: Iterable[DayUsage], first: date, last: date) -> list[tuple[str, int, int]]:
    """``(day, calls, analyses)`` for every day of the range, zeros where nothing was counted."""
    by_day: dict[str, tuple[int, int]] = {}
    for row in rows:
        calls, analyses = by_day.get(row.day, (0, 0))
        by_day[row.day] = (calls + row.calls, analyses + row.analyses)
    out = []
    day = first
    while day <= last:
        key = day.isoformat()
        calls, analyses = by_day.get(key, (0, 0))
        out.append((key, calls, analyses))
        day += timedelta(days=1)
    return out
