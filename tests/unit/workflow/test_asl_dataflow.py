"""Input/output processing: InputPath → Parameters → task → ResultSelector → ResultPath → OutputPath."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from melody_dev.workflow import LAMBDA_INVOKE, StateMachine


def machine(states, resources=None, start=None, **kw):
    start = start or next(iter(states))
    kw.setdefault("sleep", lambda s: None)
    return StateMachine({"StartAt": start, "States": states}, resources or {}, **kw)


def run(states, input=None, resources=None, **kw):
    ex = machine(states, resources, **kw).execute(input if input is not None else {}, name="exec-1")
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    return ex.output


def test_full_processing_order_on_a_task():
    seen = {}

    def fn(payload, ctx):
        seen["payload"] = payload
        return {"value": payload["x"] * 2, "noise": "drop me"}

    states = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
            "InputPath": "$.inner",
            "Parameters": {"x.$": "$.n", "static": "s", "nested": {"y.$": "$.n"}},
            "ResultSelector": {"doubled.$": "$.value"},
            "ResultPath": "$.out.result",
            "OutputPath": "$.out",
            "End": True,
        }
    }
    out = run(states, {"inner": {"n": 21}, "other": 1}, {"double": fn})
    assert seen["payload"] == {"x": 21, "static": "s", "nested": {"y": 21}}
    assert out == {"result": {"doubled": 42}}


def test_result_path_merges_into_raw_input_not_the_input_path_view():
    states = {"P": {"Type": "Pass", "InputPath": "$.a", "Result": "r", "ResultPath": "$.res", "End": True}}
    assert run(states, {"a": {"x": 1}, "b": 2}) == {"a": {"x": 1}, "b": 2, "res": "r"}


def test_result_path_null_discards_result():
    states = {"T": {"Type": "Task", "Resource": "f", "ResultPath": None, "End": True}}
    assert run(states, {"keep": 1}, {"f": lambda p, c: {"ignored": True}}) == {"keep": 1}


def test_result_path_default_replaces_input():
    states = {"T": {"Type": "Task", "Resource": "f", "End": True}}
    assert run(states, {"keep": 1}, {"f": lambda p, c: [1, 2]}) == [1, 2]


def test_input_path_and_output_path_null_give_empty_object():
    seen = []
    states = {"T": {"Type": "Task", "Resource": "f", "InputPath": None, "OutputPath": None, "End": True}}
    assert run(states, {"a": 1}, {"f": lambda p, c: seen.append(p) or 5}) == {}
    assert seen == [{}]


def test_index_then_field_in_parameters_returns_element():
    states = {"P": {"Type": "Pass", "Parameters": {"first.$": "$.items[0].id", "all.$": "$.items[*].id"}, "End": True}}
    assert run(states, {"items": [{"id": "a"}, {"id": "b"}]}) == {"first": "a", "all": ["a", "b"]}


def test_pass_result_and_parameters():
    assert run({"P": {"Type": "Pass", "End": True}}, {"a": 1}) == {"a": 1}
    assert run({"P": {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.x", "End": True}}, {"a": 1}) == {
        "a": 1, "x": {"r": 1}}
    assert run({"P": {"Type": "Pass", "Parameters": {"b.$": "$.a", "lit": [1, {"c.$": "$.a"}]}, "End": True}},
               {"a": 1}) == {"b": 1, "lit": [1, {"c": 1}]}


def test_context_object():
    clock = lambda: datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)  # noqa: E731
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {
                "id.$": "$$.Execution.Id",
                "name.$": "$$.Execution.Name",
                "input.$": "$$.Execution.Input",
                "start.$": "$$.Execution.StartTime",
                "state.$": "$$.State.Name",
                "entered.$": "$$.State.EnteredTime",
                "retries.$": "$$.State.RetryCount",
                "sm.$": "$$.StateMachine.Id",
                "ctx_in_intrinsic.$": "States.Format('{}/{}', $$.Execution.Name, $.a)",
            },
            "End": True,
        }
    }
    out = run(states, {"a": 1}, name="pipe", region="ap-south-1", account_id="111122223333", clock=clock)
    assert out == {
        "id": "arn:aws:states:ap-south-1:111122223333:execution:pipe:exec-1",
        "name": "exec-1",
        "input": {"a": 1},
        "start": "2025-01-02T03:04:05.678Z",
        "state": "P",
        "entered": "2025-01-02T03:04:05.678Z",
        "retries": 0,
        "sm": "arn:aws:states:ap-south-1:111122223333:stateMachine:pipe",
        "ctx_in_intrinsic": "exec-1/1",
    }


def test_intrinsics_in_parameters():
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {
                "msg.$": "States.Format('{} by {}', $.title, $.artist)",
                "obj.$": "States.StringToJson($.raw)",
                "str.$": "States.JsonToString($.o)",
                "arr.$": "States.Array($.title, 2)",
                "sum.$": "States.MathAdd($.n, 1)",
                "id.$": "States.UUID()",
                "hash.$": "States.Hash($.title, 'SHA-1')",
            },
            "End": True,
        }
    }
    out = run(states, {"title": "Tum Hi Ho", "artist": "Arijit", "raw": '{"k":1}', "o": {"k": [1]}, "n": 41})
    assert out["msg"] == "Tum Hi Ho by Arijit"
    assert out["obj"] == {"k": 1}
    assert out["str"] == '{"k":[1]}'
    assert out["arr"] == ["Tum Hi Ho", 2]
    assert out["sum"] == 42
    assert len(out["id"]) == 36
    assert len(out["hash"]) == 40


def test_lambda_invoke_integration_shape_and_function_lookup():
    calls = []

    def probe(payload, ctx):
        calls.append((payload, ctx.function_name, ctx.invoked_function_arn, ctx.get_remaining_time_in_millis()))
        return {"ok": True}

    states = {
        "T": {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:probe:live",
                           "Payload.$": "$"},
            "ResultPath": "$.raw",
            "End": True,
        }
    }
    out = run(states, {"k": "v"}, {"probe": probe})
    raw = out["raw"]
    assert raw["Payload"] == {"ok": True} and raw["StatusCode"] == 200 and raw["ExecutedVersion"] == "$LATEST"
    assert calls[0][0] == {"k": "v"}
    assert calls[0][1] == "probe"
    assert calls[0][2] == "arn:aws:lambda:us-east-1:123456789012:function:probe:live"
    assert calls[0][3] > 0


def test_resources_as_callable_resolver():
    states = {"T": {"Type": "Task", "Resource": LAMBDA_INVOKE,
                    "Parameters": {"FunctionName": "fn-a", "Payload": {"x": 1}},
                    "ResultSelector": {"v.$": "$.Payload"}, "End": True}}
    resolver = {"fn-a": lambda p, c: p["x"] + 1}.__getitem__
    assert run(states, {}, resolver) == {"v": 2}


def test_task_gets_a_copy_and_cannot_mutate_state():
    def mutate(payload, ctx):
        payload["items"].append("evil")
        return None

    states = {"T": {"Type": "Task", "Resource": "f", "ResultPath": None, "End": True}}
    assert run(states, {"items": [1]}, {"f": mutate}) == {"items": [1]}


def test_non_json_result_is_a_marshal_error():
    states = {"T": {"Type": "Task", "Resource": "f", "End": True}}
    ex = machine(states, {"f": lambda p, c: {"x": object()}}).execute({})
    assert ex.status == "FAILED" and ex.error == "Runtime.MarshalError"


def test_result_selector_sees_context():
    states = {"T": {"Type": "Task", "Resource": "f", "ResultSelector": {"v.$": "$.x", "s.$": "$$.State.Name"},
                    "End": True}}
    assert run(states, {}, {"f": lambda p, c: {"x": 1}}) == {"v": 1, "s": "T"}


def test_input_as_json_string():
    m = machine({"P": {"Type": "Pass", "End": True}})
    assert m.execute(json.dumps({"a": 1})).output == {"a": 1}
    assert m.execute().output == {}


def test_output_too_large_is_data_limit_exceeded_and_uncatchable():
    states = {
        "T": {"Type": "Task", "Resource": "f", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}], "End": True},
        "X": {"Type": "Pass", "End": True},
    }
    ex = machine(states, {"f": lambda p, c: "x" * 300_000}).execute({})
    assert ex.status == "FAILED" and ex.error == "States.DataLimitExceeded"
