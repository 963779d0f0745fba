"""LocalStepFunctions' ``on_close``: the local stand-in for EventBridge's execution status-change events."""

from __future__ import annotations

import json
import threading

from melody_dev.workflow import LocalStepFunctions

WORK = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "work", "Payload.$": "$"},
                 "ResultSelector": {"value.$": "$.Payload.value"}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip


def run(definition, work, state, **options):
    events: list[dict] = []
    with LocalStepFunctions({"m": definition}, {"work": work}, on_close=events.append, **options) as sfn:
        arn = sfn.start_execution("m", name="job_1", input=state)
        described = sfn.wait(arn, timeout=30)
    return described, events


def test_a_closed_execution_emits_the_aws_event_shape():
    described, events = run(WORK, lambda p, c: {"value": 1}, {"job_id": "job_1"})
    assert described["status"] == "SUCCEEDED"
    (event,) = events  # delivered before wait() returns
    assert (event["source"], event["detail-type"]) == ("aws.states", "Step Functions Execution Status Change")
    detail = event["detail"]
    assert detail["status"] == "SUCCEEDED" and detail["name"] == "job_1"
    assert detail["executionArn"] == described["executionArn"] == event["resources"][0]
    assert detail["stateMachineArn"] == described["stateMachineArn"]
    assert json.loads(detail["input"]) == {"job_id": "job_1"}  # a JSON string, as EventBridge carries it
    assert json.loads(detail["output"]) == {"value": 1}
    assert detail["stopDate"] >= detail["startDate"]


def test_states_runtime_emits_failed_with_its_error():
    described, events = run(WORK, lambda p, c: {"other": 1}, {"job_id": "job_1"})  # $.Payload.value misses
    assert described["status"] == "FAILED" and described["error"] == "States.Runtime"
    assert [(e["detail"]["status"], e["detail"]["error"]) for e in events] == [("FAILED", "States.Runtime")]
    assert events[0]["detail"]["output"] is None


def test_the_top_level_timeout_is_reported_timed_out_while_the_status_stays_failed():
    release = threading.Event()

    def slow(payload, context):
        release.wait(0.05)
        return {"value": 1}

    try:
        described, events = run({**WORK, "TimeoutSeconds": 1}, slow, {}, timeout_scale=0.001)
    finally:
        release.set()
    # the runner's semantics are unchanged: FAILED with States.Timeout; the event says what AWS says
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    assert events[0]["detail"]["status"] == "TIMED_OUT"


def test_a_failing_listener_does_not_change_the_execution():
    def listener(event):
        raise RuntimeError("target down")

    with LocalStepFunctions({"m": WORK}, {"work": lambda p, c: {"value": 2}}, on_close=listener) as sfn:
        described = sfn.wait(sfn.start_execution("m", name="x", input={}), timeout=30)
    assert described["status"] == "SUCCEEDED"
