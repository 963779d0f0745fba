"""States.Runtime: a JSONPath that matches nothing fails the execution, whatever Retry/Catch say.

AWS Step Functions developer guide, "Handling errors in Step Functions workflows", States.Runtime:
"A States.Runtime error isn't retriable, and will always cause the execution to fail. A retry or
catch on States.ALL won't catch States.Runtime errors." AWS reports an unmatched path of InputPath,
OutputPath, a ``.$`` field of Parameters / ResultSelector / ItemSelector, or ItemsPath as
States.Runtime ("The JSONPath '$.x' specified for the field 'x.$' could not be found in the input").
"""

from __future__ import annotations

import pytest

from melody_dev.workflow import LAMBDA_INVOKE, StateMachine


class Recorder:
    def __init__(self, result=None, fail_first: int = 0):
        self.calls = 0
        self.result = result if result is not None else {"ok": True}
        self.fail_first = fail_first

    def __call__(self, payload, ctx):
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError("transient")
        return self.result


HANDLER_STATES = {
    "Handle": {"Type": "Pass", "Result": "handled", "ResultPath": "$.handled", "End": True},
}


def machine(state: dict, fn=None, mark_failed=None):
    sleeps: list[float] = []
    states = {"S": {**state}}
    if state.get("Catch"):  # an unreachable handler would be a definition error
        states.update(HANDLER_STATES)
    resources = {"f": fn or Recorder(), "mark_failed": mark_failed or Recorder()}
    return StateMachine({"StartAt": "S", "States": states}, resources, sleep=sleeps.append), sleeps


def catchers(*names):
    return [{"ErrorEquals": [n], "ResultPath": "$.error", "Next": "Handle"} for n in names]


RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]

# (state fields, input) whose path matches nothing
MISSING_PATHS = {
    "InputPath": ({"Type": "Task", "Resource": "f", "InputPath": "$.missing"}, {}),
    "OutputPath": ({"Type": "Task", "Resource": "f", "OutputPath": "$.missing"}, {}),
    "Parameters": ({"Type": "Task", "Resource": "f", "Parameters": {"x.$": "$.missing"}}, {}),
    "Parameters-nested": ({"Type": "Task", "Resource": "f", "Parameters": {"a": {"b": {"x.$": "$.m.n"}}}},
                          {"m": {}}),
    "Parameters-intrinsic": ({"Type": "Task", "Resource": "f",
                              "Parameters": {"x.$": "States.Format('{}', $.missing)"}}, {}),
    "ResultSelector": ({"Type": "Task", "Resource": "f", "ResultSelector": {"x.$": "$.missing"}}, {}),
    "lambda:invoke-ResultSelector": ({"Type": "Task", "Resource": LAMBDA_INVOKE,
                                      "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                                      "ResultSelector": {"x.$": "$.Payload.missing"}}, {}),
    "Map-ItemsPath": ({"Type": "Map", "ItemsPath": "$.missing",
                       "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}, {}),
    "Map-ItemSelector": ({"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"x.$": "$.missing"},
                          "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
                         {"items": [1]}),
    "Parallel-ResultSelector": ({"Type": "Parallel", "ResultSelector": {"x.$": "$[0].missing"},
                                 "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
                                {}),
    "Parallel-branch": ({"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {
        "B": {"Type": "Task", "Resource": "f", "Parameters": {"x.$": "$.missing"}, "End": True}}}]}, {}),
}


@pytest.mark.parametrize("case", sorted(MISSING_PATHS))
@pytest.mark.parametrize("catch_on", ["States.ALL", "States.Runtime", "States.TaskFailed",
                                      "States.ParameterPathFailure"])
def test_missing_path_fails_the_execution_through_retry_and_catch(case, catch_on):
    fields, input_ = MISSING_PATHS[case]
    fn = Recorder()
    m, sleeps = machine({**fields, "Retry": RETRY_ALL, "Catch": catchers(catch_on), "End": True}, fn)
    ex = m.execute(input_)
    assert ex.status == "FAILED" and ex.error == "States.Runtime", (ex.error, ex.cause)
    assert "missing" in ex.cause or "$.m.n" in ex.cause
    assert sleeps == [] and not ex.events("RetryScheduled") and not ex.events("ErrorCaught")
    assert fn.calls <= 1  # not retried (InputPath/Parameters fail before the call)


def test_runtime_error_is_not_retried_even_when_named():
    fn = Recorder()
    m, sleeps = machine({"Type": "Task", "Resource": "f", "OutputPath": "$.missing",
                         "Retry": [{"ErrorEquals": ["States.Runtime"], "MaxAttempts": 5}], "End": True}, fn)
    ex = m.execute({})
    assert ex.error == "States.Runtime" and fn.calls == 1 and sleeps == []


def test_retried_task_then_missing_path_still_fails_unhandled():
    # an ordinary failure is retried; the result then misses the selected field: States.Runtime
    fn = Recorder(result={"other": 1}, fail_first=1)
    m, sleeps = machine({"Type": "Task", "Resource": "f", "ResultSelector": {"x.$": "$.wanted"},
                         "Retry": RETRY_ALL, "Catch": catchers("States.ALL"), "End": True}, fn)
    ex = m.execute({})
    assert ex.error == "States.Runtime" and fn.calls == 2 and len(sleeps) == 1


def test_present_null_value_is_not_missing():
    # a path that selects JSON null matches: no error
    m, _ = machine({"Type": "Task", "Resource": "f", "ResultSelector": {"x.$": "$.v"}, "End": True},
                   Recorder(result={"v": None}))
    ex = m.execute({})
    assert ex.status == "SUCCEEDED" and ex.output == {"x": None}


def test_task_errors_are_still_caught_by_states_all():
    def boom(payload, ctx):
        raise ValueError("bad input")

    m, _ = machine({"Type": "Task", "Resource": "f", "Catch": catchers("States.ALL"), "End": True}, boom)
    ex = m.execute({"a": 1})
    assert ex.status == "SUCCEEDED" and ex.output["error"]["Error"] == "ValueError"


def test_runtime_error_in_parallel_branch_is_not_caught_by_the_parallel_state():
    fields, input_ = MISSING_PATHS["Parallel-branch"]
    m, _ = machine({**fields, "Catch": catchers("States.ALL"), "End": True})
    ex = m.execute(input_)
    assert ex.status == "FAILED" and ex.error == "States.Runtime"


def test_pipeline_shape_result_selector_miss_skips_mark_failed():
    """The audio pipeline's Probe: if the step's result lacked ``cached`` the execution would fail
    with States.Runtime and MarkFailed would never run (the job stays in 'processing')."""
    mark_failed = Recorder()
    definition = {"StartAt": "Probe", "States": {
        "Probe": {"Type": "Task", "Resource": LAMBDA_INVOKE,
                  "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                  "ResultSelector": {"content_hash.$": "$.Payload.content_hash", "cached.$": "$.Payload.cached"},
                  "ResultPath": "$.probe",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
                  "End": True},
        "MarkFailed": {"Type": "Task", "Resource": LAMBDA_INVOKE,
                       "Parameters": {"FunctionName": "mark_failed", "Payload.$": "$"}, "ResultPath": None,
                       "Next": "Failed"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}}}
    m = StateMachine(definition, {"f": Recorder(result={"content_hash": "h"}), "mark_failed": mark_failed})
    ex = m.execute({"job_id": "j1"})
    assert ex.status == "FAILED" and ex.error == "States.Runtime"
    assert "$.Payload.cached" in ex.cause and "cached.$" in ex.cause
    assert mark_failed.calls == 0
