"""Compare the routes a FastAPI app serves with the routes API Gateway sends to its Lambda.

Three sources state the API's routes: each function's FastAPI app (``melody.api.apps.FUNCTION_APPS``),
the CDK route groups (as synthesised into ``AWS::ApiGatewayV2::Route`` resources) and the committed
``openapi.json``. A route is ``(METHOD, path, protected)``; protected means the JWT authorizer in AWS,
``current_claims`` (under ``CurrentUser`` and ``AdminUser``) in FastAPI and a ``security`` requirement in the OpenAPI document.

Everything here is pure (apps, template dicts, documents in; readable differences out), so the drift
tests and the tests of these helpers share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

from melody.api.deps import current_claims

Route = tuple[str, str, bool]  # (METHOD, path, protected)

IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
OPENAPI_METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head", "trace"})
AUTHORIZATION_TYPES = {"JWT": True, "NONE": False}


# -- FastAPI ---------------------------------------------------------------------------------


def depends_on(dependant: Any, call: Callable[..., Any]) -> bool:
    """Whether ``call`` is anywhere in a route's dependency tree (router-level dependencies included)."""
    if dependant is None:
        return False
    return dependant.call is call or any(depends_on(sub, call) for sub in dependant.dependencies)


def _api_routes(app: FastAPI) -> Iterable[Any]:
    """Every API route with its effective path and dependencies, through included routers.

    FastAPI >= 0.16x keeps included routers as ``_IncludedRouter`` entries of ``app.routes``;
    ``iter_route_contexts`` (what the OpenAPI generator walks) flattens them. Older versions copy
    the routes into ``app.routes``.
    """
    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iter_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def fastapi_routes(app: FastAPI, *, auth: Callable[..., Any] = current_claims) -> set[Route]:
    """``(METHOD, path, protected)`` for each documented operation of ``app`` (docs routes skipped)."""
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    routes: set[Route] = set()
    for route in _api_routes(app):
        if not route.include_in_schema or route.path in docs:
            continue
        protected = depends_on(route.dependant, auth)
        routes.update((method, route.path, protected) for method in route.methods if method not in IGNORED_METHODS)
    return routes


# -- the synthesised template ------------------------------------------------------------------


def _resources(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template.get("Resources", {}).items() if res.get("Type") == type_}


