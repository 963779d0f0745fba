"""Scores: the score_analysis state machine (the ASL file) in MelodyPipeline, its steps, trigger and
rule with scoped grants; the scores API function and its routes in MelodyApi."""

from __future__ import annotations

import json
import re

import pytest

from .helpers import as_list, assert_private_dead_letter_queue, dump, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

SUBSTITUTIONS = {
    "ScoreAnalyseFunctionArn": "melody-score-pipeline-analyse",
    "ScorePersistFunctionArn": "melody-score-pipeline-persist",
    "ScoreMarkFailedFunctionArn": "melody-score-pipeline-mark-failed",
}


def _machine(synth) -> dict:
    ((machine,),) = [
        [m for m in resources(synth.pipeline, "AWS::StepFunctions::StateMachine").values()
         if "score-analysis" in json.dumps(m["Properties"].get("StateMachineName"))]
    ]  # fmt: skip
    return machine["Properties"]


def test_the_machine_is_the_asl_file_with_its_three_steps(synth):
    from melody_infra.paths import REPO_ROOT

    props = _machine(synth)
    assert props["StateMachineType"] == "STANDARD" and props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert json.loads(props["DefinitionString"]) == json.loads((REPO_ROOT / "statemachines" / "score_analysis.asl.json").read_text())
    assert props["DefinitionSubstitutions"] == {
        key: {"Fn::GetAtt": [function_by_service(synth.pipeline, service)[0], "Arn"]} for key, service in SUBSTITUTIONS.items()
    }


def test_analyse_runs_in_the_score_image_and_the_rest_are_zip_functions(synth):
    _, analyse = function_by_service(synth.pipeline, "melody-score-pipeline-analyse")
    assert analyse["Properties"]["PackageType"] == "Image"
    assert analyse["Properties"]["ImageConfig"]["Command"] == ["handler.analyse"]
    assert analyse["Properties"]["Timeout"] == 600 and analyse["Properties"]["MemorySize"] == 3008
    for service, handler in (("melody-score-pipeline-persist", "handler.persist"), ("melody-score-pipeline-trigger", "handler.trigger")):
        _, fn = function_by_service(synth.pipeline, service)
        assert fn["Properties"]["Handler"] == handler and fn["Properties"].get("PackageType", "Zip") == "Zip"


def test_the_score_image_context_holds_the_score_engine_not_the_audio_engine():
    from melody_infra.paths import REPO_ROOT
    from melody_infra.stacks.scores import SCORE_DOCKERFILE, SCORE_IMAGE_FILES

    dockerfile = (REPO_ROOT / SCORE_DOCKERFILE).read_text()
    assert ".[scores]" in dockerfile and "layers/scores" in dockerfile and "layers/audio ./" not in dockerfile
    assert "!layers/scores" in SCORE_IMAGE_FILES and "!layers/audio" not in SCORE_IMAGE_FILES


def test_the_rule_sends_score_uploads_to_the_trigger_with_a_dead_letter_queue(synth):
    (rule,) = [r for r in resources(synth.pipeline, "AWS::Events::Rule").values() if "uploads/scores/" in dump(r)]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/scores/"}]
    (target,) = rule["Properties"]["Targets"]
    trigger_id, _ = function_by_service(synth.pipeline, "melody-score-pipeline-trigger")
    assert target["Arn"] == {"Fn::GetAtt": [trigger_id, "Arn"]} and "DeadLetterConfig" in target


def test_the_trigger_may_start_only_the_score_machine_and_write_only_score_originals(synth):
    _, trigger = function_by_service(synth.pipeline, "melody-score-pipeline-trigger")
    statements = role_policy_statements(synth.pipeline, trigger)
    starts = [s for s in statements if "states:StartExecution" in as_list(s["Action"])]
    assert len(starts) == 1 and "ScoreAnalysis" in dump(starts[0]["Resource"])
    puts = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert all("originals/scores/*" in dump(s["Resource"]) for s in puts) and puts
    env = trigger["Properties"]["Environment"]["Variables"]
    assert "MELODY_SCORE_STATE_MACHINE_ARN" in env and "MELODY_SCORES_TABLE" in env


