"""Renders every failure in the one error shape; never a stack trace, never a 500 for bad input.

* A parameter or body field declared with :func:`error_code` (``json_schema_extra={"x-error-code": ...}``)
  keeps its stable code when FastAPI's validation refuses it (say ``invalid_limit``): the constraint is
  declared once, and both the OpenAPI document and the check come from that declaration.
* A known path asked with a method it does not serve answers 405 with ``Allow`` listing the methods that
  path really serves (every route on it), whoever raised the 404/405 (the router, or the PWA's static
  mount of the local stack, which matches every path).
* Every 401 carries ``WWW-Authenticate: Bearer`` (RFC 6750; ``error="invalid_token"`` for a bad or expired
  access token).
* No submitted value is echoed, and field names in ``loc`` are capped (a 10 KB key must not come back).
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from melody.api.error_codes import ERROR_CODE_KEY, ERROR_CODES_KEY, code_for, error_code
from melody.core.errors import AppError
from melody.core.observability import logger

if TYPE_CHECKING:
    import re
    from collections.abc import Iterator, Mapping

    from fastapi import FastAPI, Request
    from fastapi.dependencies.models import Dependant

__all__ = ["ERROR_CODES_KEY", "ERROR_CODE_KEY", "MAX_ECHO", "allowed_methods", "error_code", "error_response", "install_error_handlers"]

_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

# The longest name or path segment an error body repeats; longer ones are cut (never echoed whole).
MAX_ECHO = 64
# 401 codes that mean "the access token you sent is no good" (RFC 6750 §3.1 `invalid_token`).
_INVALID_TOKEN_CODES = frozenset({"invalid_token", "token_expired"})


def _www_authenticate(code: str) -> str:
    if code in _INVALID_TOKEN_CODES:
        return 'Bearer error="invalid_token"'
    return "Bearer"


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    all_headers = dict(headers or {})
    if status == 401 and not any(name.lower() == "www-authenticate" for name in all_headers):
        all_headers["WWW-Authenticate"] = _www_authenticate(code)
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details}},
        headers=all_headers or None,
    )


def _capped(part: Any) -> str | int:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    text = str(part)
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


# --- stable codes for declared constraints -----------------------------------------------------------


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``Model | None``, ``list[Model]``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin is not None:
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _body_code(models: list[type[BaseModel]], path: tuple[Any, ...], error_type: str) -> str | None:
    """The code of the deepest field along ``path`` that declares one."""
    found: str | None = None
    for part in path:
        if not isinstance(part, str):
            continue  # a list index: same field
        field = next((m.model_fields[part] for m in models if part in m.model_fields), None)
        if field is None:
            break
        found = code_for(field.json_schema_extra, error_type) or found
        models = _models_in(field.annotation)
    return found


def _declared_code(request: Request, loc: tuple[Any, ...], error_type: str) -> str | None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or len(loc) < 2:
        return None
    where, name = loc[0], loc[1]
    for dependant in _dependants(route.dependant):
        if where == "body":
            for field in dependant.body_params:
                code = _body_code(_models_in(field.field_info.annotation), loc[1:], error_type)
                if code:
                    return code
            continue
        params = {"query": dependant.query_params, "path": dependant.path_params, "header": dependant.header_params}
        for field in params.get(str(where), []):
            if name in (field.name, field.alias):
                return code_for(field.field_info.json_schema_extra, error_type)
    return None


# --- 405 with the right Allow ------------------------------------------------------------------------


def _route_methods(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each API route's path pattern and methods, as served (with the include prefix), built once."""
    cached: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(app.state, "route_methods", None)
    if cached is None:
        cached = []
        for context in iter_route_contexts(app.routes):
            methods = getattr(context, "methods", None)
            if isinstance(context.original_route, APIRoute) and context.path and methods:
                cached.append((compile_path(context.path)[0], frozenset(methods)))
        app.state.route_methods = cached
    return cached


def allowed_methods(app: Any, path: str) -> set[str]:
    """Every method some API route serves on ``path`` (empty when no route has that path)."""
    methods: set[str] = set()
    for pattern, served in _route_methods(app):
        if pattern.match(path):
            methods |= served
    return methods


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Echo where and why, never the submitted value (it may be a code or a token).
        errors = exc.errors()
        details = [
            {
                "loc": [_capped(part) for part in err.get("loc", ())],
                "message": str(err.get("msg", ""))[:200],
                "type": err.get("type", ""),
            }
            for err in errors
        ]
        codes = [_declared_code(request, tuple(err.get("loc", ())), str(err.get("type", ""))) for err in errors]
        code = next((c for c in codes if c), None)
        if code is not None:
            return error_response(422, code, "The request is not valid.", details)
        return error_response(422, "validation_error", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        status = exc.status_code
        if status in (404, 405):
            served = allowed_methods(request.app, request.url.path)
            if served and request.method not in served:
                # A known path, a method it does not serve: say which ones it does.
                status, headers["Allow"] = 405, ", ".join(sorted(served))
                return error_response(405, "method_not_allowed", "Method Not Allowed", headers=headers)
        code = _HTTP_CODES.get(status, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return error_response(status, code, message, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
