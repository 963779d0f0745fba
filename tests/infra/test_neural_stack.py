"""The neural separation step in AWS (issue 14): off by default; a 10 GB container-image Lambda
with the operator's baked weights when they are named; AWS Batch on a GPU with ``neural_gpu``.
Each configuration is synthesised with cdk-nag on (a finding fails the synth)."""

from __future__ import annotations

import json

import pytest

from .conftest import PROD_CONTEXT
from .helpers import as_list, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

SHA = "ab" * 32
NEURAL = {"neural_weights_url": "https://models.example.com/htdemucs/model.onnx", "neural_weights_sha256": SHA}


def _synth(tmp_path_factory, extra: dict):
    from aws_cdk.assertions import Template

    from melody_infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk-neural")
    melody = build_app(context={**PROD_CONTEXT, **extra}, outdir=str(outdir))
    assembly = melody.app.synth()  # cdk-nag: raises on any unacknowledged finding
    return (Template.from_json(assembly.get_stack_by_name(melody.pipeline.stack_name).template),
            Template.from_json(assembly.get_stack_by_name(melody.api.stack_name).template), outdir)


def _docker_images(outdir) -> list[dict]:
    return [image["source"] for manifest in outdir.glob("*.assets.json")
            for image in json.loads(manifest.read_text()).get("dockerImages", {}).values()]


@pytest.fixture(scope="module")
def neural(tmp_path_factory):
    return _synth(tmp_path_factory, NEURAL)


@pytest.fixture(scope="module")
def gpu(tmp_path_factory):
    return _synth(tmp_path_factory, {**NEURAL, "neural_gpu": "true"})


def _definition(template) -> tuple[dict, dict]:
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():  # the audio pipeline's
        text = machine["Properties"]["DefinitionString"]
        if isinstance(text, dict):  # with tokens (GPU mode: the queue's ARN) CDK writes an Fn::Join
            text = "".join(part if isinstance(part, str) else "<token>" for part in text["Fn::Join"][1])
        definition = json.loads(text)
        if "Process" in definition["States"]:
            return definition, machine["Properties"]
    raise AssertionError("no audio pipeline state machine")


def _separate_neural(definition: dict) -> dict:
    for branch in definition["States"]["Process"]["Branches"]:
        if "SeparateNeural" in branch["States"]:
            return branch["States"]["SeparateNeural"]
    raise AssertionError("no SeparateNeural state")


def test_without_weights_there_is_no_neural_function_and_the_api_offers_dsp_only(synth):
    with pytest.raises(AssertionError):
        function_by_service(synth.pipeline, "melody-pipeline-neural-separate")
    assert not resources(synth.pipeline, "AWS::Batch::ComputeEnvironment")
    _, conversions = function_by_service(synth.api, "melody-conversions")
    assert "MELODY_ENGINES" not in conversions["Properties"]["Environment"]["Variables"]


