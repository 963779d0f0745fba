"""Stable error codes for declared constraints (no web framework here: domain models may use it).

A parameter or body field declared with ``json_schema_extra=error_code("invalid_limit")`` keeps that
code when FastAPI's validation refuses it (status 422); :mod:`melody.api.errors` reads it back. The
constraint is declared once, so the OpenAPI document and the check cannot drift apart.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ERROR_CODES_KEY", "ERROR_CODE_KEY", "code_for", "error_code"]

ERROR_CODE_KEY = "x-error-code"
ERROR_CODES_KEY = "x-error-codes"


def error_code(code: str, **by_type: str) -> dict[str, Any]:
    """``json_schema_extra`` for a parameter or field whose failed validation answers ``code`` (422).

    ``by_type`` picks another code for one kind of failure (pydantic's error type, say
    ``string_too_long="query_too_long"``).
    """
    extra: dict[str, Any] = {ERROR_CODE_KEY: code}
    if by_type:
        extra[ERROR_CODES_KEY] = dict(by_type)
    return extra


def code_for(extra: Any, error_type: str) -> str | None:
    """The code ``extra`` (a field's ``json_schema_extra``) declares for a failure of ``error_type``."""
    if not isinstance(extra, dict):
        return None
    by_type = extra.get(ERROR_CODES_KEY)
    if isinstance(by_type, dict) and isinstance(by_type.get(error_type), str):
        return str(by_type[error_type])
    code = extra.get(ERROR_CODE_KEY)
    return code if isinstance(code, str) else None
