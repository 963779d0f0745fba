"""The local ASL runner and moto's Step Functions engine on the same definitions.

Every case runs one definition with one input through both engines and compares the execution
status, output (or Error/Cause) and the Lambda calls made (function, payload, in order; Parallel
branches as a multiset). The definitions are the shapes of ``statemachines/audio_pipeline.asl.json``
(Task ``lambda:invoke`` with ``Payload.$``, ResultSelector, ResultPath, Retry, Catch with
ResultPath, Choice with And/IsPresent/BooleanEquals, Parallel + ResultSelector on ``$[n]``, Pass,
Succeed, Fail with ErrorPath/CausePath), and the pipeline file itself.

Lambda in moto: moto's "simple" Lambda backend (``config={"lambda": {"use_docker": False}}``)
echoes the request payload, or pops a global result queue. Neither can route per function nor
report a function error, so this module patches ``LambdaSimpleBackend.invoke`` (moto 5.2.x
internals, checked below) to call the same Python callables the local runner gets; an exception
becomes Lambda's ``FunctionError`` response ``{"errorMessage", "errorType"}`` as in AWS.

Where moto deviates from AWS the test asserts what AWS documents for the local runner and pins
moto's deviation (README.md in devtools/melody_dev/workflow lists them), so a moto upgrade that
fixes one fails here and the README gets updated.
"""

from __future__ import annotations

import copy
import inspect
import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/melody-parity"
ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "audio_pipeline.asl.json"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
# the pipeline's Retrier for transient Lambda service errors
LAMBDA_RETRY = {
    "ErrorEquals": ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
                    "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
    "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2, "JitterStrategy": "FULL",
}


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def fn_name(function: str) -> str:
    """Function name from a name or an (unqualified) function ARN."""
    return function.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in function else function


def invoke(function: str, **extra: Any) -> dict:
    """A pipeline-shaped Task: ``lambda:invoke`` of ``function`` with the whole state as Payload."""
    return {"Type": "Task", "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": fn_arn(function), "Payload.$": "$"}, **extra}


class AudioRejected(Exception):
    """A step's own error (the name Step Functions sees is the class name, Lambda's errorType)."""


class Functions:
    """The Lambda functions of one case: name → ``callable(payload)``; unknown names echo.

    Both engines call the same callables; every call is recorded as ``(name, payload)``."""

    def __init__(self, **handlers: Any):
        self.handlers = handlers
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def call(self, function: str, payload: Any) -> Any:
        name = fn_name(function)
        with self._lock:
            self.calls.append((name, copy.deepcopy(payload)))
        handler = self.handlers.get(name)
        return handler(payload) if handler else payload

    def reset(self) -> None:
        self.calls = []


# --------------------------------------------------------------------------------------------
# the two engines
# --------------------------------------------------------------------------------------------

def _normalise(value: Any) -> Any:
    """Compare Error Output causes by content: a Lambda error Cause is JSON whose whitespace differs
    (the local runner: ``json.dumps``; moto re-serialises compactly; AWS passes Lambda's bytes)."""
    if isinstance(value, dict):
        out = {k: _normalise(v) for k, v in value.items()}
        if isinstance(out.get("Cause"), str):
            out["Cause"] = _parse_cause(out["Cause"])
        return out
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _parse_cause(cause: str | None) -> Any:
    try:
        return json.loads(cause) if cause else cause
    except ValueError:
        return cause


def _result(status: str, output: Any, error: str | None, cause: str | None, calls: list) -> dict:
    return {"status": status, "output": _normalise(output), "error": error, "cause": _parse_cause(cause),
            "calls": Counter(json.dumps(_normalise(list(c)), sort_keys=True) for c in calls),
            "call_order": [c[0] for c in calls]}


class LocalEngine:
    def run(self, definition: dict, input: Any, functions: Functions) -> dict:
        from melody_dev.workflow import StateMachine

        def resolve(key: str):
            return lambda payload, _ctx: functions.call(key, payload)

        functions.reset()
        machine = StateMachine(definition, resolve, name="parity", sleep=lambda _s: None)
        ex = machine.execute(input)
        return _result(ex.status, ex.output, ex.error, ex.cause, functions.calls)


