"""Executions that end outside the pipeline's Catch: the job they left running is failed, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from melody.conversions import reconcile as reconcile_module
from melody.conversions.models import Job
from melody.conversions.reconcile import (
    ExecutionReconciler,
    Tracked,
    ended_execution_pattern,
    parse_status_change,
)
from melody.renditions.models import Rendition
from melody.renditions.models import execution_name as rendition_execution_name

ROOT = Path(__file__).resolve().parents[3]
MACHINE = "arn:aws:states:ap-south-1:123456789012:stateMachine:melody-prod-audio-pipeline"


class Clock:
    def now(self) -> float:
        return 1_700_000_500.0


class MemoryJobs:
    """Jobs or renditions by id, with the stores' conditional transition."""

    def __init__(self, *records) -> None:
        self.items = {getattr(r, "job_id", None) or r.rendition_id: r for r in records}
        self.transitions = 0

    def get(self, record_id):
        return self.items.get(record_id)

    def transition(self, record_id, *, allowed_from, changes, expected_attempt=None):
        record = self.items.get(record_id)
        if record is None or record.status not in allowed_from:
            return False
        if expected_attempt is not None and record.attempt != expected_attempt:
            return False
        self.transitions += 1
        self.items[record_id] = type(record).model_validate({**record.model_dump(), **changes})
        return True


def job(status: str = "processing", *, job_id: str = "job_1", attempt: int = 0, **extra) -> Job:
    return Job(job_id=job_id, user_id="usr_1", status=status, bucket="uploads", key=f"uploads/usr_1/{job_id}/a.wav",
               original_bucket="media", original_key=f"originals/usr_1/{job_id}/e/a.wav", attempt=attempt,
               created_at=1_700_000_000.0, updated_at=1_700_000_100.0, **extra)  # fmt: skip


def event(status: str = "FAILED", *, name: str | None = "job_1", state: object = None, error: str = "States.Runtime") -> dict:
    """EventBridge's "Step Functions Execution Status Change" (the input is a JSON string)."""
    if state is None:
        state = {"bucket": "media", "key": "originals/usr_1/job_1/e/a.wav", "job_id": "job_1", "user_id": "usr_1", "engine": "dsp"}
    detail = {
        "executionArn": f"{MACHINE.replace(':stateMachine:', ':execution:')}:{name}",
        "stateMachineArn": MACHINE,
        "name": name,
        "status": status,
        "startDate": 1_700_000_000_000,
        "stopDate": 1_700_000_400_000,
        "input": state if isinstance(state, str) else json.dumps(state),
        "output": None,
        "error": error,
        "cause": "The JSONPath '$.Payload.cached' specified for the field 'cached.$' could not be found in the input {...}",
    }
    return {"version": "0", "source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": detail}


class Hooks:
    def __init__(self) -> None:
        self.steps: list[tuple] = []
        self.failures: list[tuple] = []

    def reconciler(self, jobs) -> ExecutionReconciler:
        return ExecutionReconciler(jobs, Clock(), on_step=lambda *a: self.steps.append(a),
                                   on_failure=lambda *a: self.failures.append(a))  # fmt: skip


@pytest.mark.parametrize(
    ("status", "code"),
    [("FAILED", "workflow_failed"), ("TIMED_OUT", "workflow_timed_out"), ("ABORTED", "workflow_aborted")],
)
def test_a_running_job_is_failed_with_the_executions_code(status, code):
    jobs, hooks = MemoryJobs(job("processing")), Hooks()
    assert hooks.reconciler(jobs).handle(event(status)) == "marked"
    failed = jobs.get("job_1")
    assert (failed.status, failed.error.code, failed.finished_at) == ("failed", code, 1_700_000_500.0)
    assert "JSONPath" not in failed.error.message and "States." not in failed.error.message  # no internals
    # the original is kept (the job stays retryable): the reconciler touches the job record only
    assert failed.original_key == "originals/usr_1/job_1/e/a.wav"
    # MarkFailed's metrics: one pipeline failure, a system one (not the upload's fault)
    assert hooks.steps == [("pipeline", "failed", 0.0)] and hooks.failures == [("system", code)]


