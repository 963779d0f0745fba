"""Retry, Catch, error naming, TimeoutSeconds, Fail/Succeed."""

from __future__ import annotations

import json
import threading

from melody_dev.workflow import LAMBDA_INVOKE, StateMachine, StatesError


class AudioError(Exception):
    pass


class Throttled(Exception):
    error_name = "Lambda.TooManyRequestsException"


class Flaky:
    """Fails with ``exc`` the first ``failures`` calls, then returns ``result``."""

    def __init__(self, exc, failures, result=None):
        self.exc, self.failures, self.result = exc, failures, result
        self.calls = 0
        self.retry_counts = []

    def __call__(self, payload, ctx):
        self.calls += 1
        self.retry_counts.append(ctx.state_context["State"]["RetryCount"])
        if self.calls <= self.failures:
            raise self.exc
        return self.result if self.result is not None else {"attempt": self.calls}


def build(task_extra, fn, more_states=None, **kw):
    sleeps = []
    states = {"T": {"Type": "Task", "Resource": "f", "End": True, **task_extra}}
    # only the handler states a Catcher targets (unreachable states are a definition error)
    targets = {c["Next"] for c in task_extra.get("Catch", [])}
    states.update({k: v for k, v in (more_states or {}).items() if k in targets})
    m = StateMachine({"StartAt": "T", "States": states}, {"f": fn}, sleep=sleeps.append, **kw)
    return m, sleeps


# --- error naming ---------------------------------------------------------------------------

def test_exception_class_name_and_lambda_shaped_cause():
    m, _ = build({}, Flaky(AudioError("not audio: mp3 header missing"), 99))
    ex = m.execute({})
    assert ex.status == "FAILED"
    assert ex.error == "AudioError"
    assert json.loads(ex.cause) == {"errorMessage": "not audio: mp3 header missing", "errorType": "AudioError"}


def test_error_name_attribute_wins():
    m, _ = build({}, Flaky(Throttled("slow down"), 99))
    ex = m.execute({})
    assert ex.error == "Lambda.TooManyRequestsException"
    assert json.loads(ex.cause)["errorType"] == "Throttled"


def test_states_error_raised_by_callable_is_passed_through():
    m, _ = build({}, Flaky(StatesError("Custom.Thing", "why"), 99))
    ex = m.execute({})
    assert (ex.error, ex.cause) == ("Custom.Thing", "why")


def test_lambda_invoke_unknown_function():
    states = {"T": {"Type": "Task", "Resource": LAMBDA_INVOKE, "Parameters": {"FunctionName": "nope"}, "End": True}}
    ex = StateMachine({"StartAt": "T", "States": states}, {}).execute({})
    assert ex.error == "Lambda.ResourceNotFoundException"


# --- Retry ----------------------------------------------------------------------------------

def test_retry_defaults_interval_1_backoff_2_max_3():
    fn = Flaky(AudioError("x"), 99)
    m, sleeps = build({"Retry": [{"ErrorEquals": ["States.ALL"]}]}, fn)
    ex = m.execute({})
    assert ex.status == "FAILED" and ex.error == "AudioError"
    assert fn.calls == 4  # 1 + MaxAttempts 3
    assert sleeps == [1, 2, 4]
    assert fn.retry_counts == [0, 1, 2, 3]
    assert [e["attempt"] for e in ex.events("RetryScheduled")] == [1, 2, 3]


def test_retry_then_success_with_explicit_backoff():
    fn = Flaky(Throttled(), 2, {"done": True})
    m, sleeps = build({"Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 3,
                                  "MaxAttempts": 5, "BackoffRate": 1.5}]}, fn)
    ex = m.execute({})
    assert ex.status == "SUCCEEDED" and ex.output == {"done": True}
    assert sleeps == [3, 4.5]
    assert fn.calls == 3


def test_max_delay_seconds_caps_backoff():
    fn = Flaky(AudioError(), 99)
    m, sleeps = build({"Retry": [{"ErrorEquals": ["AudioError"], "IntervalSeconds": 2, "MaxAttempts": 5,
                                  "BackoffRate": 3, "MaxDelaySeconds": 10}]}, fn)
    m.execute({})
    assert sleeps == [2, 6, 10, 10, 10]


def test_full_jitter_uses_random_fraction():
    fn = Flaky(AudioError(), 2, {})
    m, sleeps = build({"Retry": [{"ErrorEquals": ["AudioError"], "IntervalSeconds": 4, "JitterStrategy": "FULL"}]},
                      fn, random=lambda: 0.25)
    assert m.execute({}).status == "SUCCEEDED"
    assert sleeps == [1.0, 2.0]


