"""A score analysis that ends outside the Catch (States.Runtime: no Retry or Catch applies) still fails
its score: the local runner's stand-in for the EventBridge rule on the score machine's ended executions
(moto, the real score engine, the services' reconciler on the scores table)."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest

pytest.importorskip("music21")

from tests.integration.scores.test_score_pipeline import PIECE, run, upload  # noqa: E402
from tests.unit.scores.builders import satb, write  # noqa: E402

pytestmark = pytest.mark.integration


def without_reused(analyse):
    """Analyse's payload without ``reused``: the Analyse state's ResultSelector (``$.Payload.reused``)
    then matches nothing, a States.Runtime that skips MarkFailed."""

    def step(payload):
        result = dict(analyse(payload))
        result.pop("reused")
        return result

    return step


@pytest.fixture()
def services(dev_settings, tmp_path):
    from melody.core.services import Services

    services = Services(dev_settings.model_copy(update={"work_dir": tmp_path}))
    yield services
    runner = getattr(services, "runner", None)
    if runner is not None:
        runner.shutdown()


def start_runner(services, *, reconcile: bool) -> None:
    from melody_dev.local.scores import SCORE_MACHINE, build_score_runner
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    reconciler = services.score_execution_reconciler if reconcile else None
    services.runner = build_score_runner(services.score_steps, reconciler=reconciler, sleep=lambda _s: None)
    services.use_score_workflow(LocalWorkflowStarter(services.runner, SCORE_MACHINE))


def runtime_failure(services, user_id: str, tmp_path, *, reconcile: bool):
    steps = services.score_steps
    steps.analyse = without_reused(steps.analyse)  # instance attribute shadows the method
    start_runner(services, reconcile=reconcile)  # after the patch: the runner binds the steps it is given
    # unique bytes: never the reuse of another test's analysis
    body = write(satb(PIECE, title=f"Reconcile {uuid.uuid4().hex[:8]}"), tmp_path / "piece.musicxml").read_bytes()
    score = upload(services, user_id, body, "piece.musicxml")
    outcome, execution = run(services, score)
    assert outcome == "started"
    assert execution["status"] == "FAILED" and execution["error"] == "States.Runtime", execution
    history = services.runner.get_execution(execution["executionArn"]).history
    assert "MarkFailed" not in {e.get("state") for e in history}  # the Catch did not run
    return score


def test_a_states_runtime_execution_leaves_the_score_failed_and_keeps_its_file(services, tmp_path):
    score = runtime_failure(services, "usr_screc1", tmp_path, reconcile=True)
    failed = services.scores.get_for_user("usr_screc1", score.score_id)
    assert failed.status == "failed" and failed.error.code == "workflow_failed" and failed.finished_at is not None
    assert services.storage.head(score.bucket, score.key) is not None  # the upload is kept
    assert services.storage.head(failed.original_bucket, failed.original_key) is not None  # and its original


def test_without_the_reconciler_such_a_score_stays_processing(services, tmp_path):
    """The gap the reconciler closes (and what AWS does without the rule)."""
    score = runtime_failure(services, "usr_screc2", tmp_path, reconcile=False)
    assert services.scores.get_for_user("usr_screc2", score.score_id).status == "processing"


def test_a_caught_failure_keeps_mark_faileds_code(services):
    """Every caught failure also ends FAILED: the reconciler then finds the score failed and leaves its code."""
    start_runner(services, reconcile=True)
    score = upload(services, "usr_screc3", b"this is not xml", "notxml.musicxml")
    _, execution = run(services, score)
    assert execution["status"] == "FAILED"
    assert services.scores.get_for_user("usr_screc3", score.score_id).error.code == "score_corrupt"


def test_the_services_reconciler_is_idempotent_on_the_scores_table(services):
    """The Lambda's reconciler (``handler.reconcile``) on DynamoDB: marks once, then changes nothing."""
    from melody.scores.dynamodb import DynamoScoreStore
    from melody.scores.service import workflow_input

    score, _ = services.scores.create_upload("usr_screc4", filename="a.abc", size_bytes=20)
    store = DynamoScoreStore()
    assert store.transition(score.score_id, allowed_from={"awaiting_upload"}, changes={"status": "processing"})
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
             "detail": {"status": "ABORTED", "name": score.score_id, "input": json.dumps(workflow_input(score))}}  # fmt: skip
    reconciler = services.score_execution_reconciler
    assert reconciler.handle(event) == "marked"
    failed = store.get(score.score_id)
    assert failed.status == "failed" and failed.error.code == "workflow_aborted"
    assert reconciler.handle(event) == "unchanged"


def test_the_dev_stack_routes_ended_score_executions_to_the_reconciler(monkeypatch):
    """``attach_local_scores`` (``melody dev``) gives its runner the services' score reconciler."""
    import melody_dev.local.scores as local

    seen: dict = {}

    def fake_build_score_runner(steps, **options):
        seen.update(options)
        return SimpleNamespace()

    monkeypatch.setattr(local, "build_score_runner", fake_build_score_runner)
    monkeypatch.setattr(local, "LocalScorePipeline", lambda settings, services: SimpleNamespace(start=lambda: None))
    reconciler = object()
    services = SimpleNamespace(score_steps=object(), score_execution_reconciler=reconciler, use_score_workflow=lambda w: None)
    app = SimpleNamespace(state=SimpleNamespace(services=services))
    local.attach_local_scores(app, SimpleNamespace())
    assert seen["reconciler"] is reconciler
