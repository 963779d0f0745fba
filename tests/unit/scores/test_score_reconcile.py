"""Score analyses that end outside the machine's Catch: the score they left running is failed, once
(the pipeline's reconciler, given the scores as its only kind of record)."""

from __future__ import annotations

import json

import pytest

from melody.conversions import reconcile as reconcile_module
from melody.conversions.reconcile import ExecutionReconciler
from melody.scores.models import Score
from melody.scores.reconcile import SCORE_MESSAGES, score_reconciler
from melody.scores.service import workflow_input

MACHINE = "arn:aws:states:ap-south-1:123456789012:stateMachine:melody-prod-score-analysis"


class Clock:
    def now(self) -> float:
        return 1_700_000_500.0


class MemoryScores:
    """Scores by id, with the store's conditional transition (counted)."""

    def __init__(self, *scores: Score) -> None:
        self.items = {s.score_id: s for s in scores}
        self.transitions = 0

    def get(self, score_id):
        return self.items.get(score_id)

    def transition(self, score_id, *, allowed_from, changes):
        score = self.items.get(score_id)
        if score is None or score.status not in allowed_from:
            return False
        self.transitions += 1
        self.items[score_id] = Score.model_validate({**score.model_dump(), **changes})
        return True


def score(status: str = "processing", **extra) -> Score:
    return Score(score_id="scr_1", user_id="usr_1", status=status, filename="piece.musicxml", title="piece",
                 format="musicxml", content_type="application/vnd.recordare.musicxml+xml", size_bytes=100,
                 bucket="uploads", key="uploads/scores/usr_1/scr_1/piece.musicxml", original_bucket="media",
                 original_key="originals/scores/usr_1/scr_1/e/piece.musicxml",
                 created_at=1_700_000_000.0, updated_at=1_700_000_100.0, **extra)  # fmt: skip


def event(status: str = "FAILED", *, name: str | None = "scr_1", state: object = None, error: str | None = "States.Runtime") -> dict:
    """EventBridge's "Step Functions Execution Status Change" of the score machine (input: a JSON string)."""
    if state is None:
        state = workflow_input(score())
    detail = {
        "executionArn": f"{MACHINE.replace(':stateMachine:', ':execution:')}:{name}",
        "stateMachineArn": MACHINE,
        "name": name,
        "status": status,
        "input": state if isinstance(state, str) else json.dumps(state),
        "error": error,
        "cause": "The JSONPath '$.Payload.reused' specified for the field 'reused.$' could not be found in the input {...}",
    }
    return {"version": "0", "source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": detail}


def reconciler(scores: MemoryScores, marked: list[str] | None = None) -> ExecutionReconciler:
    return score_reconciler(scores, Clock(), on_marked=None if marked is None else marked.append)


@pytest.mark.parametrize(
    ("status", "code"),
    [("FAILED", "workflow_failed"), ("TIMED_OUT", "workflow_timed_out"), ("ABORTED", "workflow_aborted")],
)
def test_a_processing_score_is_failed_with_the_executions_code_and_its_file_kept(status, code):
    scores, marked = MemoryScores(score("processing")), []
    assert reconciler(scores, marked).handle(event(status)) == "marked"
    failed = scores.get("scr_1")
    assert (failed.status, failed.error.code, failed.finished_at) == ("failed", code, 1_700_000_500.0)
    assert failed.error.message == SCORE_MESSAGES[status] and "song" not in failed.error.message  # a score's words
    assert "JSONPath" not in failed.error.message and "States." not in failed.error.message  # no internals
    # the upload and its accepted original are kept: only the record changed
    assert (failed.key, failed.original_key) == (score().key, score().original_key)
    assert marked == [code]  # the failure metric, once


def test_a_queued_score_is_failed_too():
    scores = MemoryScores(score("queued"))
    assert reconciler(scores).handle(event("TIMED_OUT")) == "marked"
    assert scores.get("scr_1").error.code == "workflow_timed_out"


@pytest.mark.parametrize("status", ["failed", "succeeded", "awaiting_upload"])
def test_a_score_not_running_is_left_alone(status):
    """MarkFailed already failed it (every caught failure ends FAILED too), or Persist succeeded it."""
    before = score(status, error={"code": "score_corrupt", "message": "bad"} if status == "failed" else None)
    scores, marked = MemoryScores(before), []
    assert reconciler(scores, marked).handle(event("FAILED", error="ScoreFailed")) == "unchanged"
    assert scores.get("scr_1") == before and scores.transitions == 0 and marked == []