class MotoEngine:
    """moto's LocalStack-derived interpreter, in-process (``mock_aws`` without resetting data, so a
    session moto server of other integration tests keeps its S3/DynamoDB state)."""

    def __init__(self) -> None:
        import boto3

        self.functions: Functions | None = None
        self.client = boto3.client("stepfunctions", region_name=REGION)

    def run(self, definition: dict, input: Any, functions: Functions, timeout: float = 15) -> dict:
        functions.reset()
        self.functions = functions
        arn = self.client.create_state_machine(name=f"parity-{uuid.uuid4().hex[:12]}", roleArn=ROLE,
                                               definition=json.dumps(definition))["stateMachineArn"]
        ex_arn = self.client.start_execution(stateMachineArn=arn, input=json.dumps(input))["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            d = self.client.describe_execution(executionArn=ex_arn)
            if d["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto execution still running after {timeout}s")
            time.sleep(0.02)
        self.history = self.client.get_execution_history(executionArn=ex_arn, maxResults=1000)["events"]
        output = json.loads(d["output"]) if d.get("output") is not None else None
        return _result(d["status"], output, d.get("error"), d.get("cause"), functions.calls)

    # the Lambda "simple" backend, routed to the case's callables
    def lambda_invoke(self, function_name: str, body: Any, response_headers: dict) -> bytes:
        assert self.functions is not None
        payload = json.loads(body) if body else {}
        try:
            result = self.functions.call(function_name, payload)
        except Exception as exc:  # noqa: BLE001 - Lambda's unhandled-error response
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
        return json.dumps(result).encode()


@pytest.fixture(scope="module")
def moto_engine():
    import moto
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if not moto.__version__.startswith("5.2."):
        pytest.skip(f"the Lambda patch targets moto 5.2.x internals, found {moto.__version__}")
    assert list(inspect.signature(LambdaSimpleBackend.invoke).parameters) == [
        "self", "function_name", "qualifier", "body", "headers", "response_headers"]

    engine: MotoEngine | None = None

    def patched(self, function_name, qualifier, body, headers, response_headers):
        assert engine is not None
        return engine.lambda_invoke(function_name, body, response_headers)

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LambdaSimpleBackend, "invoke", patched)
        mock.start(reset=False)
        try:
            engine = MotoEngine()
            yield engine
        finally:
            mock.stop(remove_data=False)


@pytest.fixture(scope="module")
def local_engine():
    return LocalEngine()


def both(local_engine, moto_engine, definition, input, functions):
    return local_engine.run(definition, input, functions), moto_engine.run(definition, input, functions)


def assert_same(local: dict, moto: dict, keys=("status", "output", "error", "cause", "calls"),
                ignore_calls_to: tuple[str, ...] = ()) -> None:
    """``ignore_calls_to``: functions whose calls are timing-dependent (a Parallel sibling of a
    failing branch may or may not have been invoked before the failure stops it, in AWS too)."""
    for key in keys:
        a, b = local[key], moto[key]
        if key == "calls" and ignore_calls_to:
            a, b = ({c: n for c, n in x.items() if json.loads(c)[0] not in ignore_calls_to} for x in (a, b))
        assert a == b, f"{key}: local {a!r} != moto {b!r}"


def moto_index_deviation(results: dict) -> dict:
    """What moto makes of the Parallel ResultSelector ``{"stems.$": "$[0].stems", "analysis.$":
    "$[1].analysis"}``: a one-element list per field (AWS and the local runner: the value)."""
    return {k: [v] for k, v in results.items()}


# --------------------------------------------------------------------------------------------
# pipeline shapes
# --------------------------------------------------------------------------------------------

JOB = {"bucket": "uploads", "key": "u/1/song.mp3", "job_id": "j1", "user_id": "u1", "engine": "hpss"}

