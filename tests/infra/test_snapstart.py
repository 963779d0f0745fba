"""Cold start in AWS: the API functions run Python 3.13 with SnapStart, and API Gateway invokes the
published version's ``live`` alias (a snapshot belongs to a version; ``$LATEST`` would start cold)."""

from __future__ import annotations

import pytest

from melody.api.apps import FUNCTION_APPS

from .helpers import function_by_service, resources

pytestmark = pytest.mark.infra


@pytest.mark.parametrize("name", sorted(FUNCTION_APPS))
def test_every_api_function_runs_python_313_with_snapstart_on_published_versions(synth, name):
    _, fn = function_by_service(synth.api, f"melody-{name}")
    props = fn["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}


@pytest.mark.parametrize("name", sorted(FUNCTION_APPS))
def test_api_gateway_invokes_the_live_alias_of_each_api_function(synth, name):
    logical_id, _ = function_by_service(synth.api, f"melody-{name}")
    aliases = {
        alias_id: alias["Properties"]
        for alias_id, alias in resources(synth.api, "AWS::Lambda::Alias").items()
        if alias["Properties"]["FunctionName"] == {"Ref": logical_id}
    }
    assert len(aliases) == 1, aliases
    ((alias_id, alias),) = aliases.items()
    assert alias["Name"] == "live"
    version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
    assert resources(synth.api, "AWS::Lambda::Version")[version_id]["Properties"]["FunctionName"] == {"Ref": logical_id}
    integrations = [
        i["Properties"] for i in resources(synth.api, "AWS::ApiGatewayV2::Integration").values()
        if i["Properties"]["IntegrationUri"] == {"Ref": alias_id}
    ]
    assert len(integrations) == 1  # one integration per function, on the alias, never on $LATEST
    unqualified = [
        i for i in resources(synth.api, "AWS::ApiGatewayV2::Integration").values()
        if i["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    ]
    assert unqualified == []
    # API Gateway may invoke the alias (the permission names the alias, not the bare function)
    permissions = [
        p["Properties"] for p in resources(synth.api, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": alias_id}
    ]
    assert permissions and all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)


def test_the_pipeline_steps_take_no_snapshot(synth):
    """SnapStart is for the request path; the pipeline's functions keep on-demand init (and images cannot)."""
    for fn in resources(synth.pipeline, "AWS::Lambda::Function").values():
        assert "SnapStart" not in fn["Properties"]


def test_tracing_off_disables_x_ray_and_tells_the_functions_not_to_load_its_sdk():
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from melody_infra.config import MelodyConfig
    from melody_infra.constructs import MelodyFunction, MelodyLayers

    app = App(context={"stage": "test", "tracing": "false", "aws:cdk:bundling-stacks": []})
    config = MelodyConfig.from_node(app.node)
    assert config.tracing is False
    stack = Stack(app, "TracingOff")
    MelodyFunction(stack, "Users", area="users", config=config, layers=MelodyLayers(stack, "Layers"), snap_start=True)
    (fn,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert fn["Properties"].get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}  # no active tracing
    assert fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert MelodyConfig.from_node(App(context={"stage": "test"}).node).tracing is True  # on unless turned off
