"""The Melody state of ``statemachines/audio_pipeline.asl.json`` in the local runner: after the stems
and analysis exist, before Persist; its failure is caught and the job still succeeds."""

from __future__ import annotations

import json

from melody_dev.workflow import StateMachine, load_definition
from tests.unit.workflow.test_audio_pipeline_asl import (
    ASL,
    INPUT,
    STEMS,
    SUBSTITUTIONS,
    AudioError,
    Steps,
    TooManyRequests,
)


def run(steps, sleeps=None):
    # not strict: states other features add (with their own placeholders) are not on these paths
    definition = load_definition(ASL, SUBSTITUTIONS, strict=False)
    machine = StateMachine(definition, steps.resources(), name="audio-pipeline",
                           sleep=(sleeps if sleeps is not None else []).append, random=lambda: 0.5)
    return machine.execute(INPUT, name=INPUT["job_id"])


def test_melody_runs_after_process_and_persist_gets_its_record():
    steps = Steps()
    ex = run(steps)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    # it sees the stems and the analysis (its inputs) and Persist sees its record
    assert steps.calls["melody"][0]["results"]["stems"] == STEMS
    assert steps.calls["persist"][0]["melody"] == {"record": {"status": "succeeded", "notes_count": 3}}
    assert "melody_error" not in steps.calls["persist"][0]


def test_a_failing_melody_step_is_caught_and_the_job_succeeds():
    steps = Steps(fail={"melody": [AudioError("empty_audio: silent")]})
    ex = run(steps)
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    persisted = steps.calls["persist"][0]
    assert persisted["melody_error"]["Error"] == "AudioError" and "melody" not in persisted
    assert "mark_failed" not in steps.calls and len(steps.calls["melody"]) == 1  # bad audio: no retry


def test_a_throttled_melody_step_is_retried():
    steps = Steps(fail={"melody": [TooManyRequests()]})
    ex = run(steps, sleeps=[])
    assert ex.status == "SUCCEEDED" and len(steps.calls["melody"]) == 2
    assert steps.calls["persist"][0]["melody"]["record"]["status"] == "succeeded"


def test_cached_results_skip_the_melody_step():
    steps = Steps(cached=True)
    assert run(steps).status == "SUCCEEDED" and "melody" not in steps.calls


def test_melody_is_wired_between_process_and_persist():
    states = json.loads(ASL.read_text())["States"]
    assert states["Process"]["Next"] == "Melody" and states["Melody"]["Next"] == "Persist"
    assert states["Melody"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.melody_error", "Next": "Persist"}]