PROBE_AND_CHOOSE = {
    "StartAt": "Probe",
    "States": {
        "Probe": invoke("probe", ResultSelector={"content_hash.$": "$.Payload.content_hash",
                                                 "cached.$": "$.Payload.cached"},
                        ResultPath="$.probe", Retry=[LAMBDA_RETRY],
                        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
                        Next="AlreadyProcessed"),
        "AlreadyProcessed": {"Type": "Choice", "Choices": [{
            "And": [{"Variable": "$.probe.cached", "IsPresent": True},
                    {"Variable": "$.probe.cached", "BooleanEquals": True}],
            "Next": "Reused"}], "Default": "Processed"},
        "Reused": {"Type": "Pass", "Result": "reuse", "ResultPath": "$.path", "Next": "Done"},
        "Processed": {"Type": "Pass", "Result": "process", "ResultPath": "$.path", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "MarkFailed": invoke("mark_failed", ResultPath=None, Retry=[LAMBDA_RETRY], Next="Failed"),
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}


@pytest.mark.parametrize("cached", [True, False])
def test_task_result_selector_result_path_and_choice(local_engine, moto_engine, cached):
    fns = Functions(probe=lambda p: {"content_hash": "h1", "cached": cached, "duration_s": 12.5})
    local, moto = both(local_engine, moto_engine, PROBE_AND_CHOOSE, JOB, fns)
    assert_same(local, moto)
    assert local["output"] == {**JOB, "probe": {"content_hash": "h1", "cached": cached},
                               "path": "reuse" if cached else "process"}
    assert local["call_order"] == ["probe"]


def test_choice_is_present_false_takes_default(local_engine, moto_engine):
    definition = copy.deepcopy(PROBE_AND_CHOOSE)
    definition["States"]["Probe"] = {"Type": "Pass", "Result": {"content_hash": "h1"}, "ResultPath": "$.probe",
                                     "Next": "AlreadyProcessed"}
    del definition["States"]["MarkFailed"], definition["States"]["Failed"]
    local, moto = both(local_engine, moto_engine, definition, JOB, Functions())
    assert_same(local, moto)
    assert local["output"]["path"] == "process"


def test_catch_result_path_then_mark_failed_then_fail_state(local_engine, moto_engine):
    def probe(_p):
        raise AudioRejected("too_long: Songs can be at most 10 minutes long.")

    fns = Functions(probe=probe, mark_failed=lambda p: {"job_id": p["job_id"], "code": "too_long"})
    local, moto = both(local_engine, moto_engine, PROBE_AND_CHOOSE, JOB, fns)
    assert_same(local, moto)
    assert local["status"] == "FAILED" and local["error"] == "AudioRejected"
    assert local["cause"] == {"errorMessage": "too_long: Songs can be at most 10 minutes long.",
                              "errorType": "AudioRejected"}
    # not retried (not a Lambda.* service error); MarkFailed got the input plus $.error
    assert local["call_order"] == ["probe", "mark_failed"]
    mark_failed_payload = json.loads(next(k for k in local["calls"] if '"mark_failed"' in k))[1]
    assert mark_failed_payload == {**JOB, "error": {"Error": "AudioRejected", "Cause": local["cause"]}}


def test_retry_then_success(local_engine, moto_engine):
    class Transient(Exception):
        pass

    attempts = {"n": 0}

    def flaky(p):
        attempts["n"] += 1
        if attempts["n"] % 2 == 1:  # fails the first call of each engine's run
            raise Transient("try again")
        return {"ok": True}

    definition = {"StartAt": "T", "States": {"T": invoke(
        "flaky", ResultSelector={"ok.$": "$.Payload.ok"}, ResultPath="$.t",
        Retry=[LAMBDA_RETRY, {"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 2,
                              "BackoffRate": 1, "JitterStrategy": "FULL"}], End=True)}}
    local, moto = both(local_engine, moto_engine, definition, {"a": 1}, Functions(flaky=flaky))
    assert_same(local, moto)
    assert local["output"] == {"a": 1, "t": {"ok": True}} and local["call_order"] == ["flaky", "flaky"]


def test_retry_exhausted_then_caught(local_engine, moto_engine):
    class Transient(Exception):
        pass

    def always(_p):
        raise Transient("still down")

    definition = {"StartAt": "T", "States": {
        "T": invoke("always", Retry=[{"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 1,
                                      "JitterStrategy": "FULL"}],
                    Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}],
                    Next="Handled"),
        "Handled": {"Type": "Pass", "End": True}}}
    local, moto = both(local_engine, moto_engine, definition, {"a": 1}, Functions(always=always))
    assert_same(local, moto)
    assert local["output"]["error"]["Error"] == "Transient" and local["call_order"] == ["always", "always"]


