"""The routes API Gateway sends to each Lambda are exactly the routes that Lambda's FastAPI app serves.

Three sources state the API: ``melody.api.apps.FUNCTION_APPS`` (what each function serves), the CDK
route groups (what the HTTP API routes, and with which authorizer) and the committed ``openapi.json``
(what clients are generated from). A route in FastAPI but not in AWS is a 404 in production; one in
AWS but not in FastAPI routes to a function that 404s; a protected FastAPI route left public in AWS
loses the authorizer's rejection, and a public one made protected locks users out (login, JWKS).
The synthesised MelodyApi template is the AWS side, not the CDK objects that produced it.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends

from melody.api.apps import FUNCTION_APPS
from melody.api.deps import current_user_id
from tests.support.route_drift import (
    fastapi_routes,
    function_names_from_assets,
    openapi_differences,
    openapi_routes,
    route_differences,
    template_routes,
)

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO / "functions"
OPENAPI = REPO / "openapi.json"


@pytest.fixture(scope="module")
def api_template(synth) -> dict:
    return synth.api.to_json()


@pytest.fixture(scope="module")
def function_names(synth, api_template) -> dict[str, str]:
    """Lambda logical id -> function name, read from the template's code assets (``functions/<name>``)."""
    return function_names_from_assets(api_template, synth.outdir, FUNCTIONS_DIR)


@pytest.fixture(scope="module")
def aws_routes(api_template, function_names) -> dict[str, set]:
    return template_routes(api_template, function_names)


@pytest.fixture(scope="module")
def app_routes() -> dict[str, set]:
    return {name: fastapi_routes(factory(None)) for name, factory in FUNCTION_APPS.items()}


# -- the drift checks ------------------------------------------------------------------------


def test_each_function_is_routed_exactly_the_routes_its_app_serves(app_routes, aws_routes):
    """Per function, FastAPI's (METHOD, path, protected) set equals the synthesised routes, both ways."""
    assert route_differences(app_routes, aws_routes) == []


def test_openapi_json_operations_are_exactly_the_routed_ones(aws_routes):
    """Every committed openapi.json operation is routed in AWS (and nothing else is), with ``security`` = JWT."""
    assert openapi_differences(openapi_routes(json.loads(OPENAPI.read_text())), aws_routes) == []


def test_every_api_function_is_identified_by_its_code_asset(synth, function_names):
    """The asset-based identity agrees with the CDK objects: each FUNCTION_APPS name is one deployed function.

    Guards the identification itself: a function whose asset can't be traced would drop its routes
    into ``<unmapped ...>`` (still reported), but this says why.
    """
    stack = synth.melody.api
    by_construct = {stack.get_logical_id(fn.function.node.default_child): name for name, fn in stack.functions.items()}
    api_functions = {lid: name for lid, name in function_names.items() if name in FUNCTION_APPS}
    assert api_functions == {lid: name for lid, name in by_construct.items() if name in FUNCTION_APPS}
    assert sorted(api_functions.values()) == sorted(FUNCTION_APPS)


def test_route_groups_record_what_was_synthesised(synth, aws_routes):
    """``ApiStack.route_groups`` (what other stacks and tests read) matches the template, group by group."""
    groups = synth.melody.api.route_groups
    # A function may serve several groups (developer: JWT-protected keys, API-key b2b routes): the
    # template groups routes by function, named after the function's first group, its area.
    area: dict[int, str] = {}
    recorded: dict[str, set] = {}
    for name, group in groups.items():
        owner = area.setdefault(id(group.function), name)
        recorded.setdefault(owner, set()).update((*key.split(" ", 1), group.protected) for key in group.route_keys)
    assert recorded == aws_routes


@pytest.mark.parametrize("name", sorted(FUNCTION_APPS))
def test_function_handler_serves_its_function_app(name):
    """``functions/<name>/handler.py`` builds ``FUNCTION_APPS[name]``, not a sibling's app (which CDK wouldn't route)."""
    factory = FUNCTION_APPS[name].__name__
    tree = ast.parse((FUNCTIONS_DIR / name / "handler.py").read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "melody.api.apps"
        for alias in node.names
    }
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    factories = {f.__name__ for f in FUNCTION_APPS.values()}
    assert imported & called & factories == {factory}


# -- the helpers fail when one side changes --------------------------------------------------


def test_a_route_added_to_an_app_is_reported_missing_in_aws(app_routes, aws_routes):
    """A new FastAPI route that CDK doesn't route is a difference (built on a fresh app, not the shared one)."""
    app = FUNCTION_APPS["users"](None)
    extra = APIRouter()

    @extra.delete("/api/v1/users/me")
    def delete_me(user_id: str = Depends(current_user_id)) -> None:  # noqa: B008 - FastAPI's dependency idiom
        return None

    app.include_router(extra)
    changed = {**app_routes, "users": fastapi_routes(app)}
    assert route_differences(changed, aws_routes) == ["missing in AWS: DELETE /api/v1/users/me (function users)"]


