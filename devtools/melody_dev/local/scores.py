"""The score pipeline in ``melody dev``: moto's S3 → EventBridge (rule ``uploads/scores/``) → SQS,
polled into its own local ASL runner executing ``statemachines/score_analysis.asl.json`` through the
same step code as the Lambdas (``functions/score_pipeline/handler.py``). Its executions that end
outside their Catch go, when they close, to the score reconciler (AWS: the ended-executions rule).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from melody.core.observability import logger
from melody.scores.trigger import handle_score_object_created, score_upload_event_pattern

SCORE_MACHINE = "score_analysis"
ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "score_analysis.asl.json"
STEP_FUNCTIONS = {
    "ScoreAnalyseFunctionArn": "analyse",
    "ScorePersistFunctionArn": "persist",
    "ScoreMarkFailedFunctionArn": "mark_failed",
}


def _logged(name: str, method: Any):
    def invoke(payload: dict, _context: Any) -> Any:
        try:
            return method(payload)
        except Exception as exc:
            if type(exc).__name__ == "ScoreRejected":
                logger.info("score step rejected the file", extra={"step": name, "reason": str(exc)})
            else:
                logger.exception("score step failed", extra={"step": name})
            raise

    return invoke


def build_score_runner(steps: Any, *, max_workers: int = 1, reconciler: Any = None, **machine_options: Any):
    """The local Step Functions with the score machine.

    ``reconciler`` (``melody.scores.reconcile.score_reconciler``) stands in for the EventBridge rule on
    the score machine's ended executions (infra: ``stacks/scores.py``): its FAILED, TIMED_OUT and
    ABORTED executions go to it, through the same pattern, when they close."""
    from melody_dev.local.pipeline import matches
    from melody_dev.workflow import LocalStepFunctions, load_definition

    definition = load_definition(ASL_PATH, {k: f"melody-local-score-{v}" for k, v in STEP_FUNCTIONS.items()})
    resources = {f"melody-local-score-{name}": _logged(name, getattr(steps, name)) for name in STEP_FUNCTIONS.values()}
    rules: list[tuple[dict[str, Any], Any]] = []

    def on_close(event: dict[str, Any]) -> None:
        for pattern, target in rules:
            if matches(pattern, event):
                outcome = target(event)
                logger.info("ended score execution", extra={"outcome": outcome, "execution": event["detail"]["name"]})

    runner = LocalStepFunctions({SCORE_MACHINE: definition}, resources, max_workers=max_workers, on_close=on_close, **machine_options)
    if reconciler is not None:
        from melody.conversions.reconcile import ended_execution_pattern

        rules.append((ended_execution_pattern([runner.state_machine_arn(SCORE_MACHINE)]), reconciler.handle))
    return runner


class LocalScorePipeline:
    def __init__(self, settings: Any, services: Any) -> None:
        import boto3

        self._settings = settings
        self._services = services
        kw = {"region_name": settings.aws_region, "endpoint_url": settings.s3_endpoint_url}
        self._events = boto3.client("events", **kw)
        self._sqs = boto3.client("sqs", **kw)
        self._stop = threading.Event()
        self.queue_url = ""

    def start(self) -> None:
        s = self._settings
        # The audio pipeline already turned on the bucket's EventBridge notifications.
        self.queue_url = self._sqs.create_queue(QueueName="melody-score-trigger", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._events.put_rule(Name="melody-score-uploads-created", EventPattern=json.dumps(score_upload_event_pattern(s.uploads_bucket)))
        self._events.put_targets(Rule="melody-score-uploads-created", Targets=[{"Id": "score-trigger", "Arn": arn}])
        threading.Thread(target=self._poll, name="score-trigger", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:
                if self._stop.wait(1):
                    return
                continue
            for message in batch.get("Messages", []):
                try:
                    event = json.loads(message["Body"])
                    outcome = handle_score_object_created(event, self._services.scores)
                    key = str(((event.get("detail") or {}).get("object") or {}).get("key", ""))
                    print(f"melody dev: score upload event key={key} outcome={outcome}", file=sys.stderr, flush=True)
                except Exception:
                    logger.exception("score trigger failed")  # left on the queue: redelivered, as with Lambda
                    continue
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


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
