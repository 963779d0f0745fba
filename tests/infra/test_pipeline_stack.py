"""MelodyPipeline: the ASL-built state machine, step functions, upload trigger, DLQ, alarms; audio routes."""

from __future__ import annotations

import json

import pytest

from melody.conversions.trigger import upload_event_pattern

from .helpers import as_list, assert_private_dead_letter_queue, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

STEP_SUBSTITUTIONS = {
    "ProbeFunctionArn": "melody-pipeline-probe",
    "SeparateFunctionArn": "melody-pipeline-separate",
    # issue 14: without operator weights the neural task points at the dsp separate function (test_neural_stack.py)
    "NeuralSeparateFunctionArn": "melody-pipeline-separate",
    "AnalyseFunctionArn": "melody-pipeline-analyse",
    "MelodyFunctionArn": "melody-pipeline-melody",
    "ReuseResultsFunctionArn": "melody-pipeline-reuse",
    "PersistFunctionArn": "melody-pipeline-persist",
    "MarkFailedFunctionArn": "melody-pipeline-mark-failed",
}
IMAGE_STEPS = {"melody-pipeline-probe": "handler.probe", "melody-pipeline-separate": "handler.separate",
               "melody-pipeline-analyse": "handler.analyse", "melody-pipeline-melody": "handler.melody"}  # fmt: skip
ZIP_STEPS = {"melody-pipeline-reuse": "handler.reuse", "melody-pipeline-persist": "handler.persist",
             "melody-pipeline-mark-failed": "handler.mark_failed", "melody-pipeline-trigger": "handler.trigger"}  # fmt: skip


def _machine(synth) -> tuple[str, dict]:
    # The audio pipeline's machine (the stack also holds the renditions machine: test_renditions_stack.py).
    ((logical_id, machine),) = [
        (k, m) for k, m in resources(synth.pipeline, "AWS::StepFunctions::StateMachine").items()
        if "audio-pipeline" in json.dumps(m["Properties"].get("StateMachineName"))
    ]  # fmt: skip
    return logical_id, machine["Properties"]


def _fn_id(synth, service) -> str:
    return function_by_service(synth.pipeline, service)[0]


def test_state_machine_is_the_asl_file_with_substitutions(synth):
    from melody_infra.paths import REPO_ROOT

    _, props = _machine(synth)
    assert props["StateMachineType"] == "STANDARD"
    definition = json.loads(props["DefinitionString"])
    asl = json.loads((REPO_ROOT / "statemachines" / "audio_pipeline.asl.json").read_text())
    assert definition.pop("TimeoutSeconds") == 3600  # added: the file sets none
    assert definition == asl  # otherwise the file as is, placeholders included
    assert props["DefinitionSubstitutions"] == {
        key: {"Fn::GetAtt": [_fn_id(synth, service), "Arn"]} for key, service in STEP_SUBSTITUTIONS.items()
    }


def test_state_machine_logs_all_and_traces(synth):
    _, props = _machine(synth)
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is True
    log_group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert resources(synth.pipeline, "AWS::Logs::LogGroup")[log_group_id]["Properties"]["RetentionInDays"] == 365


def test_state_machine_role_invokes_exactly_the_six_steps(synth):
    _, props = _machine(synth)
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in resources(synth.pipeline, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    invokes = [s for s in statements if "lambda:InvokeFunction" in as_list(s["Action"])]
    targets = {json.dumps(r, sort_keys=True) for s in invokes for r in as_list(s["Resource"])}
    assert targets == {
        json.dumps({"Fn::GetAtt": [_fn_id(synth, svc), "Arn"]}, sort_keys=True) for svc in STEP_SUBSTITUTIONS.values()
    }
    trigger_id = _fn_id(synth, "melody-pipeline-trigger")
    assert trigger_id not in json.dumps(invokes)


def test_heavy_steps_are_one_container_image_and_light_ones_zip(synth):
    images = set()
    for service, cmd in IMAGE_STEPS.items():
        _, fn = function_by_service(synth.pipeline, service)
        props = fn["Properties"]
        assert props["PackageType"] == "Image" and "Layers" not in props and "Runtime" not in props
        assert props["ImageConfig"] == {"Command": [cmd]}
        assert props["Architectures"] == ["arm64"]
        images.add(json.dumps(props["Code"]["ImageUri"], sort_keys=True))
        assert props["MemorySize"] >= 3008 and props["EphemeralStorage"]["Size"] >= 2048
    assert len(images) == 1  # one image, the step picked by CMD
    for service, handler in ZIP_STEPS.items():
        _, fn = function_by_service(synth.pipeline, service)
        props = fn["Properties"]
        assert props["Handler"] == handler and props["Runtime"] == "python3.13" and len(props["Layers"]) == 2


def test_separate_and_analyse_sizing(synth):
    separate = function_by_service(synth.pipeline, "melody-pipeline-separate")[1]["Properties"]
    analyse = function_by_service(synth.pipeline, "melody-pipeline-analyse")[1]["Properties"]
    for props in (separate, analyse):
        assert 3008 <= props["MemorySize"] <= 10240
    assert separate["Timeout"] == 900
    assert separate["EphemeralStorage"]["Size"] >= 2048


def test_step_environment(synth):
    for service in [*IMAGE_STEPS, *ZIP_STEPS]:
        _, fn = function_by_service(synth.pipeline, service)
        env = fn["Properties"]["Environment"]["Variables"]
        for key in ("MELODY_JOBS_TABLE", "MELODY_RESULTS_TABLE", "MELODY_UPLOADS_BUCKET", "MELODY_MEDIA_BUCKET"):
            assert key in env, (service, key)
        assert env["MELODY_WORK_DIR"] == "/tmp"
        assert env["POWERTOOLS_SERVICE_NAME"] == service
        assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}
        if service == "melody-pipeline-trigger":
            assert env["MELODY_STATE_MACHINE_ARN"] == {"Ref": _machine(synth)[0]}
        else:
            assert "MELODY_STATE_MACHINE_ARN" not in env