def test_a_route_removed_from_the_template_is_reported_missing_in_aws(api_template, function_names, app_routes):
    """Dropping one AWS::ApiGatewayV2::Route from (a copy of) the template is a difference."""
    template = copy.deepcopy(api_template)
    resources = template["Resources"]
    (route_id,) = [
        lid
        for lid, res in resources.items()
        if res["Type"] == "AWS::ApiGatewayV2::Route" and res["Properties"]["RouteKey"] == "GET /api/v1/library"
    ]
    del resources[route_id]
    assert route_differences(app_routes, template_routes(template, function_names)) == [
        "missing in AWS: GET /api/v1/library (function library)"
    ]


def test_a_route_key_only_in_aws_is_reported_missing_in_fastapi(app_routes, aws_routes):
    """A synthesised route no app serves is a difference, and so is one sent to a function nobody knows."""
    changed = {**aws_routes, "catalog": aws_routes["catalog"] | {("GET", "/api/v1/music/charts", True)}}
    changed["<unmapped SomeFunction>"] = {("GET", "/api/v1/other", False)}
    assert route_differences(app_routes, changed) == [
        "missing in FastAPI: GET /api/v1/other (function <unmapped SomeFunction>)",
        "missing in FastAPI: GET /api/v1/music/charts (function catalog)",
    ]


def test_a_flipped_authorizer_is_reported(api_template, function_names, app_routes):
    """A public route made JWT in the template (and a protected one made NONE) is an authorizer mismatch."""
    template = copy.deepcopy(api_template)
    for res in template["Resources"].values():
        if res["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = res["Properties"]
        if props["RouteKey"] == "GET /.well-known/jwks.json":
            props["AuthorizationType"] = "JWT"
        if props["RouteKey"] == "PATCH /api/v1/users/me":
            props["AuthorizationType"] = "NONE"
    assert route_differences(app_routes, template_routes(template, function_names)) == [
        "authorizer mismatch: GET /.well-known/jwks.json (function auth): FastAPI public, AWS protected",
        "authorizer mismatch: PATCH /api/v1/users/me (function users): FastAPI protected, AWS public",
    ]


def test_a_route_sent_to_another_function_is_reported_on_both(api_template, function_names, app_routes):
    """Pointing a route at a sibling's integration shows as missing on one function and extra on the other."""
    template = copy.deepcopy(api_template)
    routes = {
        res["Properties"]["RouteKey"]: res["Properties"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Route"
    }
    routes["GET /api/v1/music/trending"]["Target"] = routes["GET /api/v1/users/me"]["Target"]
    assert route_differences(app_routes, template_routes(template, function_names)) == [
        "missing in AWS: GET /api/v1/music/trending (function catalog)",
        "missing in FastAPI: GET /api/v1/music/trending (function users)",
    ]


def test_openapi_drift_is_reported_both_ways_and_by_security(aws_routes):
    """An undocumented routed operation, an unrouted documented one and a ``security`` flip are all reported."""
    document = json.loads(OPENAPI.read_text())
    del document["paths"]["/api/v1/system/health"]
    document["paths"]["/api/v1/users/me"]["delete"] = {"security": [{"HTTPBearer": []}]}
    document["paths"]["/api/v1/users/me"]["get"].pop("security")
    assert openapi_differences(openapi_routes(document), aws_routes) == [
        "missing in openapi.json: GET /api/v1/system/health (function system)",
        "missing in AWS: DELETE /api/v1/users/me (openapi.json)",
        "authorizer mismatch: GET /api/v1/users/me (openapi.json): openapi.json public, AWS protected",
    ]


def test_protection_is_found_through_router_dependencies_and_sub_dependencies():
    """``current_user_id`` counts whether it is a parameter, a sub-dependency or a router-level dependency."""
    from fastapi import FastAPI

    def owner(user_id: str = Depends(current_user_id)) -> str:  # noqa: B008
        return user_id

    open_router = APIRouter()
    guarded = APIRouter(dependencies=[Depends(current_user_id)])

    @open_router.get("/direct")
    def direct(user_id: str = Depends(current_user_id)) -> None:  # noqa: B008
        return None

    @open_router.get("/nested")
    def nested(user: str = Depends(owner)) -> None:  # noqa: B008
        return None

    @open_router.api_route("/public", methods=["GET", "HEAD", "OPTIONS"])
    def public() -> None:
        return None

    @open_router.get("/hidden", include_in_schema=False)
    def hidden() -> None:
        return None

    @guarded.post("/router-level")
    def router_level() -> None:
        return None

    app = FastAPI(openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs")
    app.include_router(open_router, prefix="/api/v1")
    app.include_router(guarded, prefix="/api/v1")
    assert fastapi_routes(app) == {
        ("GET", "/api/v1/direct", True),
        ("GET", "/api/v1/nested", True),
        ("GET", "/api/v1/public", False),
        ("POST", "/api/v1/router-level", True),
    }
