"""statemachines/renditions.asl.json in the local ASL runner, over recording fake steps."""

from __future__ import annotations

import threading

import pytest

from melody.conversions.steps import AudioRejected


class RecordingSteps:
    def __init__(self, fail_stem: str | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._fail_stem = fail_stem

    def _log(self, name: str, state: dict) -> None:
        with self._lock:
            self.calls.append((name, state))

    def prepare(self, state):
        self._log("prepare", state)
        return {"rendition_id": state["rendition_id"]}

    def render(self, state):
        self._log("render", state)
        if state["stem"] == self._fail_stem:
            raise AudioRejected("corrupt_audio", "The stem could not be decoded.")
        return {"stem": state["stem"], "key": f"renditions/h/dsp/-2_0.90/{state['stem']}.m4a"}

    def persist(self, state):
        self._log("persist", state)
        return {"rendition_id": state["rendition_id"], "changed": True}

    def mark_failed(self, state):
        self._log("mark_failed", state)
        return {"rendition_id": state["rendition_id"], "code": "x"}


INPUT = {"rendition_id": "rnd_1", "result_key": "h#dsp", "semitones": -2, "tempo": 0.9, "attempt": 0}


def run(steps):
    from melody_dev.local.renditions import RENDITIONS_MACHINE, build_renditions_runner

    runner = build_renditions_runner(steps, sleep=lambda _s: None)
    try:
        arn = runner.start_execution(RENDITIONS_MACHINE, name="rnd_1", input=INPUT)
        return runner.wait(arn, timeout=30)
    finally:
        runner.shutdown()


def test_both_stems_are_rendered_in_parallel_then_persisted_with_their_keys():
    steps = RecordingSteps()
    execution = run(steps)
    assert execution["status"] == "SUCCEEDED", execution
    names = [name for name, _ in steps.calls]
    assert names[0] == "prepare" and names[-1] == "persist" and sorted(names[1:3]) == ["render", "render"]
    assert sorted(state["stem"] for name, state in steps.calls if name == "render") == ["instrumental", "vocals"]
    persisted = steps.calls[-1][1]
    assert persisted["stems"] == {
        "instrumental_key": "renditions/h/dsp/-2_0.90/instrumental.m4a",
        "vocals_key": "renditions/h/dsp/-2_0.90/vocals.m4a",
    }
    assert {k: persisted[k] for k in INPUT} == INPUT


@pytest.mark.parametrize("stem", ["instrumental", "vocals"])
def test_a_failing_stem_marks_the_rendition_failed_with_the_error(stem):
    steps = RecordingSteps(fail_stem=stem)
    execution = run(steps)
    assert execution["status"] == "FAILED"
    failed = [state for name, state in steps.calls if name == "mark_failed"]
    assert len(failed) == 1 and failed[0]["error"]["Error"] == "AudioRejected"
    assert "corrupt_audio" in failed[0]["error"]["Cause"]
    assert "persist" not in [name for name, _ in steps.calls]