PROCESS = {
    "StartAt": "Process",
    "States": {
        "Process": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Separate", "States": {"Separate": invoke(
                    "separate", ResultSelector={"stems.$": "$.Payload"}, Retry=[LAMBDA_RETRY], End=True)}},
                {"StartAt": "Analyse", "States": {"Analyse": invoke(
                    "analyse", ResultSelector={"analysis.$": "$.Payload"}, Retry=[LAMBDA_RETRY], End=True)}},
            ],
            "ResultSelector": {"stems.$": "$[0].stems", "analysis.$": "$[1].analysis"},
            "ResultPath": "$.results",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "MarkFailed": invoke("mark_failed", ResultPath=None, Next="Failed"),
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}
STEMS = {"instrumental_key": "stems/h1/hpss/instrumental.m4a", "vocals_key": "stems/h1/hpss/vocals.m4a",
         "engine": "hpss", "engine_version": "1"}
ANALYSIS = {"analysis_key": "analysis/h1/hpss/analysis.json", "waveform_key": "analysis/h1/waveform.json",
            "analysis": {"tempo": 120.0, "key": "A minor", "beats": [0.5, 1.0]}}


def test_parallel_branches_and_result_selector_on_branch_index(local_engine, moto_engine):
    fns = Functions(separate=lambda p: STEMS, analyse=lambda p: ANALYSIS)
    state = {**JOB, "probe": {"content_hash": "h1", "cached": False}}
    local, moto = both(local_engine, moto_engine, PROCESS, state, fns)
    assert_same(local, moto, keys=("status", "error", "cause", "calls"))
    # AWS: "$[0].stems" is a definite path, one value (what the pipeline's Persist step reads)
    assert local["output"] == {**state, "results": {"stems": STEMS, "analysis": ANALYSIS}}
    assert sorted(local["call_order"]) == ["analyse", "separate"]
    # moto deviation (README: "moto: $[0].x returns a list")
    assert moto["output"] == {**state, "results": moto_index_deviation({"stems": STEMS, "analysis": ANALYSIS})}, \
        "moto now matches AWS: update README.md and this test"


def test_parallel_branch_error_is_caught_by_the_parallel_state(local_engine, moto_engine):
    def separate(_p):
        raise AudioRejected("unsupported_format: not audio")

    fns = Functions(separate=separate, analyse=lambda p: ANALYSIS, mark_failed=lambda p: {"ok": True})
    local, moto = both(local_engine, moto_engine, PROCESS, JOB, fns)
    assert_same(local, moto, ignore_calls_to=("analyse",))
    # AWS: the Parallel state fails with the branch's error (not States.BranchFailed)
    assert local["status"] == "FAILED" and local["error"] == "AudioRejected"
    assert local["call_order"][-1] == "mark_failed"


def test_pass_parameters_context_and_intrinsics(local_engine, moto_engine):
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Pass",
        "Parameters": {"job.$": "$.job_id", "fixed": {"n": 1, "list": [1, "x"]},
                       "state.$": "$$.State.Name", "label.$": "States.Format('{}/{}', $.user_id, $.job_id)",
                       "arr.$": "States.Array($.engine, 2)"},
        "ResultPath": "$.p", "OutputPath": "$.p", "End": True}}}
    local, moto = both(local_engine, moto_engine, definition, JOB, Functions())
    assert_same(local, moto)
    assert local["output"] == {"job": "j1", "fixed": {"n": 1, "list": [1, "x"]}, "state": "P",
                               "label": "u1/j1", "arr": ["hpss", 2]}


