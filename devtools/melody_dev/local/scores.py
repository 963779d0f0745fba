"""The score pipeline in ``melody dev``: moto's S3 → EventBridge (rule ``uploads/scores/``) → SQS,
polled into its own local ASL runner executing ``statemachines/score_analysis.asl.json`` through the
same step code as the Lambdas (``functions/score_pipeline/handler.py``). Its executions that end
outside their Catch go, when they close, to the score reconciler (AWS: the ended-executions rule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from melody.scores.trigger import handle_score_object_created, score_upload_event_pattern
from melody_dev.local.events import EndedExecutionRoutes, QueuedRuleTrigger, logged_step

SCORE_MACHINE = "score_analysis"
ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "score_analysis.asl.json"
STEP_FUNCTIONS = {
    "ScoreAnalyseFunctionArn": "analyse",
    "ScorePersistFunctionArn": "persist",
    "ScoreMarkFailedFunctionArn": "mark_failed",
}


def _logged(name: str, method: Any):
    return logged_step(name, method, rejected="ScoreRejected", what="score")


def build_score_runner(steps: Any, *, max_workers: int = 1, reconciler: Any = None, **machine_options: Any):
    """The local Step Functions with the score machine.

    ``reconciler`` (``melody.scores.reconcile.score_reconciler``) stands in for the EventBridge rule on
    the score machine's ended executions (infra: ``stacks/scores.py``): its FAILED, TIMED_OUT and
    ABORTED executions go to it, through the same pattern, when they close."""
    from melody_dev.workflow import LocalStepFunctions, load_definition

    definition = load_definition(ASL_PATH, {k: f"melody-local-score-{v}" for k, v in STEP_FUNCTIONS.items()})
    resources = {f"melody-local-score-{name}": _logged(name, getattr(steps, name)) for name in STEP_FUNCTIONS.values()}
    routes = EndedExecutionRoutes()
    runner = LocalStepFunctions({SCORE_MACHINE: definition}, resources, max_workers=max_workers, on_close=routes, **machine_options)
    if reconciler is not None:
        from melody.conversions.reconcile import ended_execution_pattern

        routes.add(ended_execution_pattern([runner.state_machine_arn(SCORE_MACHINE)]), reconciler.handle)
    return runner


class LocalScorePipeline:
    """The score upload rule (``uploads/scores/``; the audio pipeline already turned on the bucket's
    EventBridge notifications) → a polled queue → the same trigger code as the Lambda."""

    def __init__(self, settings: Any, services: Any) -> None:
        self._trigger = QueuedRuleTrigger(
            settings,
            name="melody-score",
            pattern=score_upload_event_pattern(settings.uploads_bucket),
            handle=lambda event: handle_score_object_created(event, services.scores),
            label="score upload",
        )

    @property
    def queue_url(self) -> str:
        return self._trigger.queue_url

    def start(self) -> None:
        self._trigger.start()

    def stop(self) -> None:
        self._trigger.stop()


def attach_local_scores(app: Any, settings: Any) -> tuple[Any, LocalScorePipeline]:
    """Give the services a score workflow starter (its own runner) and a running trigger; returns both."""
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    services = app.state.services
    runner = build_score_runner(services.score_steps, reconciler=services.score_execution_reconciler)
    services.use_score_workflow(LocalWorkflowStarter(runner, SCORE_MACHINE))
    app.state.score_runner = runner
    pipeline = LocalScorePipeline(settings, services)
    pipeline.start()
    return runner, pipeline
