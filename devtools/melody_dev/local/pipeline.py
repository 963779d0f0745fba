"""The pipeline in ``melody dev``: moto's S3 → EventBridge → SQS, polled into the local ASL runner.

The trigger path is the AWS one (an S3 "Object Created" event through an EventBridge rule), with
an SQS queue as the rule's target so that a thread here can pick the events up; the execution
runs ``statemachines/audio_pipeline.asl.json`` itself, through the same step code as the Lambdas.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from melody.conversions.trigger import upload_event_pattern
from melody.core.observability import logger

STATE_MACHINE = "audio_pipeline"
ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "audio_pipeline.asl.json"
STEP_FUNCTIONS = {
    "ProbeFunctionArn": "probe",
    "SeparateFunctionArn": "separate",
    "NeuralSeparateFunctionArn": "separate",  # AWS: its own (bigger) function; here the same step code
    "AnalyseFunctionArn": "analyse",
    "MelodyFunctionArn": "melody",
    "ReuseResultsFunctionArn": "reuse",
    "PersistFunctionArn": "persist",
    "MarkFailedFunctionArn": "mark_failed",
}


def _logged(name: str, method: Any):
    """A step as the local runner calls it; failures are logged as the Lambda runtime would."""

    def invoke(payload: dict, _context: Any) -> Any:
        try:
            return method(payload)
        except Exception as exc:
            if type(exc).__name__ == "AudioRejected":
                logger.info("step rejected the audio", extra={"step": name, "reason": str(exc)})
            else:
                logger.exception("step failed", extra={"step": name})
            raise

    return invoke


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` matches an EventBridge pattern of exact values (lists) and nested objects:
    the patterns this stack routes in-process (``ended_execution_pattern``)."""
    if not isinstance(event, dict):
        return False
    for field, wanted in pattern.items():
        value = event.get(field)
        if isinstance(wanted, dict):
            if not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True


def build_runner(steps: Any, *, max_workers: int = 2, rendition_steps: Any = None, reconciler: Any = None,
                 **machine_options: Any):
    """The local Step Functions with the audio pipeline (and the renditions machine beside it).

    ``reconciler`` (:class:`melody.conversions.reconcile.ExecutionReconciler`) stands in for the
    EventBridge rule on ended executions (infra: pipeline stack): the FAILED and TIMED_OUT executions
    of the pipeline (and of the renditions machine) go to it, through the same pattern, when they close."""
    from melody_dev.workflow import LocalStepFunctions, load_definition

    definition = load_definition(ASL_PATH, {k: f"melody-local-{v}" for k, v in STEP_FUNCTIONS.items()})
    resources = {f"melody-local-{name}": _logged(name, getattr(steps, name)) for name in STEP_FUNCTIONS.values()}
    definitions = {STATE_MACHINE: definition}
    if rendition_steps is not None:  # the renditions state machine beside it (melody_dev.local.renditions)
        from melody_dev.local.renditions import RENDITIONS_MACHINE, renditions_machine

        definitions[RENDITIONS_MACHINE], rendition_resources = renditions_machine(rendition_steps)
        resources.update(rendition_resources)
    rules: list[tuple[dict[str, Any], Any]] = []

    def on_close(event: dict[str, Any]) -> None:
        for pattern, target in rules:
            if matches(pattern, event):
                outcome = target(event)
                logger.info("ended execution", extra={"outcome": outcome, "execution": event["detail"]["name"]})

    runner = LocalStepFunctions(definitions, resources, max_workers=max_workers, on_close=on_close, **machine_options)
    if reconciler is not None:
        from melody.conversions.reconcile import ended_execution_pattern

        machines = [runner.state_machine_arn(name) for name in definitions]  # the pipeline (and renditions)
        rules.append((ended_execution_pattern(machines), reconciler.handle))
    return runner


class LocalPipeline:
    def __init__(self, settings: Any, jobs_services: Any) -> None:
        import boto3

        self._settings = settings
        self._services = jobs_services
        kw = {"region_name": settings.aws_region, "endpoint_url": settings.s3_endpoint_url}
        self._s3 = boto3.client("s3", **kw)
        self._events = boto3.client("events", **kw)
        self._sqs = boto3.client("sqs", **kw)
        self._stop = threading.Event()
        self.queue_url = ""

    def start(self) -> None:
        s = self._settings
        self._s3.put_bucket_notification_configuration(
            Bucket=s.uploads_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        self.queue_url = self._sqs.create_queue(QueueName="melody-pipeline-trigger", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # The same rule pattern CDK deploys (infra: pipeline stack).
        self._events.put_rule(Name="melody-uploads-created", EventPattern=json.dumps(upload_event_pattern(s.uploads_bucket)))
        self._events.put_targets(Rule="melody-uploads-created", Targets=[{"Id": "pipeline-trigger", "Arn": queue_arn}])
        threading.Thread(target=self._poll, name="pipeline-trigger", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        from melody.conversions.trigger import handle_object_created

        while not self._stop.is_set():
            try:
                batch = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the server is stopping, or a transient error: try again
                if self._stop.wait(1):
                    return
                continue
            for message in batch.get("Messages", []):
                try:
                    event = json.loads(message["Body"])
                    outcome = handle_object_created(event, self._services.jobs)
                    logger.info("upload event", extra={"outcome": outcome})
                    # One console line per event (dev only), e.g. for tests waiting on a replay's outcome.
                    key = str(((event.get("detail") or {}).get("object") or {}).get("key", ""))
                    print(f"melody dev: upload event key={key} outcome={outcome}", file=sys.stderr, flush=True)
                except Exception:
                    # Left on the queue: it comes back after the visibility timeout, as with Lambda.
                    logger.exception("pipeline trigger failed")
                    continue
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])




class _DeferredStarter:
    """Lets the services exist before the runner that needs their steps."""

    def __init__(self) -> None:
        self.target: Any = None

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        return self.target.start(name, payload)


def attach_local_pipeline(app: Any, settings: Any) -> LocalPipeline:
    """Give ``app``'s services a workflow starter, the S3 gateway and a running trigger → ASL runner."""
    from melody.core.s3 import s3_client
    from melody_dev.local.s3_gateway import build_gateway
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    Path(settings.work_dir).mkdir(parents=True, exist_ok=True)
    services = app.state.services
    starter = _DeferredStarter()
    services.use_workflow(starter)
    runner = build_runner(services.steps, rendition_steps=services.rendition_steps, reconciler=services.execution_reconciler)
    starter.target = LocalWorkflowStarter(runner, STATE_MACHINE)
    from melody_dev.local.renditions import RENDITIONS_MACHINE

    services.use_renditions_workflow(LocalWorkflowStarter(runner, RENDITIONS_MACHINE))
    app.state.pipeline_runner = runner
    app.include_router(build_gateway(settings, s3_client(settings.aws_region, settings.s3_endpoint_url)))
    pipeline = LocalPipeline(settings, services)
    pipeline.start()
    return pipeline