def test_fail_state_static_error(local_engine, moto_engine):
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Job.Rejected", "Cause": "nope"}}}
    local, moto = both(local_engine, moto_engine, definition, {}, Functions())
    assert_same(local, moto)
    assert (local["status"], local["error"], local["cause"]) == ("FAILED", "Job.Rejected", "nope")


@pytest.mark.parametrize("case", ["happy", "cached", "separate_fails", "analysis_only"])
def test_audio_pipeline_definition(local_engine, moto_engine, case):
    from melody_dev.workflow import load_definition

    functions = {"ProbeFunctionArn": "probe", "SeparateFunctionArn": "separate", "AnalyseFunctionArn": "analyse",
                 "MelodyFunctionArn": "melody", "ReuseResultsFunctionArn": "reuse", "PersistFunctionArn": "persist",
                 "MarkFailedFunctionArn": "mark_failed",
                 "NeuralSeparateFunctionArn": "separate"}  # issue 14: the neural task (not taken for a dsp job)
    definition = load_definition(ASL_PATH, {k: fn_arn(v) for k, v in functions.items()})

    def separate(_p):
        if case == "separate_fails":
            raise AudioRejected("unsupported_format: The file is not audio.")
        return STEMS

    fns = Functions(
        probe=lambda p: {"content_hash": "h1", "cached": case == "cached", "duration_s": 30.0},
        separate=separate, analyse=lambda p: ANALYSIS,
        # The lead sheet's record (not an echo: the echoed state would carry moto's Parallel deviation).
        melody=lambda p: {"status": "succeeded", "notes_count": 12},
        reuse=lambda p: {"stems": STEMS, "analysis": ANALYSIS},
        persist=lambda p: {"job_id": p["job_id"], "result_key": "results/h1/hpss"},
        mark_failed=lambda p: {"job_id": p["job_id"], "code": "unsupported_format", "kind": "input"},
    )
    # issue 11: separate=false (a developer API analysis without stems) takes WantsStems → AnalyseOnly
    job = {**JOB, "separate": False} if case == "analysis_only" else JOB
    local, moto = both(local_engine, moto_engine, definition, job, fns)
    if case == "analysis_only":  # no Parallel: identical in both engines
        assert_same(local, moto)
        assert local["status"] == "SUCCEEDED" and local["call_order"] == ["probe", "analyse", "persist"]
        assert local["output"]["results"] == {"analysis": ANALYSIS}
        return
    if case == "separate_fails":
        assert_same(local, moto, ignore_calls_to=("analyse",))
        assert local["status"] == "FAILED" and local["error"] == "AudioRejected"
        assert local["call_order"][0] == "probe" and local["call_order"][-1] == "mark_failed"
        return
    assert local["status"] == "SUCCEEDED"
    assert local["output"]["results"] == {"stems": STEMS, "analysis": ANALYSIS}
    assert local["output"]["persisted"] == {"result": {"job_id": "j1", "result_key": "results/h1/hpss"}}
    assert local["call_order"][-1] == "persist"
    assert ("reuse" in local["call_order"]) == (case == "cached")
    if case == "cached":  # no Parallel: identical in both engines
        assert_same(local, moto)
        return
    # Process: moto wraps the Parallel ResultSelector's "$[0].stems" / "$[1].analysis" in lists, so
    # Persist (and the output) get lists there; the real Persist step would fail on moto.
    assert_same(local, moto, keys=("status", "error", "cause"))
    assert sorted(moto["call_order"]) == sorted(local["call_order"])
    expected = copy.deepcopy(local["output"])
    expected["results"] = moto_index_deviation(expected["results"])
    assert moto["output"] == expected, "moto now matches AWS: update README.md and this test"


# --------------------------------------------------------------------------------------------
# States.Runtime: AWS fails the execution; moto lets States.ALL catch it (deviation)
# --------------------------------------------------------------------------------------------