def _actions(statements) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def test_step_grants_are_scoped(synth):
    for service in IMAGE_STEPS:
        _, fn = function_by_service(synth.pipeline, service)
        statements = role_policy_statements(synth.pipeline, fn)
        actions = _actions(statements)
        assert {"s3:GetObject", "s3:PutObject", "dynamodb:PutItem", "dynamodb:GetItem"} <= actions
        assert not any(a.endswith("*") and a.startswith("s3:") for a in actions)
        assert "s3:DeleteObject" not in actions and "states:StartExecution" not in actions
        uploads = [s for s in statements if s.get("Sid") == "ReadUploads"]
        assert uploads and uploads[0]["Action"] == "s3:GetObject"
        assert json.dumps(uploads[0]["Resource"]).endswith('"/uploads/*"]]}')


def test_trigger_may_start_the_machine_read_uploads_and_copy_originals_only(synth):
    machine_id, _ = _machine(synth)
    _, fn = function_by_service(synth.pipeline, "melody-pipeline-trigger")
    statements = role_policy_statements(synth.pipeline, fn)
    starts = [s for s in statements if "states:StartExecution" in as_list(s["Action"])]
    assert starts and all(s["Resource"] == {"Ref": machine_id} for s in starts)
    actions = _actions(statements)
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= actions
    # It writes only the accepted uploads' copies: s3:PutObject on the media bucket's originals/ prefix.
    puts = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert [s.get("Sid") for s in puts] == ["CopyOriginals"] and puts[0]["Action"] == "s3:PutObject"
    assert json.dumps(puts[0]["Resource"]).endswith('"/originals/*"]]}')
    assert "s3:DeleteObject" not in actions


def test_upload_rule_uses_the_shared_pattern_with_retries_and_dlq(synth):
    # the audio pipeline's rule (the score pipeline has its own, tests/infra/test_scores_stack.py)
    ((_, rule),) = [(k, r) for k, r in resources(synth.pipeline, "AWS::Events::Rule").items() if _is_upload_rule(r)]
    props = rule["Properties"]
    bucket = props["EventPattern"]["detail"]["bucket"]["name"][0]
    assert "UploadsBucket" in json.dumps(bucket)  # the MelodyData uploads bucket (an import)
    assert props["EventPattern"] == upload_event_pattern(bucket)
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_fn_id(synth, "melody-pipeline-trigger"), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queue = resources(synth.pipeline, "AWS::SQS::Queue")[dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    synth.pipeline.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": dlq_id}],
            "PolicyDocument": {
                "Statement": [
                    {"Effect": "Deny", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                     "Principal": {"AWS": "*"}, "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}},
                    {"Effect": "Allow", "Action": "sqs:SendMessage", "Principal": {"Service": "events.amazonaws.com"},
                     "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id(synth), "Arn"]}}},
                     "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}},
                ],
                "Version": "2012-10-17",
            },
        },
    )  # fmt: skip


def _is_upload_rule(rule) -> bool:
    """The audio uploads' rule: not the score uploads' rule, nor the ended-executions rule (aws.states)."""
    return "uploads/scores/" not in json.dumps(rule) and rule["Properties"]["EventPattern"]["source"] == ["aws.s3"]


def rule_id(synth) -> str:
    (logical_id,) = [k for k, r in resources(synth.pipeline, "AWS::Events::Rule").items() if _is_upload_rule(r)]
    return logical_id


def test_alarms_on_system_failures_timed_out_executions_and_dead_letters(synth):
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in resources(synth.pipeline, "AWS::CloudWatch::Alarm").values()}
    # Not ExecutionsFailed: every Catch ends in Fail, so it counts each corrupt or too-long upload.
    assert set(alarms) == {"PipelineFailures", "Errors", "ExecutionsTimedOut", "ApproximateNumberOfMessagesVisible"}
    (topic_id,) = resources(synth.pipeline, "AWS::SNS::Topic")
    for alarm in alarms.values():
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    topic = resources(synth.pipeline, "AWS::SNS::Topic")[topic_id]["Properties"]
    assert "KmsMasterKeyId" in topic