def test_max_attempts_zero_never_retries():
    fn = Flaky(AudioError(), 99)
    m, sleeps = build({"Retry": [{"ErrorEquals": ["AudioError"], "MaxAttempts": 0},
                                 {"ErrorEquals": ["States.ALL"]}]}, fn)
    ex = m.execute({})
    # the first matching retrier decides; a later States.ALL retrier is not consulted
    assert ex.status == "FAILED" and fn.calls == 1 and sleeps == []


def test_non_matching_error_is_not_retried():
    fn = Flaky(AudioError(), 99)
    m, sleeps = build({"Retry": [{"ErrorEquals": ["Lambda.ServiceException"]}]}, fn)
    assert m.execute({}).error == "AudioError" and fn.calls == 1 and sleeps == []


def test_each_retrier_counts_separately():
    errors = [Throttled(), AudioError(), Throttled(), AudioError()]

    def fn(p, c):
        if errors:
            raise errors.pop(0)
        return "ok"

    m, sleeps = build({"Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2,
                                  "IntervalSeconds": 1},
                                 {"ErrorEquals": ["AudioError"], "MaxAttempts": 2, "IntervalSeconds": 10}]}, fn)
    ex = m.execute({})
    assert ex.status == "SUCCEEDED"
    assert sleeps == [1, 10, 2, 20]


def test_task_failed_matches_everything_but_timeout():
    fn = Flaky(AudioError(), 1, "ok")
    m, sleeps = build({"Retry": [{"ErrorEquals": ["States.TaskFailed"]}]}, fn)
    assert m.execute({}).status == "SUCCEEDED"


# --- Catch ----------------------------------------------------------------------------------

CATCH_STATES = {
    "Specific": {"Type": "Pass", "Result": "specific", "ResultPath": "$.handler", "End": True},
    "Generic": {"Type": "Pass", "Result": "generic", "ResultPath": "$.handler", "End": True},
}


def test_catch_puts_error_output_at_result_path_on_raw_input():
    m, _ = build({"InputPath": "$.sub", "Catch": [{"ErrorEquals": ["AudioError"], "ResultPath": "$.error",
                                                   "Next": "Specific"}]},
                 Flaky(AudioError("bad"), 99), CATCH_STATES)
    ex = m.execute({"sub": {}, "job_id": "j1"})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"sub": {}, "job_id": "j1", "handler": "specific",
                         "error": {"Error": "AudioError",
                                   "Cause": json.dumps({"errorMessage": "bad", "errorType": "AudioError"})}}