def test_the_steps_write_only_under_scores_and_read_originals(synth):
    _, analyse = function_by_service(synth.pipeline, "melody-score-pipeline-analyse")
    statements = role_policy_statements(synth.pipeline, analyse)
    writes = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert writes and all(dump(s["Resource"]).count("/scores/*") == 1 and "originals" not in dump(s["Resource"]) for s in writes)
    assert not [s for s in statements if "s3:DeleteObject" in as_list(s["Action"])]


def test_the_scores_api_function_serves_the_routes_behind_the_authorizer(synth):
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(synth.api, "AWS::ApiGatewayV2::Route").values()
        if "/scores" in r["Properties"]["RouteKey"]
    }
    assert set(routes) == {
        "POST /api/v1/scores/uploads",
        "GET /api/v1/scores",
        "GET /api/v1/scores/{score_id}",
        "GET /api/v1/scores/{score_id}/download/{what}",
        "DELETE /api/v1/scores/{score_id}",
    }
    (authorizer_id,) = resources(synth.api, "AWS::ApiGatewayV2::Authorizer")
    assert all(r["AuthorizationType"] == "JWT" and r["AuthorizerId"] == {"Ref": authorizer_id} for r in routes.values())
    # the delete goes to the same integration (the scores function's live alias) as the other score routes
    assert len({dump(r["Target"]) for r in routes.values()}) == 1
    _, fn = function_by_service(synth.api, "melody-scores")
    statements = role_policy_statements(synth.api, fn)
    assert not [s for s in statements if "states:StartExecution" in as_list(s["Action"])]  # the trigger starts analyses
    puts = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert puts and all("uploads/scores/*" in dump(s["Resource"]) for s in puts)