def test_a_queued_job_is_failed_too():
    jobs = MemoryJobs(job("queued"))
    assert ExecutionReconciler(jobs, Clock()).handle(event("TIMED_OUT")) == "marked"
    assert jobs.get("job_1").error.code == "workflow_timed_out"


@pytest.mark.parametrize("status", ["failed", "succeeded"])
def test_a_finished_job_is_left_alone(status):
    """MarkFailed already failed it (every caught failure ends FAILED too), or Persist succeeded it."""
    before = job(status, error={"code": "corrupt_audio", "message": "bad"} if status == "failed" else None)
    jobs, hooks = MemoryJobs(before), Hooks()
    assert hooks.reconciler(jobs).handle(event("FAILED", error="AudioRejected")) == "unchanged"
    assert jobs.get("job_1") == before and jobs.transitions == 0
    assert hooks.failures == [] and hooks.steps == []


def test_a_duplicate_event_changes_nothing():
    jobs, hooks = MemoryJobs(job("processing")), Hooks()
    reconciler = hooks.reconciler(jobs)
    assert reconciler.handle(event("FAILED")) == "marked"
    marked = jobs.get("job_1")
    assert reconciler.handle(event("FAILED")) == "unchanged"
    assert reconciler.handle(event("ABORTED")) == "unchanged"
    assert jobs.get("job_1") == marked and jobs.transitions == 1 and len(hooks.failures) == 1


def test_an_earlier_attempts_execution_leaves_the_retried_job_alone():
    """A retried job runs as ``<job id>-r<n>``: a late event of the first execution must not fail it."""
    jobs = MemoryJobs(job("processing", attempt=1))
    reconciler = ExecutionReconciler(jobs, Clock())
    assert reconciler.handle(event("FAILED", name="job_1")) == "stale"
    assert jobs.get("job_1").status == "processing"
    assert reconciler.handle(event("FAILED", name="job_1-r1")) == "marked"


class RetriedWhileReconciling(MemoryJobs):
    """The race: the reconciler reads attempt 0 ``processing``; before its write, MarkFailed fails the
    job and its user retries it (attempt 1, ``queued``, its own execution ``<id>-r1`` starting)."""

    def __init__(self, before, retried) -> None:
        super().__init__(before)
        self.retried = retried

    def transition(self, record_id, **kwargs):
        if self.retried is not None:
            self.items[record_id], self.retried = self.retried, None
        return super().transition(record_id, **kwargs)


def test_a_job_retried_between_the_read_and_the_write_is_not_failed():
    jobs, hooks = RetriedWhileReconciling(job("processing"), job("queued", attempt=1)), Hooks()
    assert hooks.reconciler(jobs).handle(event("FAILED", name="job_1")) == "stale"
    retried = jobs.get("job_1")
    assert (retried.status, retried.attempt, retried.error) == ("queued", 1, None) and jobs.transitions == 0
    assert hooks.failures == [] and hooks.steps == []


def test_an_input_naming_another_user_is_ignored():
    jobs = MemoryJobs(job("processing"))
    state = {"job_id": "job_1", "user_id": "usr_other", "bucket": "b", "key": "k", "engine": "dsp"}
    assert ExecutionReconciler(jobs, Clock()).handle(event(state=state)) == "ignored"
    assert jobs.get("job_1").status == "processing"


