"""The API-key dependency of the B2B routes, and the route class that puts the rate headers on
every answer (errors included).

The key comes in ``X-API-Key`` (declared through FastAPI's :class:`APIKeyHeader`, so the OpenAPI
document carries the ``ApiKey`` security scheme) or as ``Authorization: ApiKey <key>``. Each call is
authenticated against the key table (strongly consistent: a revoked key fails at once) and counted
against its plan before the route runs.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from melody.api.deps import AppServices  # noqa: TC001 - FastAPI reads the annotation at runtime
from melody.developer.keys import parse_authorization
from melody.developer.models import ApiKeyRecord
from melody.developer.rate_limit import rate_headers

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

__all__ = ["API_KEY_SCHEME", "ApiKeyCaller", "RateLimitHeadersRoute", "api_key_caller"]

API_KEY_SCHEME = "ApiKey"

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name=API_KEY_SCHEME,
    auto_error=False,
    description="A developer key (`mk_live_…`) from `POST /api/v1/developer/keys`; "
    "`Authorization: ApiKey <key>` is accepted too.",
)


def api_key_caller(
    request: Request,
    response: Response,
    services: AppServices,
    x_api_key: Annotated[str | None, Security(_api_key_header)],
) -> ApiKeyRecord:
    """The calling key's record, once it is known, active and within its plan's limits."""
    presented = x_api_key or parse_authorization(request.headers.get("authorization"))
    record = services.developer.authenticate(presented)
    admission = services.developer.admit(record)  # 429 carries its own RateLimit-* and Retry-After
    headers = rate_headers(admission)
    response.headers.update(headers)
    request.state.rate_headers = headers  # for errors the route raises after admission
    return record


ApiKeyCaller = Annotated[ApiKeyRecord, Depends(api_key_caller)]


def _handler_for(app: Any, exc: Exception) -> Callable[..., Any] | None:
    handlers = getattr(app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            handler: Callable[..., Any] = handlers[cls]
            return handler
    return None


class RateLimitHeadersRoute(APIRoute):
    """An admitted call's ``RateLimit-*`` headers on whatever the route answers, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                headers = getattr(request.state, "rate_headers", None)
                render = _handler_for(request.app, exc) if headers else None
                if render is None:
                    raise
                rendered = render(request, exc)
                response: Response = await rendered if inspect.isawaitable(rendered) else rendered
                for name, value in (headers or {}).items():
                    response.headers.setdefault(name, value)
                return response

        return route
