"""Renditions in MelodyPipeline: the ASL-built state machine, its four steps, scoped grants; the API side."""

from __future__ import annotations

import json

import pytest

from .helpers import as_list, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

SUBSTITUTIONS = {
    "PrepareFunctionArn": "melody-pipeline-rendition-prepare",
    "RenderFunctionArn": "melody-pipeline-rendition-render",
    "PersistFunctionArn": "melody-pipeline-rendition-persist",
    "MarkFailedFunctionArn": "melody-pipeline-rendition-mark-failed",
}
IMAGE_STEPS = {"melody-pipeline-rendition-prepare": "handler.rendition_prepare",
               "melody-pipeline-rendition-render": "handler.rendition_render"}  # fmt: skip
ZIP_STEPS = {"melody-pipeline-rendition-persist": "handler.rendition_persist",
             "melody-pipeline-rendition-mark-failed": "handler.rendition_mark_failed"}  # fmt: skip


def _machine(synth) -> tuple[str, dict]:
    ((logical_id, machine),) = [
        (k, m) for k, m in resources(synth.pipeline, "AWS::StepFunctions::StateMachine").items()
        if "renditions" in json.dumps(m["Properties"].get("StateMachineName"))
    ]  # fmt: skip
    return logical_id, machine["Properties"]


def _fn_id(synth, service) -> str:
    return function_by_service(synth.pipeline, service)[0]


def test_the_machine_is_the_asl_file_with_its_four_steps(synth):
    from melody_infra.paths import REPO_ROOT

    _, props = _machine(synth)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    definition = json.loads(props["DefinitionString"])
    asl = json.loads((REPO_ROOT / "statemachines" / "renditions.asl.json").read_text())
    assert definition.pop("TimeoutSeconds") == 1800
    assert definition == asl
    assert props["DefinitionSubstitutions"] == {
        key: {"Fn::GetAtt": [_fn_id(synth, service), "Arn"]} for key, service in SUBSTITUTIONS.items()
    }


def test_the_machine_role_invokes_exactly_the_four_steps(synth):
    _, props = _machine(synth)
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    invokes = [
        s
        for p in resources(synth.pipeline, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in as_list(s["Action"])
    ]
    targets = {json.dumps(r, sort_keys=True) for s in invokes for r in as_list(s["Resource"])}
    assert targets == {json.dumps({"Fn::GetAtt": [_fn_id(synth, svc), "Arn"]}, sort_keys=True) for svc in SUBSTITUTIONS.values()}


def test_heavy_steps_use_the_pipeline_image_and_light_ones_are_zip(synth):
    for service, cmd in IMAGE_STEPS.items():
        props = function_by_service(synth.pipeline, service)[1]["Properties"]
        assert props["PackageType"] == "Image" and props["ImageConfig"] == {"Command": [cmd]}
    render = function_by_service(synth.pipeline, "melody-pipeline-rendition-render")[1]["Properties"]
    assert render["Timeout"] == 900 and render["MemorySize"] >= 3008
    for service, handler in ZIP_STEPS.items():
        props = function_by_service(synth.pipeline, service)[1]["Properties"]
        assert props["Handler"] == handler and props["Runtime"] == "python3.13"


def test_steps_read_stems_and_write_renditions_only(synth):
    for service in SUBSTITUTIONS.values():
        _, fn = function_by_service(synth.pipeline, service)
        env = fn["Properties"]["Environment"]["Variables"]
        assert {"MELODY_RENDITIONS_TABLE", "MELODY_RESULTS_TABLE", "MELODY_MEDIA_BUCKET"} <= set(env)
        statements = role_policy_statements(synth.pipeline, fn)
        by_sid = {s.get("Sid"): s for s in statements}
        assert by_sid["ReadStems"]["Action"] == "s3:GetObject"
        assert json.dumps(by_sid["ReadStems"]["Resource"]).endswith('"/stems/*"]]}')
        assert by_sid["WriteRenditions"]["Action"] == "s3:PutObject"
        assert json.dumps(by_sid["WriteRenditions"]["Resource"]).endswith('"/renditions/*"]]}')
        actions = {a for s in statements for a in as_list(s["Action"])}
        assert "s3:DeleteObject" not in actions and "states:StartExecution" not in actions
        assert not any(a.startswith("s3:") and a.endswith("*") for a in actions)


def test_the_conversions_function_serves_renditions_and_may_start_only_that_machine(synth):
    _, fn = function_by_service(synth.api, "melody-conversions")
    env = fn["Properties"]["Environment"]["Variables"]
    assert "MELODY_RENDITIONS_TABLE" in env
    assert "ImportValue" in json.dumps(env["MELODY_RENDITIONS_STATE_MACHINE_ARN"])
    statements = role_policy_statements(synth.api, fn)
    started = {json.dumps(r, sort_keys=True) for s in statements if "states:StartExecution" in as_list(s["Action"])
               for r in as_list(s["Resource"])}  # fmt: skip
    assert json.dumps(env["MELODY_RENDITIONS_STATE_MACHINE_ARN"], sort_keys=True) in started
    routes = {r["Properties"]["RouteKey"] for r in resources(synth.api, "AWS::ApiGatewayV2::Route").values()}
    assert {"POST /api/v1/audio/jobs/{job_id}/renditions", "GET /api/v1/audio/jobs/{job_id}/renditions/{rendition_id}"} <= routes