def test_with_weights_the_step_is_a_10_gb_image_lambda_with_the_baked_model(neural):
    pipeline, api, outdir = neural
    logical_id, fn = function_by_service(pipeline, "melody-pipeline-neural-separate")
    props = fn["Properties"]
    assert props["PackageType"] == "Image" and props["MemorySize"] == 10240 and props["Timeout"] == 900
    assert props["EphemeralStorage"] == {"Size": 10240} and props["Architectures"] == ["arm64"]
    env = props["Environment"]["Variables"]
    assert env["MELODY_NEURAL_WEIGHTS"] == "/opt/melody-model" and env["MELODY_NEURAL_WEIGHTS_SHA256"] == SHA
    assert env["MELODY_NEURAL_DEVICE"] == "cpu"
    assert props["ImageConfig"]["Command"] == ["handler.separate"]
    # the state machine sends neural jobs there, and may invoke it
    definition, machine = _definition(pipeline)
    assert machine["DefinitionSubstitutions"]["NeuralSeparateFunctionArn"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert _separate_neural(definition)["Parameters"]["FunctionName"] == "${NeuralSeparateFunctionArn}"
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    statements = [s for p in resources(pipeline, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    invokable = [r for s in statements if "lambda:InvokeFunction" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert {"Fn::GetAtt": [logical_id, "Arn"]} in invokable
    # it reads uploads and writes stems like the dsp separate step
    actions = {a for s in role_policy_statements(pipeline, fn) for a in as_list(s["Action"])}
    assert {"s3:GetObject", "s3:PutObject"} <= actions
    # the API offers the engine
    _, conversions = function_by_service(api, "melody-conversions")
    assert conversions["Properties"]["Environment"]["Variables"]["MELODY_ENGINES"] == "dsp,neural"
    # the image is built from neural.Dockerfile with the weights URL and checksum as build args
    (source,) = [i for i in _docker_images(outdir) if i.get("dockerFile") == "infra/docker/neural.Dockerfile"]
    assert source["dockerBuildArgs"] == {"WEIGHTS_URL": NEURAL["neural_weights_url"], "WEIGHTS_SHA256": SHA}
    assert source["platform"] == "linux/arm64"


def test_with_a_gpu_the_step_is_an_aws_batch_job_that_scales_to_zero(gpu):
    pipeline, _, outdir = gpu
    (source,) = [i for i in _docker_images(outdir) if i.get("dockerFile") == "infra/docker/neural.Dockerfile"]
    assert source["platform"] == "linux/amd64" and source["dockerBuildArgs"]["ONNXRUNTIME_PACKAGE"].startswith("onnxruntime-gpu")
    with pytest.raises(AssertionError):
        function_by_service(pipeline, "melody-pipeline-neural-separate")
    ((_, env),) = resources(pipeline, "AWS::Batch::ComputeEnvironment").items()
    compute = env["Properties"]["ComputeResources"]
    assert compute["MinvCpus"] == 0 and set(compute["InstanceTypes"]) == {"g5.xlarge", "g6.xlarge"}
    ((_, job),) = resources(pipeline, "AWS::Batch::JobDefinition").items()
    requirements = {r["Type"]: r["Value"] for r in job["Properties"]["ContainerProperties"]["ResourceRequirements"]}
    assert requirements["GPU"] == "1"
    assert job["Properties"]["ContainerProperties"]["Command"] == ["python", "-m", "batch_separate"]
    job_env = {e["Name"]: e["Value"] for e in job["Properties"]["ContainerProperties"]["Environment"]}
    assert job_env["MELODY_NEURAL_DEVICE"] == "cuda" and job_env["MELODY_NEURAL_WEIGHTS_SHA256"] == SHA
    assert {"MELODY_JOBS_TABLE", "MELODY_RESULTS_TABLE", "MELODY_MEDIA_BUCKET"} <= set(job_env)
    definition, machine = _definition(pipeline)
    task = _separate_neural(definition)
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.waitForTaskToken"
    assert task["ResultSelector"] == {"stems.$": "$"} and task["TimeoutSeconds"] == 1800
    names = {e["Name"] for e in task["Parameters"]["ContainerOverrides"]["Environment"]}
    assert names == {"MELODY_TASK_TOKEN", "MELODY_STEP_INPUT"}
    assert "NeuralSeparateFunctionArn" not in machine["DefinitionSubstitutions"]
    # the rest of the file is untouched: the dsp Separate task is still the Lambda
    assert definition["States"]["Process"]["Branches"][0]["States"]["Separate"]["Parameters"]["FunctionName"] == "${SeparateFunctionArn}"
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    statements = [s for p in resources(pipeline, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any("batch:SubmitJob" in as_list(s["Action"]) for s in statements)
    all_actions = {a for p in resources(pipeline, "AWS::IAM::Policy").values()
                   for s in p["Properties"]["PolicyDocument"]["Statement"] for a in as_list(s["Action"])}
    assert {"states:SendTaskSuccess", "states:SendTaskFailure"} <= all_actions


def test_half_a_configuration_is_refused(tmp_path_factory):
    from melody_infra.app import build_app

    with pytest.raises(ValueError, match="neural_weights_sha256"):
        build_app(context={**PROD_CONTEXT, "neural_weights_url": NEURAL["neural_weights_url"]}, nag=False)
    with pytest.raises(ValueError, match="64 hex"):
        build_app(context={**PROD_CONTEXT, **NEURAL, "neural_weights_sha256": "abc"}, nag=False)


def test_with_weights_every_pipeline_step_knows_the_weights_checksum(neural, synth):
    # probe, reuse and persist key neural results by the weights: new weights never reuse old stems
    from melody_infra.stacks.pipeline import STEPS, step_service

    pipeline, _, _ = neural
    for name in STEPS:
        _, fn = function_by_service(pipeline, f"melody-{step_service(name)}")
        assert fn["Properties"]["Environment"]["Variables"]["MELODY_NEURAL_WEIGHTS_SHA256"] == SHA
    _, probe = function_by_service(synth.pipeline, "melody-pipeline-probe")
    assert "MELODY_NEURAL_WEIGHTS_SHA256" not in probe["Properties"]["Environment"]["Variables"]
