"""statemachines/audio_pipeline.asl.json run through the interpreter with fake step functions."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from melody_dev.workflow import LocalStepFunctions, StateMachine, load_definition

ROOT = Path(__file__).resolve().parents[3]
ASL = ROOT / "statemachines" / "audio_pipeline.asl.json"
INPUT = json.loads((ROOT / "events" / "stepfunctions_pipeline_input.json").read_text())

SUBSTITUTIONS = {
    "ProbeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-probe",
    "ReuseResultsFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-reuse-results",
    "SeparateFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-separate",
    # issue 14: the neural engine's task (its own function in AWS); the same fake separate here
    "NeuralSeparateFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-separate",
    "AnalyseFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-analyse",
    "MelodyFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-melody",
    "PersistFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-persist",
    "MarkFailedFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:melody-mark-failed",
}


class AudioError(Exception):
    """What a step raises for audio it cannot handle (never retried)."""


class TooManyRequests(Exception):
    error_name = "Lambda.TooManyRequestsException"


STEMS = {"instrumental": "s3://media/h/instrumental.m4a", "vocals": "s3://media/h/vocals.m4a", "engine": "dsp"}
ANALYSIS = {"tempo_bpm": 120.0, "key": "A minor", "camelot": "8A"}


class Steps:
    """Fake step handlers recording each call; ``fail`` maps a step to exceptions to raise in order."""

    def __init__(self, cached=False, fail=None):
        self.cached = cached
        self.fail = {k: list(v) for k, v in (fail or {}).items()}
        self.calls: dict[str, list] = {}
        self.lock = threading.Lock()

    def _enter(self, step, payload):
        with self.lock:
            self.calls.setdefault(step, []).append(payload)
            pending = self.fail.get(step)
            exc = pending.pop(0) if pending else None
        if exc is not None:
            raise exc

    def probe(self, payload, ctx):
        self._enter("probe", payload)
        return {"content_hash": "sha256:abc", "cached": self.cached, "duration_s": 201.3}

    def reuse(self, payload, ctx):
        self._enter("reuse", payload)
        return {"stems": STEMS, "analysis": ANALYSIS}

    def separate(self, payload, ctx):
        self._enter("separate", payload)
        return STEMS

    def analyse(self, payload, ctx):
        self._enter("analyse", payload)
        return ANALYSIS

    def melody(self, payload, ctx):
        self._enter("melody", payload)
        return {"status": "succeeded", "notes_count": 3}

    def persist(self, payload, ctx):
        self._enter("persist", payload)
        return {"job_id": payload["job_id"], "status": "SUCCEEDED"}

    def mark_failed(self, payload, ctx):
        self._enter("mark_failed", payload)
        return {"job_id": payload["job_id"], "status": "FAILED"}

    def resources(self):
        return {
            SUBSTITUTIONS["ProbeFunctionArn"]: self.probe,
            SUBSTITUTIONS["ReuseResultsFunctionArn"]: self.reuse,
            SUBSTITUTIONS["SeparateFunctionArn"]: self.separate,
            SUBSTITUTIONS["AnalyseFunctionArn"]: self.analyse,
            SUBSTITUTIONS["MelodyFunctionArn"]: self.melody,
            SUBSTITUTIONS["PersistFunctionArn"]: self.persist,
            SUBSTITUTIONS["MarkFailedFunctionArn"]: self.mark_failed,
        }


def run(steps, sleeps=None):
    definition = load_definition(ASL, SUBSTITUTIONS)
    machine = StateMachine(definition, steps.resources(), name="audio-pipeline",
                           sleep=(sleeps if sleeps is not None else []).append, random=lambda: 0.5)
    return machine.execute(INPUT, name=INPUT["job_id"])


def test_definition_is_valid_and_every_placeholder_is_known():
    load_definition(ASL, SUBSTITUTIONS)  # strict: an unknown ${...} would raise
    text = ASL.read_text()
    for key in SUBSTITUTIONS:
        assert "${" + key + "}" in text


def test_happy_path():
    steps = Steps()
    ex = run(steps)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    out = ex.output
    for key in ("bucket", "key", "job_id", "user_id", "engine"):
        assert out[key] == INPUT[key]
    assert out["probe"] == {"content_hash": "sha256:abc", "cached": False}
    assert out["results"] == {"stems": STEMS, "analysis": ANALYSIS}
    assert out["persisted"] == {"result": {"job_id": "job_456", "status": "SUCCEEDED"}}
    assert steps.calls["probe"] == [INPUT]
    # both branches get the job fields and the probe result
    assert steps.calls["separate"][0]["probe"]["content_hash"] == "sha256:abc"
    assert steps.calls["analyse"][0]["engine"] == "dsp"
    assert steps.calls["persist"][0]["results"]["stems"] == STEMS
    assert "reuse" not in steps.calls and "mark_failed" not in steps.calls


def test_known_content_hash_reuses_results():
    steps = Steps(cached=True)
    ex = run(steps)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert "separate" not in steps.calls and "analyse" not in steps.calls
    assert steps.calls["reuse"][0]["probe"]["cached"] is True
    assert steps.calls["persist"][0]["results"] == {"stems": STEMS, "analysis": ANALYSIS}
    assert ex.output["job_id"] == "job_456"


def test_throttled_step_is_retried_then_succeeds():
    steps = Steps(fail={"analyse": [TooManyRequests("Rate exceeded")]})
    sleeps = []
    ex = run(steps, sleeps)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert len(steps.calls["analyse"]) == 2
    assert sleeps == [1.0]  # IntervalSeconds 2 with FULL jitter (random 0.5)
    retry = ex.events("RetryScheduled")
    assert [(e["state"], e["error"]) for e in retry] == [("Analyse", "Lambda.TooManyRequestsException")]
    assert "mark_failed" not in steps.calls


def test_throttling_beyond_max_attempts_marks_failed():
    steps = Steps(fail={"probe": [TooManyRequests("Rate exceeded")] * 5})
    sleeps = []
    ex = run(steps, sleeps)
    assert ex.status == "FAILED" and ex.error == "Lambda.TooManyRequestsException"
    assert len(steps.calls["probe"]) == 5 and sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(steps.calls["mark_failed"]) == 1


def test_audio_error_is_not_retried_marks_failed_once_and_fails():
    steps = Steps(fail={"separate": [AudioError("no audio stream")] * 10})
    sleeps = []
    ex = run(steps, sleeps)
    assert ex.status == "FAILED"
    assert ex.error == "AudioError"
    assert json.loads(ex.cause) == {"errorMessage": "no audio stream", "errorType": "AudioError"}
    assert len(steps.calls["separate"]) == 1 and sleeps == []
    assert len(steps.calls["mark_failed"]) == 1
    marked = steps.calls["mark_failed"][0]
    assert marked["job_id"] == "job_456" and marked["user_id"] == "usr_123"
    assert marked["error"]["Error"] == "AudioError"
    assert "persist" not in steps.calls


def test_probe_failure_skips_processing():
    steps = Steps(fail={"probe": [AudioError("not an mp3")]})
    ex = run(steps)
    assert ex.status == "FAILED" and ex.error == "AudioError"
    assert set(steps.calls) == {"probe", "mark_failed"}


def test_runs_through_the_local_runner():
    steps = Steps()
    definition = load_definition(ASL, SUBSTITUTIONS)
    with LocalStepFunctions({"audio-pipeline": definition}, steps.resources(), sleep=lambda s: None) as sfn:
        arn = sfn.start_execution("audio-pipeline", INPUT["job_id"], INPUT)
        desc = sfn.wait(arn, timeout=30)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["results"]["analysis"] == ANALYSIS


def test_sample_eventbridge_event_points_at_the_pipeline_input():
    event = json.loads((ROOT / "events" / "eventbridge_s3_object_created.json").read_text())
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == INPUT["bucket"]
    assert event["detail"]["object"]["key"] == INPUT["key"]


def _task_states(states: dict):
    for name, state in states.items():
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _task_states(branch["States"])
        if "Iterator" in state or "ItemProcessor" in state:
            yield from _task_states((state.get("ItemProcessor") or state["Iterator"])["States"])


def test_every_lambda_task_retries_the_transient_lambda_errors_and_never_bad_audio():
    """AWS's recommended Lambda retry set (service errors, throttling, client timeouts) on every task."""
    transient = {
        "Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
        "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
    }
    definition = json.loads(ASL.read_text())
    tasks = dict(_task_states(definition["States"]))
    assert tasks
    for name, state in tasks.items():
        retried = {e for r in state.get("Retry", []) for e in r["ErrorEquals"]}
        assert transient <= retried, name
        assert "States.ALL" not in retried and "AudioRejected" not in retried, name
