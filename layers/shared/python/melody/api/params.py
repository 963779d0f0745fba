"""Query parameters parsed by hand: the API answers its own error codes (say ``invalid_limit``)
with the allowed range, instead of a generic validation error."""

from __future__ import annotations

from melody.core.errors import InvalidInput

__all__ = ["int_param"]


def int_param(value: str | None, *, name: str, default: int, low: int, high: int, code: str) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"`{name}` must be an integer.", code=code, details={"min": low, "max": high}) from None
    if not low <= number <= high:
        raise InvalidInput(f"`{name}` must be between {low} and {high}.", code=code, details={"min": low, "max": high})
    return number