def _ref(value: Any) -> str | None:
    """The logical id in ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def _integration_id(target: Any) -> str | None:
    """``integrations/<id>`` as CDK writes it: ``{"Fn::Join": ["", ["integrations/", {"Ref": id}]]}``."""
    if isinstance(target, dict) and "Fn::Join" in target:
        parts = target["Fn::Join"][1]
        if len(parts) == 2 and parts[0] == "integrations/":
            return _ref(parts[1])
    return None


def _function_id(resources: Mapping[str, Any], logical_id: str | None) -> str | None:
    """Follow an alias (``AWS::Lambda::Alias``) or version (``AWS::Lambda::Version``) to its function."""
    seen: set[str] = set()
    while logical_id in resources and logical_id not in seen:
        seen.add(logical_id)
        res = resources[logical_id]
        if res.get("Type") not in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            return logical_id
        logical_id = _ref(res.get("Properties", {}).get("FunctionName"))
    return logical_id


def function_names_from_assets(template: Mapping[str, Any], outdir: Path, functions_dir: Path) -> dict[str, str]:
    """Lambda logical id -> ``<name>`` where the function's code asset is the folder ``functions/<name>``.

    The template names a zip asset by hash (``Code.S3Key = <hash>.zip``); the synth stages it as
    ``<outdir>/asset.<hash>``, a copy of the source folder, recognised by its ``handler.py``.
    """
    handlers = {
        folder.name: (folder / "handler.py").read_bytes() for folder in sorted(functions_dir.iterdir()) if (folder / "handler.py").is_file()
    }
    names: dict[str, str] = {}
    for logical_id, res in _resources(template, "AWS::Lambda::Function").items():
        key = res["Properties"].get("Code", {}).get("S3Key")
        if not isinstance(key, str) or not key.endswith(".zip"):
            continue
        staged = outdir / f"asset.{key.removesuffix('.zip')}" / "handler.py"
        if not staged.is_file():
            continue
        matches = [name for name, source in handlers.items() if source == staged.read_bytes()]
        if len(matches) != 1:
            raise ValueError(f"{logical_id}: code asset matches {matches or 'no'} functions/<name> folder")
        names[logical_id] = matches[0]
    return names


def template_routes(template: Mapping[str, Any], function_names: Mapping[str, str]) -> dict[str, set[Route]]:
    """Function name -> ``(METHOD, path, protected)`` of the ``AWS::ApiGatewayV2::Route`` resources sent to it.

    The integration may invoke the function, or an alias or version of it. A route whose integration
    does not reach one of ``function_names`` is kept under ``"<unmapped ...>"`` so it
    shows up as a difference instead of vanishing.
    """
    integrations = _resources(template, "AWS::ApiGatewayV2::Integration")
    routes: dict[str, set[Route]] = {}
    for logical_id, res in _resources(template, "AWS::ApiGatewayV2::Route").items():
        props = res["Properties"]
        method, _, path = props["RouteKey"].partition(" ")
        auth_type = props.get("AuthorizationType", "NONE")
        if auth_type not in AUTHORIZATION_TYPES:
            raise ValueError(f"{logical_id}: AuthorizationType {auth_type!r} is neither JWT nor NONE")
        integration_id = _integration_id(props.get("Target"))
        integration = integrations.get(integration_id or "", {}).get("Properties", {})
        function_id = _function_id(template.get("Resources", {}), _ref(integration.get("IntegrationUri")))
        name = function_names.get(function_id or "", f"<unmapped {function_id or integration_id or logical_id}>")
        routes.setdefault(name, set()).add((method, path, AUTHORIZATION_TYPES[auth_type]))
    return routes


# -- openapi.json ------------------------------------------------------------------------------


def openapi_routes(document: Mapping[str, Any]) -> set[Route]:
    """``(METHOD, path, protected)`` per operation; protected = a ``security`` requirement (its own or the
    document's) other than the developer API's ``ApiKey`` scheme, which its function checks itself
    (no API Gateway authorizer: see melody_infra.stacks.developer)."""
    default_security = document.get("security", [])

    def jwt(requirements: list[dict[str, Any]]) -> bool:
        return any(set(requirement) - {"ApiKey"} for requirement in requirements)

    return {
        (method.upper(), path, jwt(operation.get("security", default_security)))
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in OPENAPI_METHODS and method.upper() not in IGNORED_METHODS
    }


# -- the comparisons ---------------------------------------------------------------------------


def _protection(protected: bool) -> str:
    return "protected" if protected else "public"


def _compare(
    expected: Mapping[tuple[str, str], tuple[bool, str]],
    actual: Mapping[tuple[str, str], tuple[bool, str]],
    expected_side: str,
    actual_side: str,
) -> list[str]:
    """Both sides map ``(METHOD, path)`` to ``(protected, where)``; differences sorted by path then method."""
    problems: list[str] = []
    for key in sorted(expected.keys() | actual.keys(), key=lambda k: (k[1], k[0])):
        method, path = key
        if key not in actual:
            problems.append(f"missing in {actual_side}: {method} {path} ({expected[key][1]})")
        elif key not in expected:
            problems.append(f"missing in {expected_side}: {method} {path} ({actual[key][1]})")
        elif expected[key][0] != actual[key][0]:
            problems.append(
                f"authorizer mismatch: {method} {path} ({expected[key][1]}): {expected_side} "
                f"{_protection(expected[key][0])}, {actual_side} {_protection(actual[key][0])}"
            )
    return problems


def route_differences(fastapi: Mapping[str, set[Route]], aws: Mapping[str, set[Route]]) -> list[str]:
    """Per function, the FastAPI routes against the API Gateway routes, both ways, and their protection.

    A route served by the wrong function reads as missing in AWS for one and missing in FastAPI for the other.
    """
    problems: list[str] = []
    for name in sorted(fastapi.keys() | aws.keys()):
        where = f"function {name}"
        problems += _compare(
            {(m, p): (prot, where) for m, p, prot in fastapi.get(name, set())},
            {(m, p): (prot, where) for m, p, prot in aws.get(name, set())},
            "FastAPI",
            "AWS",
        )
    return problems


def openapi_differences(openapi: set[Route], aws: Mapping[str, set[Route]]) -> list[str]:
    """Every ``openapi.json`` operation is routed in AWS and vice versa, with the same protection."""
    routed = {(m, p): (prot, f"function {name}") for name, routes in aws.items() for m, p, prot in routes}
    documented = {(m, p): (prot, "openapi.json") for m, p, prot in openapi}
    return _compare(documented, routed, "openapi.json", "AWS")
