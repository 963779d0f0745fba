"""LocalStepFunctions: background executions, describe/wait, name idempotency like AWS."""

from __future__ import annotations

import json
import threading

import pytest

from melody_dev.workflow import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidName,
    LocalStepFunctions,
    StateMachineDoesNotExist,
)

DEFINITION = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "work", "Payload.$": "$"},
                 "ResultSelector": {"value.$": "$.Payload"}, "ResultPath": "$.result", "End": True}
    },
}
FAILING = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Job.Failed", "Cause": "nope"}}}


@pytest.fixture
def gate():
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def sfn(gate):
    calls = []

    def work(payload, ctx):
        calls.append(payload)
        gate.wait(10)
        return {"doubled": payload["n"] * 2}

    runner = LocalStepFunctions({"pipeline": DEFINITION, "failing": FAILING}, {"work": work}, max_workers=2,
                                sleep=lambda s: None)
    runner.calls = calls
    yield runner
    gate.set()
    runner.shutdown()


def test_start_describe_wait(sfn, gate):
    arn = sfn.start_execution("pipeline", "job-1", {"n": 21})
    assert arn == "arn:aws:states:us-east-1:123456789012:execution:pipeline:job-1"
    assert sfn.describe_execution(arn)["status"] == "RUNNING"
    gate.set()
    desc = sfn.wait(arn, timeout=10)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"n": 21, "result": {"value": {"doubled": 42}}}
    assert json.loads(desc["input"]) == {"n": 21}
    assert desc["stateMachineArn"] == sfn.state_machine_arn("pipeline")
    assert desc["stopDate"] >= desc["startDate"]
    assert sfn.get_execution(arn).events("TaskSucceeded")


def test_failed_execution_reports_error_and_cause(sfn):
    arn = sfn.start_execution(sfn.state_machine_arn("failing"), "f-1", "{}")
    desc = sfn.wait(arn, timeout=10)
    assert (desc["status"], desc["error"], desc["cause"]) == ("FAILED", "Job.Failed", "nope")
    assert "output" not in desc


def test_same_name_same_input_while_running_is_idempotent(sfn, gate):
    arn = sfn.start_execution("pipeline", "job-1", {"n": 1})
    again = sfn.start_execution("pipeline", "job-1", json.dumps({"n": 1}))
    assert again == arn
    gate.set()
    sfn.wait(arn, timeout=10)
    assert len(sfn.calls) == 1  # the second call started nothing


def test_same_name_different_input_raises(sfn):
    arn = sfn.start_execution("pipeline", "job-1", {"n": 1})
    with pytest.raises(ExecutionAlreadyExists) as exc:
        sfn.start_execution("pipeline", "job-1", {"n": 2})
    assert exc.value.execution_arn == arn


def test_same_name_after_execution_closed_raises_like_aws(sfn, gate):
    gate.set()
    arn = sfn.start_execution("pipeline", "job-1", {"n": 1})
    sfn.wait(arn, timeout=10)
    with pytest.raises(ExecutionAlreadyExists):
        sfn.start_execution("pipeline", "job-1", {"n": 1})
    assert len(sfn.calls) == 1


def test_same_name_on_another_state_machine_is_fine(sfn, gate):
    gate.set()
    a = sfn.start_execution("pipeline", "x", {"n": 1})
    b = sfn.start_execution("failing", "x", {"n": 1})
    assert a != b
    assert sfn.wait(b, timeout=10)["status"] == "FAILED"


def test_generated_name_and_list_executions(sfn, gate):
    gate.set()
    arn = sfn.start_execution("pipeline", input={"n": 3})
    sfn.wait(arn, timeout=10)
    listed = sfn.list_executions("pipeline")
    assert [e["executionArn"] for e in listed] == [arn]
    assert sfn.list_executions("pipeline", status="FAILED") == []


def test_wait_timeout(sfn):
    arn = sfn.start_execution("pipeline", "slow", {"n": 1})
    with pytest.raises(TimeoutError):
        sfn.wait(arn, timeout=0.01)


def test_errors_for_unknown_things(sfn):
    with pytest.raises(StateMachineDoesNotExist):
        sfn.start_execution("nope", "a", {})
    with pytest.raises(ExecutionDoesNotExist):
        sfn.describe_execution("arn:aws:states:us-east-1:123456789012:execution:pipeline:none")
    with pytest.raises(InvalidName):
        sfn.start_execution("pipeline", "has space", {})
    with pytest.raises(InvalidName):
        sfn.start_execution("pipeline", "x" * 81, {})


def test_shutdown_refuses_new_executions(gate):
    gate.set()
    runner = LocalStepFunctions({"failing": FAILING}, {})
    runner.shutdown()
    with pytest.raises(RuntimeError):
        runner.start_execution("failing", "a", {})
