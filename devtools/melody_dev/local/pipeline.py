"""The pipeline in ``melody dev``: moto's S3 → EventBridge → SQS, polled into the local ASL runner.

The trigger path is the AWS one (an S3 "Object Created" event through an EventBridge rule), with
an SQS queue as the rule's target so that a thread here can pick the events up; the execution
runs ``statemachines/audio_pipeline.asl.json`` itself, through the same step code as the Lambdas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from melody.conversions.trigger import upload_event_pattern
from melody_dev.local.events import EndedExecutionRoutes, QueuedRuleTrigger, logged_step, matches

__all__ = ["ASL_PATH", "STATE_MACHINE", "LocalPipeline", "attach_local_pipeline", "build_runner", "matches"]

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
    return logged_step(name, method, rejected="AudioRejected", what="audio")


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
    routes = EndedExecutionRoutes()
    runner = LocalStepFunctions(definitions, resources, max_workers=max_workers, on_close=routes, **machine_options)
    if reconciler is not None:
        from melody.conversions.reconcile import ended_execution_pattern

        machines = [runner.state_machine_arn(name) for name in definitions]  # the pipeline (and renditions)
        routes.add(ended_execution_pattern(machines), reconciler.handle)
    return runner


class LocalPipeline:
    """The uploads bucket's EventBridge notifications on, and the upload rule (the pattern CDK deploys,
    infra: pipeline stack) → a polled queue → the same trigger code as the Lambda."""

    def __init__(self, settings: Any, jobs_services: Any) -> None:
        from melody.conversions.trigger import handle_object_created

        self._settings = settings
        self._trigger = QueuedRuleTrigger(
            settings,
            name="melody-pipeline",
            pattern=upload_event_pattern(settings.uploads_bucket),
            handle=lambda event: handle_object_created(event, jobs_services.jobs),
            label="upload",
        )

    @property
    def queue_url(self) -> str:
        return self._trigger.queue_url

    def start(self) -> None:
        import boto3

        s = self._settings
        boto3.client("s3", region_name=s.aws_region, endpoint_url=s.s3_endpoint_url).put_bucket_notification_configuration(
            Bucket=s.uploads_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        self._trigger.start()

    def stop(self) -> None:
        self._trigger.stop()


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