def test_catch_default_result_path_replaces_input():
    m, _ = build({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Generic"}]}, Flaky(AudioError("bad"), 99),
                 CATCH_STATES)
    out = m.execute({"job_id": "j1"}).output
    assert set(out) == {"Error", "Cause", "handler"} and out["Error"] == "AudioError"


def test_first_matching_catcher_wins_and_states_all_is_last():
    catch = [{"ErrorEquals": ["Other", "AudioError"], "Next": "Specific", "ResultPath": "$.e"},
             {"ErrorEquals": ["States.ALL"], "Next": "Generic", "ResultPath": "$.e"}]
    m, _ = build({"Catch": catch}, Flaky(AudioError(), 99), CATCH_STATES)
    assert m.execute({}).output["handler"] == "specific"
    m, _ = build({"Catch": catch}, Flaky(KeyError("k"), 99), CATCH_STATES)
    out = m.execute({}).output
    assert out["handler"] == "generic" and out["e"]["Error"] == "KeyError"


def test_catch_after_retries_exhausted():
    fn = Flaky(Throttled(), 99)
    m, sleeps = build({"Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
                       "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "Generic"}]},
                      fn, CATCH_STATES)
    ex = m.execute({})
    assert ex.status == "SUCCEEDED" and fn.calls == 3 and len(sleeps) == 2
    assert ex.output["e"]["Error"] == "Lambda.TooManyRequestsException"
    assert [e["type"] for e in ex.history].count("ErrorCaught") == 1


def test_states_runtime_is_not_caught_by_states_all():
    m, _ = build({"InputPath": "$.missing", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Generic"}]},
                 Flaky(AudioError(), 0, "ok"), CATCH_STATES)
    ex = m.execute({})
    assert ex.status == "FAILED" and ex.error == "States.Runtime"


def test_missing_parameters_path_is_states_runtime_not_parameter_path_failure():
    # AWS reports an unmatched '.$' path as States.Runtime (not catchable); see test_asl_runtime_errors.py
    m, _ = build({"Parameters": {"x.$": "$.missing"},
                  "Catch": [{"ErrorEquals": ["States.ParameterPathFailure"], "ResultPath": "$.e", "Next": "Generic"}]},
                 Flaky(AudioError(), 0, "ok"), CATCH_STATES)
    ex = m.execute({})
    assert ex.status == "FAILED" and ex.error == "States.Runtime"
    assert "$.missing" in ex.cause


def test_result_path_match_failure():
    m, _ = build({"ResultPath": "$.s.x"}, Flaky(AudioError(), 0, "ok"))
    ex = m.execute({"s": "a string"})
    assert ex.error == "States.ResultPathMatchFailure"


def test_result_selector_missing_path_is_states_runtime():
    m, _ = build({"ResultSelector": {"x.$": "$.nope"}}, Flaky(AudioError(), 0, {"a": 1}))
    assert m.execute({}).error == "States.Runtime"


# --- TimeoutSeconds -------------------------------------------------------------------------

def test_timeout_seconds_gives_states_timeout_and_can_be_retried_by_name():
    release = threading.Event()
    calls = []

    def slow(p, c):
        calls.append(1)
        release.wait(5)
        return "late"

    try:
        m, sleeps = build({"TimeoutSeconds": 3,
                           "Retry": [{"ErrorEquals": ["States.TaskFailed"]},
                                     {"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}]},
                          slow, timeout_scale=0.005)
        ex = m.execute({})
    finally:
        release.set()
    assert ex.status == "FAILED" and ex.error == "States.Timeout"
    assert len(calls) == 2 and sleeps == [1]  # TaskFailed retrier does not match States.Timeout
    assert ex.events("TaskTimedOut")


def test_timeout_not_hit_returns_result():
    m, _ = build({"TimeoutSeconds": 60}, lambda p, c: {"fast": True})
    assert m.execute({}).output == {"fast": True}


def test_timeout_seconds_path():
    release = threading.Event()
    try:
        m, _ = build({"TimeoutSecondsPath": "$.t"}, lambda p, c: release.wait(5), timeout_scale=0.005)
        assert m.execute({"t": 2}).error == "States.Timeout"
    finally:
        release.set()


# --- Fail / Succeed -------------------------------------------------------------------------

def run_states(states, input=None, start=None):
    return StateMachine({"StartAt": start or next(iter(states)), "States": states}, {}).execute(input or {})


def test_fail_state_static():
    ex = run_states({"F": {"Type": "Fail", "Error": "Job.Rejected", "Cause": "too long"}})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Job.Rejected", "too long")
    assert ex.events("FailStateEntered")


def test_fail_state_paths_and_intrinsic():
    ex = run_states({"F": {"Type": "Fail", "ErrorPath": "$.e.Error",
                           "CausePath": "States.Format('job {} failed', $.job)"}},
                    {"e": {"Error": "AudioError"}, "job": "j1"})
    assert (ex.error, ex.cause) == ("AudioError", "job j1 failed")


def test_fail_path_must_select_string():
    ex = run_states({"F": {"Type": "Fail", "ErrorPath": "$.e"}}, {"e": {"x": 1}})
    assert ex.error == "States.Runtime"


def test_succeed_state_applies_input_and_output_path():
    ex = run_states({"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}, {"a": {"b": 7}})
    assert ex.status == "SUCCEEDED" and ex.output == 7


def test_history_records_entered_exited_and_task_events():
    m, _ = build({"Retry": [{"ErrorEquals": ["AudioError"]}]}, Flaky(AudioError(), 1, "ok"))
    ex = m.execute({})
    types = [e["type"] for e in ex.history]
    assert types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskFailed", "RetryScheduled",
                     "TaskScheduled", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in ex.history] == list(range(1, len(types) + 1))


def test_top_level_timeout_seconds_fails_execution_and_is_not_caught():
    release = threading.Event()
    definition = {
        "TimeoutSeconds": 2,
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "End": True,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
                  "Branches": [{"StartAt": "Slow", "States": {
                      "Slow": {"Type": "Task", "Resource": "slow", "Next": "After"},
                      "After": {"Type": "Pass", "End": True}}}]},
            "H": {"Type": "Succeed"},
        },
    }
    try:
        m = StateMachine(definition, {"slow": lambda p, c: release.wait(0.05)}, timeout_scale=0.005)
        ex = m.execute({})
    finally:
        release.set()
    assert ex.status == "FAILED" and ex.error == "States.Timeout"
    assert not ex.events("ErrorCaught")