def test_the_failed_jobs_alarm_pages_for_system_failures_only(synth):
    """The EMF metric mark_failed emits (melody.conversions.metrics), in the functions' namespace, with
    exactly the dimensions it is emitted with: the mark_failed function's service and kind=system."""
    from melody.conversions.metrics import FAILURE_METRIC

    alarms = [a["Properties"] for a in resources(synth.pipeline, "AWS::CloudWatch::Alarm").values()]
    # (the reconciler's own PipelineFailures alarm: test_ended_executions_*)
    (alarm,) = [a for a in alarms if a["MetricName"] == FAILURE_METRIC and "mark-failed" in json.dumps(a["Dimensions"])]
    _, mark_failed = function_by_service(synth.pipeline, "melody-pipeline-mark-failed")
    env = mark_failed["Properties"]["Environment"]["Variables"]
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"] == "MelodyStudio"
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions == {"service": env["POWERTOOLS_SERVICE_NAME"], "kind": "system"}
    assert alarm["Statistic"] == "Sum" and alarm["Period"] == 300
    assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"
    # ... and a failure of mark_failed itself (no metric then) still pages
    (errors,) = [a for a in alarms if a["MetricName"] == "Errors"]
    assert errors["Namespace"] == "AWS/Lambda"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": _fn_id(synth, "melody-pipeline-mark-failed")}}]


def test_uploads_bucket_cors_allows_browser_post_from_the_web_origin(synth):
    synth.data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "CorsConfiguration": {
                "CorsRules": [
                    {
                        "AllowedMethods": ["POST"],
                        "AllowedOrigins": ["https://melody.example.com"],
                        "AllowedHeaders": ["*"],
                        "ExposedHeaders": ["ETag", "Location"],
                        "Id": "browser-presigned-post",
                        "MaxAge": 3000,
                    }
                ]
            }
        },
    )


def test_audio_api_function_env_and_grants(synth):
    _, fn = function_by_service(synth.api, "melody-conversions")
    env = fn["Properties"]["Environment"]["Variables"]
    for key in ("MELODY_JOBS_TABLE", "MELODY_RESULTS_TABLE", "MELODY_UPLOADS_BUCKET", "MELODY_MEDIA_BUCKET", "MELODY_RATE_LIMIT_TABLE"):
        assert key in env
    assert "ImportValue" in json.dumps(env["MELODY_STATE_MACHINE_ARN"])  # from MelodyPipeline
    statements = role_policy_statements(synth.api, fn)
    by_sid = {s.get("Sid"): s for s in statements}
    assert by_sid["PresignUploads"]["Action"] == "s3:PutObject"
    assert json.dumps(by_sid["PresignUploads"]["Resource"]).endswith('"/uploads/*"]]}')
    assert by_sid["PresignDownloads"]["Action"] == "s3:GetObject"
    starts = [s for s in statements if "states:StartExecution" in as_list(s["Action"])]
    # the audio pipeline, and the renditions machine (test_renditions_stack.py), nothing else
    machines = (env["MELODY_STATE_MACHINE_ARN"], env["MELODY_RENDITIONS_STATE_MACHINE_ARN"])
    assert starts and all(r in machines for s in starts for r in as_list(s["Resource"]))


def test_pipeline_image_is_staged_not_built(synth):
    """Synth stages the reduced Docker context and records the image; the CLI builds it at deploy time."""
    manifest = json.loads((synth.outdir / f"{synth.melody.pipeline.artifact_id}.assets.json").read_text())
    # the audio pipeline's image (the score pipeline's is tests/infra/test_scores_stack.py's)
    (image,) = [i for i in manifest["dockerImages"].values() if i["source"]["dockerFile"] == "infra/docker/pipeline.Dockerfile"]
    assert image["source"]["platform"] == "linux/arm64"
    staged = synth.outdir / image["source"]["directory"]
    files = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", "functions/pipeline/handler.py", "infra/docker/pipeline.Dockerfile"} <= files
    assert any(f.startswith("layers/audio/python/melody_audio/") for f in files)
    assert any(f.startswith("layers/shared/python/melody/") for f in files)
    assert not any(f.startswith((".venv/", "tests/", "web/", "cdk.out/", ".git/")) for f in files)
    assert not any("__pycache__" in f for f in files)


