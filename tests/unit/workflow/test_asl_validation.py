"""Definition validation and load_definition substitutions."""

from __future__ import annotations

import json

import pytest

from melody_dev.workflow import DefinitionError, StateMachine, load_definition, substitute, validate_definition


def problems(definition) -> str:
    with pytest.raises(DefinitionError) as exc:
        validate_definition(definition)
    return "\n".join(exc.value.problems)


def one(state, **more):
    return {"StartAt": "S", "States": {"S": state, **more}}


def test_valid_minimal():
    validate_definition(one({"Type": "Pass", "End": True}))


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"StartAt": "Nope", "States": {"S": {"Type": "Succeed"}}}, "StartAt 'Nope'"),
        ({"StartAt": "S"}, "'States' must be a non-empty object"),
        (one({"Type": "Pass", "Next": "Missing"}), "Next 'Missing'"),
        (one({"Type": "Pass"}), 'needs Next or "End": true'),
        (one({"Type": "Pass", "Next": "S", "End": True}), "both Next and End"),
        (one({"Type": "Bogus", "End": True}), "unknown Type"),
        (one({"Type": "Pass", "End": True, "Resource": "x"}), "field 'Resource' is not supported in a Pass"),
        (one({"Type": "Succeed", "Next": "S"}), "field 'Next' is not supported"),
        (one({"Type": "Task", "End": True}), "Task needs a Resource"),
        (one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}), "FunctionName"),
        (one({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
              "Parameters": {"FunctionName": "f"}, "End": True}), "not supported"),
        (one({"Type": "Task", "Resource": "f", "TimeoutSeconds": 0, "End": True}), "TimeoutSeconds must be"),
        (one({"Type": "Task", "Resource": "f", "TimeoutSeconds": 5, "HeartbeatSeconds": 5, "End": True}),
         "HeartbeatSeconds must be smaller"),
        (one({"Type": "Pass", "InputPath": "nope", "End": True}), "InputPath"),
        (one({"Type": "Pass", "ResultPath": "$.a[*]", "End": True}), "not a Reference Path"),
        (one({"Type": "Pass", "Parameters": {"a.$": "not-a-path"}, "End": True}), "must be a JSONPath or an intrinsic"),
        (one({"Type": "Pass", "Parameters": {"a.$": "States.Nope()"}, "End": True}), "unknown intrinsic"),
        (one({"Type": "Task", "Resource": "f", "End": True, "Retry": [{"ErrorEquals": []}]}), "ErrorEquals"),
        (one({"Type": "Task", "Resource": "f", "End": True,
              "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}), "must be the last"),
        (one({"Type": "Task", "Resource": "f", "End": True,
              "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}), "only error name"),
        (one({"Type": "Task", "Resource": "f", "End": True, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}),
         "BackoffRate"),
        (one({"Type": "Task", "Resource": "f", "End": True, "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": -1}]}),
         "MaxAttempts"),
        (one({"Type": "Task", "Resource": "f", "End": True, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]}),
         "JitterStrategy"),
        (one({"Type": "Task", "Resource": "f", "End": True, "Catch": [{"ErrorEquals": ["X"], "Next": "Nowhere"}]}),
         "Next 'Nowhere'"),
        (one({"Type": "Choice", "Choices": []}), "Choices must be a non-empty array"),
        (one({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "x"}], "Default": "S"}),
         "needs Next"),
        (one({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": 1, "Next": "S"}]}),
         "StringEquals needs a string"),
        (one({"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "S"}]}), "exactly one comparison operator"),
        (one({"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "IsNull": True, "Next": "S"}]}),
         "exactly one comparison operator"),
        (one({"Type": "Choice", "Choices": [{"And": [{"Variable": "$.a", "IsNull": True, "Next": "S"}], "Next": "S"}]}),
         "nested Choice Rule must not have Next"),
        (one({"Type": "Choice", "Choices": [{"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "S"}]}),
         "RFC 3339"),
        (one({"Type": "Wait", "End": True}), "exactly one of Seconds"),
        (one({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.x", "End": True}), "exactly one of Seconds"),
        (one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "mutually exclusive"),
        (one({"Type": "Parallel", "Branches": [], "End": True}), "Branches must be a non-empty array"),
        (one({"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "S"}}}],
              "End": True}), "Next 'S' is not a state in this scope"),
        (one({"Type": "Map", "End": True}), "exactly one of ItemProcessor or Iterator"),
        (one({"Type": "Map", "End": True, "ItemReader": {},
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}), "ItemReader"),
        ({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}, "'B' is not reachable"),
        ({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}, "QueryLanguage": "JSONata"}, "JSONPath"),
        ({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}, "Foo": 1}, "top-level field 'Foo'"),
        ("not a dict", "must be a JSON object"),
    ],
)
def test_invalid_definitions(definition, expected):
    assert expected in problems(definition)


def test_all_problems_are_reported_together():
    text = problems({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "X"},
                                                "B": {"Type": "Task", "End": True}}})
    assert "Next 'X'" in text and "Task needs a Resource" in text


def test_state_machine_constructor_validates():
    with pytest.raises(DefinitionError):
        StateMachine({"StartAt": "X", "States": {}}, {})


def test_catch_and_choice_targets_count_as_reachable():
    validate_definition({
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "f", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
                  "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "Y"}], "Default": "Z"},
            "H": {"Type": "Fail"},
            "Y": {"Type": "Succeed"},
            "Z": {"Type": "Succeed"},
        },
    })


def test_substitute_escapes_values_and_reports_missing():
    text = '{"a": "${One}", "b": "${Two}"}'
    assert json.loads(substitute(text, {"One": 'x"y', "Two": "arn:aws:lambda:r:1:function:f"})) == {
        "a": 'x"y', "b": "arn:aws:lambda:r:1:function:f"}
    with pytest.raises(DefinitionError) as exc:
        substitute(text, {"One": "1"})
    assert "${Two}" in str(exc.value)
    assert substitute(text, {"One": "1"}, strict=False) == '{"a": "1", "b": "${Two}"}'


def test_load_definition(tmp_path):
    path = tmp_path / "m.asl.json"
    path.write_text(json.dumps({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"}, "End": True}}}))
    d = load_definition(path, {"Fn": "my-fn"})
    assert d["States"]["T"]["Parameters"]["FunctionName"] == "my-fn"
    path.write_text("{not json")
    with pytest.raises(DefinitionError):
        load_definition(path)