def test_an_unknown_job_is_not_found():
    state = {"job_id": "job_gone", "user_id": "usr_1", "bucket": "b", "key": "k", "engine": "dsp"}
    assert ExecutionReconciler(MemoryJobs(), Clock()).handle(event(name="job_gone", state=state)) == "not_found"


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"detail": "nope"},
        {"detail": {"status": "FAILED"}},  # no input
        {"detail": {"status": "SUCCEEDED", "input": "{\"job_id\": \"job_1\"}"}},  # not an ended status
        {"detail": {"status": "RUNNING", "input": "{}"}},
        event(state="{not json"),
        event(state="[1, 2]"),
        event(state={"user_id": "usr_1"}),  # no job id
        event(state={"job_id": 7}),
        event(state={"job_id": ""}),
        [],
    ],
)
def test_malformed_events_are_ignored_with_a_log_not_a_crash(bad, monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(reconcile_module.logger, "warning", lambda message, **_: logged.append(message))
    jobs = MemoryJobs(job("processing"))
    assert ExecutionReconciler(jobs, Clock()).handle(bad) == "ignored"
    assert jobs.get("job_1").status == "processing" and jobs.transitions == 0
    assert logged and "ignored" in logged[0]


def test_the_cause_is_never_logged(monkeypatch):
    """A States.Runtime cause quotes the state's data (bucket keys, user ids): only the error name is logged."""
    logged: list[dict] = []
    monkeypatch.setattr(reconcile_module.logger, "warning", lambda message, **kw: logged.append(kw.get("extra", {})))
    ExecutionReconciler(MemoryJobs(job("processing")), Clock()).handle(event())
    assert logged and all("JSONPath" not in json.dumps(extra) for extra in logged)
    assert logged[-1]["execution_error"] == "States.Runtime"


def test_parse_reads_the_input_json_string():
    ended = parse_status_change(event("ABORTED", name="job_1-r2", error=None))
    assert ended is not None
    assert (ended.status, ended.name, ended.error, ended.input["job_id"]) == ("ABORTED", "job_1-r2", None, "job_1")


def test_the_rule_pattern_names_the_ended_statuses_of_the_given_machines():
    assert ended_execution_pattern([MACHINE]) == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["ABORTED", "FAILED", "TIMED_OUT"], "stateMachineArn": [MACHINE]},
    }


def test_the_reconciler_is_domain_code():
    from tests.unit.test_house_rules import INFRASTRUCTURE, PACKAGE, imports_of, under

    assert sorted(n for n in imports_of(PACKAGE / "conversions" / "reconcile.py") if under(n, INFRASTRUCTURE)) == []


# -- the renditions machine's records (``rendition_id`` inputs) ---------------------------------------


def rendition(status: str = "processing", attempt: int = 0) -> Rendition:
    return Rendition(rendition_id="rnd_1", result_key="abc#dsp", semitones=2, tempo=1.0, status=status,
                     attempt=attempt, created_at=1_700_000_000.0, updated_at=1_700_000_100.0)  # fmt: skip


def with_renditions(jobs, renditions, marked: list[str]) -> ExecutionReconciler:
    tracked = Tracked("rendition_id", renditions, rendition_execution_name, on_marked=marked.append,
                      attempt_of=lambda r: r.attempt)  # as melody.core.services wires it  # fmt: skip
    return ExecutionReconciler(jobs, Clock(), also=(tracked,))


def rendition_event(status: str = "FAILED", name: str = "rnd_1") -> dict:
    state = {"rendition_id": "rnd_1", "result_key": "abc#dsp", "semitones": 2, "tempo": 1.0, "attempt": 0}
    return event(status, name=name, state=state)


def test_a_running_rendition_is_failed_once_and_no_job_is_touched():
    jobs, renditions, marked = MemoryJobs(job("processing")), MemoryJobs(rendition("processing")), []
    reconciler = with_renditions(jobs, renditions, marked)
    assert reconciler.handle(rendition_event("TIMED_OUT")) == "marked"
    assert reconciler.handle(rendition_event("TIMED_OUT")) == "unchanged"  # a duplicate
    failed = renditions.get("rnd_1")
    assert (failed.status, failed.error.code) == ("failed", "workflow_timed_out") and marked == ["workflow_timed_out"]
    assert jobs.get("job_1").status == "processing" and jobs.transitions == 0


def test_a_finished_or_retried_rendition_is_left_alone():
    marked: list[str] = []
    done = MemoryJobs(rendition("succeeded"))
    assert with_renditions(MemoryJobs(), done, marked).handle(rendition_event()) == "unchanged"
    retried = MemoryJobs(rendition("queued", attempt=1))
    assert with_renditions(MemoryJobs(), retried, marked).handle(rendition_event(name="rnd_1")) == "stale"
    assert marked == [] and retried.get("rnd_1").status == "queued"


def test_a_rendition_asked_for_again_between_the_read_and_the_write_is_not_failed():
    marked: list[str] = []
    renditions = RetriedWhileReconciling(rendition("processing"), rendition("queued", attempt=1))
    assert with_renditions(MemoryJobs(), renditions, marked).handle(rendition_event()) == "stale"
    assert renditions.get("rnd_1").status == "queued" and marked == []