def test_persist_may_write_catalog_attributes_through_the_data_api(synth):
    """The persist step writes a catalog track's analysed attributes back to its row (Aurora, Data API)."""
    from .helpers import function_by_service

    _, fn = function_by_service(synth.pipeline, "melody-pipeline-persist")
    env = fn["Properties"]["Environment"]["Variables"]
    assert {"MELODY_CATALOG_CLUSTER_ARN", "MELODY_CATALOG_SECRET_ARN", "MELODY_CATALOG_DATABASE"} <= set(env)


# -- executions that end outside the Catch (States.Runtime, TIMED_OUT, ABORTED) -> reconcile ------------


def _ended_rule(synth) -> tuple[str, dict]:
    ((logical_id, rule),) = [
        (k, r) for k, r in resources(synth.pipeline, "AWS::Events::Rule").items()
        if r["Properties"]["EventPattern"]["source"] == ["aws.states"]
        and "ScoreAnalysis" not in json.dumps(r["Properties"]["EventPattern"])  # the score machine's: test_scores_stack.py
    ]  # fmt: skip
    return logical_id, rule["Properties"]


def test_ended_executions_rule_matches_the_audio_pipelines_failed_timed_out_and_aborted_executions(synth):
    from melody.conversions.reconcile import ended_execution_pattern

    machine_id, _ = _machine(synth)
    (renditions_id,) = [
        k for k, m in resources(synth.pipeline, "AWS::StepFunctions::StateMachine").items()
        if "renditions" in json.dumps(m["Properties"].get("StateMachineName"))
    ]  # fmt: skip
    _, props = _ended_rule(synth)
    machines = [{"Ref": machine_id}, {"Ref": renditions_id}]
    assert props["EventPattern"] == ended_execution_pattern(machines)  # type: ignore[arg-type]
    assert props["EventPattern"]["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(props["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert props["EventPattern"]["detail"]["stateMachineArn"] == machines  # these machines only


def test_ended_executions_go_to_the_reconcile_function_with_retries_and_a_dlq(synth):
    rule_logical_id, props = _ended_rule(synth)
    (target,) = props["Targets"]
    fn_id, fn = function_by_service(synth.pipeline, "melody-pipeline-reconcile")
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert fn["Properties"]["Handler"] == "handler.reconcile" and len(fn["Properties"]["Layers"]) == 2
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert dlq_id != target_dlq_of_upload_rule(synth)  # its own queue, its own alarm
    assert_private_dead_letter_queue(synth.pipeline, dlq_id, rule_logical_id, fn_id)


def target_dlq_of_upload_rule(synth) -> str:
    rule = resources(synth.pipeline, "AWS::Events::Rule")[rule_id(synth)]
    return str(rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])


def test_the_reconcile_function_may_only_read_and_update_jobs_and_renditions(synth):
    _, fn = function_by_service(synth.pipeline, "melody-pipeline-reconcile")
    env = fn["Properties"]["Environment"]["Variables"]
    assert {"MELODY_JOBS_TABLE", "MELODY_RENDITIONS_TABLE"} <= set(env) and "MELODY_STATE_MACHINE_ARN" not in env
    statements = role_policy_statements(synth.pipeline, fn)
    data = [s for s in statements if any(a.startswith(("dynamodb:", "s3:", "states:")) for a in as_list(s["Action"]))]
    # SQS: its on-failure destination only, its own dead-letter queue
    dlq_id = _ended_rule(synth)[1]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert sqs and all(s["Resource"] == {"Fn::GetAtt": [dlq_id, "Arn"]} for s in sqs)
    assert [(s["Sid"], sorted(as_list(s["Action"]))) for s in data] == [("ReconcileRecords", ["dynamodb:GetItem", "dynamodb:UpdateItem"])]
    tables = [json.dumps(r) for r in as_list(data[0]["Resource"])]
    assert len(tables) == 2 and "JobsTable" in tables[0] and "RenditionsTable" in tables[1]
    assert not any("index" in t for t in tables)  # the tables, no index


def test_ended_executions_alarms(synth):
    from melody.conversions.metrics import FAILURE_METRIC

    _, fn = function_by_service(synth.pipeline, "melody-pipeline-reconcile")
    service = fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    alarms = [a["Properties"] for a in resources(synth.pipeline, "AWS::CloudWatch::Alarm").values()]
    (failures,) = [a for a in alarms if a["MetricName"] == FAILURE_METRIC and service in json.dumps(a["Dimensions"])]
    assert {d["Name"]: d["Value"] for d in failures["Dimensions"]} == {"service": service, "kind": "system"}
    dlq_id = _ended_rule(synth)[1]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert any(a["MetricName"] == "ApproximateNumberOfMessagesVisible"
               and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq_id, "QueueName"]} for a in alarms)  # fmt: skip
