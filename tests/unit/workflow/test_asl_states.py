"""Choice, Wait, Parallel and Map states."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from melody_dev.workflow import StateMachine


class AudioError(Exception):
    pass


def sm(states, resources=None, **kw):
    kw.setdefault("sleep", lambda s: None)
    return StateMachine({"StartAt": next(iter(states)), "States": states}, resources or {}, **kw)


# --- Choice ---------------------------------------------------------------------------------

def choose(rule, data):
    """True when ``rule`` sends ``data`` to Yes."""
    states = {
        "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
        "Yes": {"Type": "Pass", "Result": "yes", "End": True},
        "No": {"Type": "Pass", "Result": "no", "End": True},
    }
    ex = sm(states).execute(data)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    return ex.output == "yes"


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"Variable": "$.s", "StringEquals": "dsp"}, {"s": "dsp"}, True),
        ({"Variable": "$.s", "StringEquals": "dsp"}, {"s": "demucs"}, False),
        ({"Variable": "$.s", "StringEquals": "1"}, {"s": 1}, False),  # type mismatch → false
        ({"Variable": "$.s", "StringLessThan": "b"}, {"s": "a"}, True),
        ({"Variable": "$.s", "StringGreaterThan": "b"}, {"s": "a"}, False),
        ({"Variable": "$.s", "StringLessThanEquals": "a"}, {"s": "a"}, True),
        ({"Variable": "$.s", "StringGreaterThanEquals": "b"}, {"s": "c"}, True),
        ({"Variable": "$.s", "StringMatches": "uploads/*/song.*"}, {"s": "uploads/u1/song.mp3"}, True),
        ({"Variable": "$.s", "StringMatches": "*.wav"}, {"s": "song.mp3"}, False),
        ({"Variable": "$.s", "StringMatches": r"a\*b"}, {"s": "a*b"}, True),
        ({"Variable": "$.s", "StringMatches": r"a\*b"}, {"s": "axxb"}, False),
        ({"Variable": "$.n", "NumericEquals": 3}, {"n": 3.0}, True),
        ({"Variable": "$.n", "NumericEquals": 1}, {"n": True}, False),  # booleans are not numbers
        ({"Variable": "$.n", "NumericLessThan": 3}, {"n": 2.5}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 3}, {"n": 3}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 3}, {"n": 3}, True),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 3}, {"n": 4}, True),
        ({"Variable": "$.n", "NumericEquals": 3}, {"n": "3"}, False),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": True}, True),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": 1}, False),
        ({"Variable": "$.t", "TimestampEquals": "2025-01-01T00:00:00Z"}, {"t": "2025-01-01T05:30:00+05:30"}, True),
        ({"Variable": "$.t", "TimestampLessThan": "2025-01-01T00:00:00Z"}, {"t": "2024-12-31T23:59:59.5Z"}, True),
        ({"Variable": "$.t", "TimestampGreaterThan": "2025-01-01T00:00:00Z"}, {"t": "not a time"}, False),
        ({"Variable": "$.t", "TimestampGreaterThanEquals": "2025-01-01T00:00:00Z"}, {"t": "2025-01-01T00:00:00Z"}, True),
        ({"Variable": "$.t", "TimestampLessThanEquals": "2025-01-01T00:00:00Z"}, {"t": "2026-01-01T00:00:00Z"}, False),
        ({"Variable": "$.a", "StringEqualsPath": "$.b"}, {"a": "x", "b": "x"}, True),
        ({"Variable": "$.a", "NumericGreaterThanPath": "$.b"}, {"a": 2, "b": 1}, True),
        ({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}, {"a": 2, "b": 1}, False),
        ({"Variable": "$.a", "BooleanEqualsPath": "$.b"}, {"a": False, "b": False}, True),
        ({"Variable": "$.a", "TimestampLessThanPath": "$.b"},
         {"a": "2025-01-01T00:00:00Z", "b": "2025-01-02T00:00:00Z"}, True),
        ({"Variable": "$.a", "StringGreaterThanEqualsPath": "$$.Execution.Name"}, {"a": "zzz"}, True),
        ({"Variable": "$.x", "IsPresent": True}, {"x": None}, True),
        ({"Variable": "$.x", "IsPresent": True}, {}, False),
        ({"Variable": "$.x", "IsPresent": False}, {}, True),
        ({"Variable": "$.x", "IsNull": True}, {"x": None}, True),
        ({"Variable": "$.x", "IsNull": False}, {"x": 0}, True),
        ({"Variable": "$.x", "IsNumeric": True}, {"x": 1.5}, True),
        ({"Variable": "$.x", "IsNumeric": True}, {"x": "1.5"}, False),
        ({"Variable": "$.x", "IsString": True}, {"x": "s"}, True),
        ({"Variable": "$.x", "IsBoolean": True}, {"x": False}, True),
        ({"Variable": "$.x", "IsTimestamp": True}, {"x": "2025-03-04T10:00:00.123Z"}, True),
        ({"Variable": "$.x", "IsTimestamp": True}, {"x": "2025-03-04 10:00:00"}, False),
        ({"Variable": "$.l[0].k", "StringEquals": "v"}, {"l": [{"k": "v"}]}, True),
        ({"Variable": "$$.State.Name", "StringEquals": "C"}, {}, True),
        ({"And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.a", "NumericGreaterThan": 1}]}, {"a": 2}, True),
        ({"And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.a", "NumericGreaterThan": 1}]}, {}, False),
        ({"Or": [{"Variable": "$.a", "StringEquals": "x"}, {"Variable": "$.a", "StringEquals": "y"}]}, {"a": "y"}, True),
        ({"Not": {"Variable": "$.a", "StringEquals": "x"}}, {"a": "y"}, True),
        ({"Not": {"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.a", "StringEquals": ""}]}}, {"a": ""}, False),
    ],
)
def test_choice_operators(rule, data, expected):
    assert choose(rule, data) is expected


def test_choice_first_matching_rule_wins_and_output_path():
    states = {
        "C": {"Type": "Choice", "InputPath": "$.job", "OutputPath": "$.engine",
              "Choices": [{"Variable": "$.size", "NumericGreaterThan": 10, "Next": "Big"},
                          {"Variable": "$.size", "NumericGreaterThan": 0, "Next": "Small"}]},
        "Big": {"Type": "Succeed"},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.kind", "End": True},
    }
    ex = sm(states).execute({"job": {"size": 100, "engine": "dsp"}})
    assert ex.output == "dsp" and ex.events("SucceedStateEntered")


def test_choice_no_match_no_default():
    states = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "X"}]},
              "X": {"Type": "Succeed"}}
    ex = sm(states).execute({})
    assert ex.status == "FAILED" and ex.error == "States.NoChoiceMatched"


def test_choice_missing_variable_is_runtime_error():
    states = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "X"}],
                    "Default": "X"},
              "X": {"Type": "Succeed"}}
    ex = sm(states).execute({})
    assert ex.error == "States.Runtime"


# --- Wait -----------------------------------------------------------------------------------

def test_wait_seconds_and_paths_use_injected_sleep():
    sleeps = []
    now = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    states = {
        "W1": {"Type": "Wait", "Seconds": 5, "Next": "W2"},
        "W2": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "W3"},
        "W3": {"Type": "Wait", "Timestamp": "2025-01-01T00:01:00Z", "Next": "W4"},
        "W4": {"Type": "Wait", "TimestampPath": "$.until", "Next": "W5"},
        "W5": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": True},  # in the past: no wait
    }
    ex = sm(states, sleep=sleeps.append, clock=lambda: now).execute({"delay": 7, "until": "2025-01-01T00:00:30.5Z"})
    assert ex.status == "SUCCEEDED" and ex.output == {"delay": 7, "until": "2025-01-01T00:00:30.5Z"}
    assert sleeps == [5, 7, 60.0, 30.5]


def test_wait_seconds_path_must_be_integer():
    ex = sm({"W": {"Type": "Wait", "SecondsPath": "$.d", "End": True}}).execute({"d": "soon"})
    assert ex.error == "States.Runtime"


# --- Parallel -------------------------------------------------------------------------------

def branch(name, resource, **extra):
    return {"StartAt": name, "States": {name: {"Type": "Task", "Resource": resource, "End": True, **extra}}}


def test_parallel_outputs_in_branch_order_and_runs_concurrently():
    barrier = threading.Barrier(3, timeout=5)

    def make(tag, delay):
        def fn(p, c):
            barrier.wait()  # proves the three branches run at the same time
            time.sleep(delay)
            return {"tag": tag, "in": p}
        return fn

    states = {
        "P": {"Type": "Parallel", "Parameters": {"v.$": "$.v"},
              "Branches": [branch("A", "a"), branch("B", "b"), branch("C", "c")],
              "ResultSelector": {"first.$": "$[0].tag", "all.$": "$[*].tag"},
              "ResultPath": "$.res", "End": True}
    }
    ex = sm(states, {"a": make("a", 0.03), "b": make("b", 0.0), "c": make("c", 0.01)}).execute({"v": 1, "keep": 2})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"v": 1, "keep": 2, "res": {"first": "a", "all": ["a", "b", "c"]}}


def test_parallel_raw_output_is_array():
    states = {"P": {"Type": "Parallel", "Branches": [branch("A", "a"), branch("B", "b")], "End": True}}
    ex = sm(states, {"a": lambda p, c: 1, "b": lambda p, c: {"x": 2}}).execute({})
    assert ex.output == [1, {"x": 2}]


def test_parallel_branch_failure_fails_state_with_branch_error_and_stops_siblings():
    later = []
    bad_called = threading.Event()

    def bad(p, c):
        bad_called.set()
        raise AudioError("corrupt")

    def slow_then_more(p, c):
        assert bad_called.wait(5)
        time.sleep(0.05)  # the failing branch reports its error meanwhile
        return "first"

    states = {
        "P": {"Type": "Parallel", "End": True, "Branches": [
            branch("Bad", "bad"),
            {"StartAt": "Slow", "States": {
                "Slow": {"Type": "Task", "Resource": "slow", "Next": "Later"},
                "Later": {"Type": "Task", "Resource": "later", "End": True}}},
        ]}
    }
    ex = sm(states, {"bad": bad, "slow": slow_then_more, "later": lambda p, c: later.append(1)}).execute({})
    assert ex.status == "FAILED" and ex.error == "AudioError"
    assert later == []  # the sibling branch was stopped at its next state


def test_parallel_failure_handled_by_its_own_retry_and_catch():
    calls = []

    def flaky(p, c):
        calls.append(1)
        if len(calls) == 1:
            raise AudioError("once")
        return "ok"

    states = {
        "P": {"Type": "Parallel", "Branches": [branch("F", "f")], "ResultPath": "$.r",
              "Retry": [{"ErrorEquals": ["AudioError"], "MaxAttempts": 1}], "End": True}
    }
    ex = sm(states, {"f": flaky}).execute({})
    assert ex.output == {"r": ["ok"]} and len(calls) == 2

    states = {
        "P": {"Type": "Parallel", "Branches": [branch("F", "f"), {"StartAt": "X", "States": {
            "X": {"Type": "Fail", "Error": "Branch.Failed", "Cause": "c"}}}],
              "Catch": [{"ErrorEquals": ["Branch.Failed"], "ResultPath": "$.err", "Next": "H"}], "End": True},
        "H": {"Type": "Pass", "End": True},
    }
    ex = sm(states, {"f": lambda p, c: time.sleep(0.01)}).execute({"a": 1})
    assert ex.output == {"a": 1, "err": {"Error": "Branch.Failed", "Cause": "c"}}


def test_nested_parallel_states_have_their_own_namespace():
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": 1, "Next": "T"},
                                    "T": {"Type": "Pass", "End": True}}},
        {"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": 2, "End": True}}},
    ]}}
    assert sm(states).execute({}).output == [1, 2]


# --- Map ------------------------------------------------------------------------------------

def test_map_items_path_item_selector_and_context():
    seen = []

    def fn(p, c):
        seen.append(p)
        return p["value"] * 10

    states = {
        "M": {
            "Type": "Map",
            "InputPath": "$.job",
            "ItemsPath": "$.stems",
            "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value.n",
                             "job.$": "$.id"},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "T",
                              "States": {"T": {"Type": "Task", "Resource": "f", "End": True}}},
            "MaxConcurrency": 2,
            "ResultPath": "$.job.results",
            "End": True,
        }
    }
    ex = sm(states, {"f": fn}).execute({"job": {"id": "j1", "stems": [{"n": 1}, {"n": 2}, {"n": 3}]}})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["job"]["results"] == [10, 20, 30]
    assert sorted(seen, key=lambda p: p["index"]) == [
        {"index": 0, "value": 1, "job": "j1"}, {"index": 1, "value": 2, "job": "j1"},
        {"index": 2, "value": 3, "job": "j1"}]


def test_map_legacy_iterator_and_parameters():
    states = {"M": {"Type": "Map", "Parameters": {"v.$": "$$.Map.Item.Value"},
                    "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}
    assert sm(states).execute(["a", "b"]).output == [{"v": "a"}, {"v": "b"}]


def test_map_max_concurrency_is_respected():
    active, peak, lock = [0], [0], threading.Lock()

    def fn(p, c):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return p

    states = {"M": {"Type": "Map", "MaxConcurrency": 2, "End": True,
                    "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f", "End": True}}}}}
    ex = sm(states, {"f": fn}).execute(list(range(8)))
    assert ex.output == list(range(8)) and peak[0] <= 2


def test_map_empty_and_not_an_array():
    proc = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    assert sm({"M": {"Type": "Map", "ItemsPath": "$.l", "ItemProcessor": proc, "End": True}}).execute(
        {"l": []}).output == []
    ex = sm({"M": {"Type": "Map", "ItemsPath": "$.l", "ItemProcessor": proc, "End": True}}).execute({"l": "x"})
    assert ex.error == "States.Runtime"


def test_map_iteration_failure_fails_map_and_is_catchable():
    def fn(p, c):
        if p == 2:
            raise AudioError("item 2")
        return p

    states = {"M": {"Type": "Map", "End": True,
                    "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f", "End": True}}},
                    "Catch": [{"ErrorEquals": ["AudioError"], "Next": "H"}]},
              "H": {"Type": "Pass", "End": True}}
    ex = sm(states, {"f": fn}).execute([1, 2, 3])
    assert ex.status == "SUCCEEDED" and ex.output["Error"] == "AudioError"