def _runtime_definition(where: str, catch_on: str) -> dict:
    task = invoke("probe", Catch=[{"ErrorEquals": [catch_on], "ResultPath": "$.error", "Next": "MarkFailed"}],
                  Next="Done")
    if where == "ResultSelector":
        task["ResultSelector"] = {"cached.$": "$.Payload.cached"}
    elif where == "Parameters":
        task["Parameters"] = {"FunctionName": fn_arn("probe"), "Payload": {"hash.$": "$.probe.content_hash"}}
    else:  # OutputPath
        task["OutputPath"] = "$.nothing"
    return {"StartAt": "Probe", "States": {
        "Probe": task,
        "Done": {"Type": "Succeed"},
        "MarkFailed": invoke("mark_failed", ResultPath=None, Next="Failed"),
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}}}


@pytest.mark.parametrize("where", ["ResultSelector", "Parameters", "OutputPath"])
@pytest.mark.parametrize("catch_on", ["States.ALL", "States.Runtime", "States.TaskFailed"])
def test_missing_path_is_states_runtime_and_not_caught(local_engine, moto_engine, where, catch_on):
    definition = _runtime_definition(where, catch_on)
    fns = Functions(probe=lambda p: {"content_hash": "h1"}, mark_failed=lambda p: {"ok": True})
    local, moto = both(local_engine, moto_engine, definition, JOB, fns)
    # AWS (Error handling, States.Runtime): not retriable, always fails the execution; a Retrier or
    # Catcher on States.ALL won't catch it. The local runner: no Catcher matches it, not even its name.
    assert local["status"] == "FAILED" and local["error"] == "States.Runtime"
    assert "could not be found" in local["cause"] or "Invalid path" in local["cause"]
    assert local["call_order"] == ([] if where == "Parameters" else ["probe"])
    assert moto["status"] == "FAILED" and moto["error"] == "States.Runtime"
    if where == "OutputPath" or catch_on == "States.TaskFailed":
        assert_same(local, moto, keys=("status", "error", "calls"))
    else:
        # moto deviation (README: "moto catches States.Runtime from Parameters/ResultSelector"): a
        # Catcher on States.ALL or States.Runtime runs MarkFailed; the execution then fails only
        # because moto's Fail state refuses the ErrorPath value "States.Runtime".
        assert moto["call_order"][-1] == "mark_failed", "moto now matches AWS: update README.md and this test"
        assert "MUST NOT begin with the prefix 'States.'" in moto["cause"]


# --------------------------------------------------------------------------------------------
# other deviations
# --------------------------------------------------------------------------------------------

def test_path_with_index_then_field(local_engine, moto_engine):
    """``$.a[0].b`` selects one value in AWS (a definite path); moto returns a one-element list."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"b.$": "$.a[0].b",
                                                                                "first.$": "$.a[0]"},
                                                 "End": True}}}
    local, moto = both(local_engine, moto_engine, definition, {"a": [{"b": 1}, {"b": 2}]}, Functions())
    assert local["output"] == {"b": 1, "first": {"b": 1}}
    assert moto["output"] == {"b": [1], "first": {"b": 1}}, "moto now matches AWS: update README.md and this test"


def test_lambda_invoke_result_shape(local_engine, moto_engine):
    """Without ResultSelector the whole Lambda Invoke response is the result: AWS gives ExecutedVersion,
    Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode; moto only Payload and StatusCode."""
    definition = {"StartAt": "T", "States": {"T": invoke("f", End=True)}}
    local, moto = both(local_engine, moto_engine, definition, {"x": 1}, Functions(f=lambda p: {"y": 2}))
    assert local["output"]["Payload"] == moto["output"]["Payload"] == {"y": 2}
    assert local["output"]["StatusCode"] == moto["output"]["StatusCode"] == 200
    assert set(local["output"]) == {"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata",
                                    "StatusCode"}
    assert set(moto["output"]) <= {"ExecutedVersion", "Payload", "StatusCode"}, \
        "moto now returns more of the response: update README.md and this test"