def test_a_duplicate_event_changes_nothing():
    scores, marked = MemoryScores(score("processing")), []
    handler = reconciler(scores, marked)
    assert handler.handle(event("FAILED")) == "marked"
    once = scores.get("scr_1")
    assert handler.handle(event("FAILED")) == "unchanged"
    assert handler.handle(event("ABORTED")) == "unchanged"
    assert scores.get("scr_1") == once and scores.transitions == 1 and marked == ["workflow_failed"]


def test_an_execution_of_another_name_is_stale():
    """The score machine's execution is named after the score: any other name is not this score's run."""
    scores = MemoryScores(score("processing"))
    assert reconciler(scores).handle(event(name="scr_1-r1")) == "stale"
    assert scores.get("scr_1").status == "processing"


def test_an_input_naming_another_user_or_an_unknown_score_changes_nothing():
    scores = MemoryScores(score("processing"))
    assert reconciler(scores).handle(event(state={**workflow_input(score()), "user_id": "usr_other"})) == "ignored"
    gone = {**workflow_input(score()), "score_id": "scr_gone"}
    assert reconciler(scores).handle(event(name="scr_gone", state=gone)) == "not_found"
    assert scores.get("scr_1").status == "processing" and scores.transitions == 0


def test_a_job_shaped_input_is_ignored_the_score_reconciler_has_no_jobs():
    scores = MemoryScores(score("processing"))
    state = {"job_id": "job_1", "user_id": "usr_1", "bucket": "b", "key": "k", "engine": "dsp"}
    assert reconciler(scores).handle(event(name="job_1", state=state)) == "ignored"
    assert scores.transitions == 0


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"detail": "nope"},
        {"detail": {"status": "FAILED"}},  # no input
        {"detail": {"status": "SUCCEEDED", "input": "{\"score_id\": \"scr_1\"}"}},  # not an ended status
        event(state="{not json"),
        event(state="[1, 2]"),
        event(state={"user_id": "usr_1"}),  # no score id
        event(state={"score_id": 7}),
        event(state={"score_id": ""}),
        [],
    ],
)
def test_malformed_events_are_ignored_with_a_log_not_a_crash(bad, monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(reconcile_module.logger, "warning", lambda message, **_: logged.append(message))
    scores = MemoryScores(score("processing"))
    assert reconciler(scores).handle(bad) == "ignored"
    assert scores.get("scr_1").status == "processing" and scores.transitions == 0
    assert logged and "ignored" in logged[0]


def test_a_reconciler_of_nothing_is_refused():
    with pytest.raises(ValueError, match="nothing to reconcile"):
        ExecutionReconciler(None, Clock())


def test_the_score_reconciler_is_domain_code():
    from tests.unit.test_house_rules import INFRASTRUCTURE, PACKAGE, imports_of, under

    assert sorted(n for n in imports_of(PACKAGE / "scores" / "reconcile.py") if under(n, INFRASTRUCTURE)) == []


# -- the local runner: the score machine's close events reach the reconciler ----------------------


class Steps:
    """The score steps as the machine calls them; ``analyse`` answers without ``reused``: the Analyse
    state's ResultSelector (``$.Payload.reused``) then matches nothing, a States.Runtime no Catch sees."""

    def __init__(self, scores: MemoryScores) -> None:
        self.scores = scores
        self.marked_by_catch = 0

    def analyse(self, state):
        self.scores.transition(state["score_id"], allowed_from={"queued"}, changes={"status": "processing"})
        return {"content_hash": "abc", "summary": {}}

    def persist(self, state):
        raise AssertionError("Persist must not run")

    def mark_failed(self, state):
        self.marked_by_catch += 1
        return {}


def run_local(reconcile: bool) -> tuple[dict, MemoryScores, Steps]:
    from melody_dev.local.scores import SCORE_MACHINE, build_score_runner

    scores = MemoryScores(score("queued"))
    steps = Steps(scores)
    runner = build_score_runner(steps, reconciler=reconciler(scores) if reconcile else None, sleep=lambda _s: None)
    try:
        arn = runner.start_execution(SCORE_MACHINE, name="scr_1", input=workflow_input(score()))
        execution = runner.wait(arn, timeout=60)
    finally:
        runner.shutdown()
    assert execution["status"] == "FAILED" and execution["error"] == "States.Runtime", execution
    assert steps.marked_by_catch == 0  # the Catch did not run
    return execution, scores, steps


def test_the_local_runner_routes_a_score_execution_ended_outside_its_catch_to_the_reconciler():
    _, scores, _ = run_local(reconcile=True)
    failed = scores.get("scr_1")
    assert failed.status == "failed" and failed.error.code == "workflow_failed"


def test_without_the_reconciler_such_a_score_stays_processing():
    """The gap the reconciler closes (and what AWS does without the rule)."""
    _, scores, _ = run_local(reconcile=False)
    assert scores.get("scr_1").status == "processing"