def test_the_scores_api_function_deletes_only_score_uploads_originals_and_results(synth):
    _, fn = function_by_service(synth.api, "melody-scores")
    statements = role_policy_statements(synth.api, fn)
    deletes = [s for s in statements if any(a in ("s3:DeleteObject", "s3:*", "s3:Delete*") for a in as_list(s["Action"]))]
    assert len(deletes) == 1 and as_list(deletes[0]["Action"]) == ["s3:DeleteObject"]
    targets = sorted(dump(r) for r in as_list(deletes[0]["Resource"]))
    assert len(targets) == 3
    (uploads,) = [t for t in targets if "UploadsBucket" in t]
    assert uploads.endswith('"/uploads/scores/*"]]}')
    # a deleted score's original and its own results (scores/<user>/<score>/: the code keeps to that prefix)
    media = sorted(t for t in targets if "MediaBucket" in t)
    assert [t.rsplit('"', 2)[-2] for t in media] == ["/originals/scores/*", "/scores/*"]
    # cdk-nag's scores/* finding on this role is acknowledged with the guard: the code keeps to the score's prefix
    metadata = json.loads((synth.outdir / "MelodyApi.metadata.json").read_text())
    role = [m for path, entries in metadata.items() if path.endswith("/ScoresFunction/Role") for m in entries]
    acknowledged = {k: v for m in role if m["type"] == "aws:cdk:acknowledged-rules" for k, v in m["data"].items()}
    (results_why,) = [why for rule, why in acknowledged.items() if re.search(r"MediaBucket\w*/scores/\*\]$", rule)]
    assert "deletes only keys under that score's own prefix" in results_why
    # the record: DeleteItem on the scores table (its read/write grant; the rate-limit counters have theirs)
    items = [dump(r) for s in statements if "dynamodb:DeleteItem" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert any("ScoresTable" in r for r in items)
    assert all("ScoresTable" in r or "RateLimitsTable" in r for r in items), items


# -- score analyses that end outside the Catch (States.Runtime, TIMED_OUT, ABORTED) -> reconcile ---------


def _score_ended_rule(synth) -> tuple[str, dict]:
    ((logical_id, rule),) = [
        (k, r) for k, r in resources(synth.pipeline, "AWS::Events::Rule").items()
        if r["Properties"]["EventPattern"]["source"] == ["aws.states"] and "ScoreAnalysis" in dump(r["Properties"]["EventPattern"])
    ]  # fmt: skip
    return logical_id, rule["Properties"]


def _machine_id(synth) -> str:
    ((logical_id,),) = [
        [k for k, m in resources(synth.pipeline, "AWS::StepFunctions::StateMachine").items()
         if "score-analysis" in json.dumps(m["Properties"].get("StateMachineName"))]
    ]  # fmt: skip
    return logical_id


def test_the_score_ended_executions_rule_matches_the_score_machine_only(synth):
    from melody.conversions.reconcile import ended_execution_pattern

    _, props = _score_ended_rule(synth)
    machines = [{"Ref": _machine_id(synth)}]
    assert props["EventPattern"] == ended_execution_pattern(machines)  # type: ignore[arg-type]
    assert props["EventPattern"]["source"] == ["aws.states"]
    assert props["EventPattern"]["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(props["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert props["EventPattern"]["detail"]["stateMachineArn"] == machines  # the score machine, nothing else


def test_score_ended_executions_go_to_the_score_reconcile_function_with_retries_and_a_dlq(synth):
    rule_logical_id, props = _score_ended_rule(synth)
    (target,) = props["Targets"]
    fn_id, fn = function_by_service(synth.pipeline, "melody-score-pipeline-reconcile")
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert fn["Properties"]["Handler"] == "handler.reconcile" and fn["Properties"].get("PackageType", "Zip") == "Zip"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    (upload_rule,) = [r for r in resources(synth.pipeline, "AWS::Events::Rule").values() if "uploads/scores/" in dump(r)]
    assert dlq_id != upload_rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]  # its own queue
    assert_private_dead_letter_queue(synth.pipeline, dlq_id, rule_logical_id, fn_id)


def test_the_score_reconcile_function_may_only_read_and_save_scores(synth):
    _, fn = function_by_service(synth.pipeline, "melody-score-pipeline-reconcile")
    env = fn["Properties"]["Environment"]["Variables"]
    assert "MELODY_SCORES_TABLE" in env
    assert not {"MELODY_JOBS_TABLE", "MELODY_MEDIA_BUCKET", "MELODY_UPLOADS_BUCKET", "MELODY_SCORE_STATE_MACHINE_ARN"} & set(env)
    statements = role_policy_statements(synth.pipeline, fn)
    data = [s for s in statements if any(a.startswith(("dynamodb:", "s3:", "states:")) for a in as_list(s["Action"]))]
    # DynamoScoreStore.transition: a consistent GetItem, then a PutItem conditional on the version read
    assert [(s["Sid"], sorted(as_list(s["Action"]))) for s in data] == [("ReconcileScores", ["dynamodb:GetItem", "dynamodb:PutItem"])]
    (table,) = as_list(data[0]["Resource"])
    assert "ScoresTable" in dump(table) and "index" not in dump(table)  # the scores table, no index
    dlq_id = _score_ended_rule(synth)[1]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert sqs and all(s["Resource"] == {"Fn::GetAtt": [dlq_id, "Arn"]} for s in sqs)  # its on-failure destination


def test_score_ended_executions_alarms(synth):
    from melody.conversions.metrics import FAILURE_METRIC

    _, fn = function_by_service(synth.pipeline, "melody-score-pipeline-reconcile")
    service = fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    alarms = [a["Properties"] for a in resources(synth.pipeline, "AWS::CloudWatch::Alarm").values()]
    (failures,) = [a for a in alarms if a["MetricName"] == FAILURE_METRIC and json.dumps(service) in json.dumps(a["Dimensions"])]
    assert {d["Name"]: d["Value"] for d in failures["Dimensions"]} == {"service": service, "kind": "system"}
    assert failures["Namespace"] == fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    dlq_id = _score_ended_rule(synth)[1]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    (dead_letters,) = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
                       and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq_id, "QueueName"]}]  # fmt: skip
    (topic_id,) = resources(synth.pipeline, "AWS::SNS::Topic")
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in (failures, dead_letters))  # the pipeline's topic
