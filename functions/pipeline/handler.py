"""The audio pipeline's Lambdas: one entry point per state of ``statemachines/audio_pipeline.asl.json``
(and ``rendition_*`` per state of ``statemachines/renditions.asl.json``)
plus ``trigger`` for the S3 "Object Created" EventBridge rule and ``reconcile`` for the rule on the
pipeline's ended executions (FAILED, TIMED_OUT, ABORTED). CDK points each function at one of
these names; all share this code package, the shared layer and the audio layer.
"""

from aws_lambda_powertools.utilities.typing import LambdaContext

from melody.conversions.trigger import handle_object_created
from melody.core.observability import logger, metrics, trace_handler
from melody.core.services import Services
from melody.core.settings import PipelineSettings

services = Services(PipelineSettings())


def _step(name: str):
    def run(event: dict, context: LambdaContext) -> dict:
        logger.append_keys(job_id=event.get("job_id"), step=name)
        return getattr(services.steps, name)(event)

    run.__name__ = name
    return logger.inject_lambda_context(log_event=False)(
        trace_handler(metrics.log_metrics(run))
    )


probe = _step("probe")
separate = _step("separate")
analyse = _step("analyse")
melody = _step("melody")
reuse = _step("reuse")
persist = _step("persist")
mark_failed = _step("mark_failed")


def _rendition_step(name: str):
    """A state of ``statemachines/renditions.asl.json`` (``services.rendition_steps``)."""

    def run(event: dict, context: LambdaContext) -> dict:
        logger.append_keys(rendition_id=event.get("rendition_id"), step=f"rendition_{name}")
        return getattr(services.rendition_steps, name)(event)

    run.__name__ = f"rendition_{name}"
    return logger.inject_lambda_context(log_event=False)(trace_handler(metrics.log_metrics(run)))


rendition_prepare = _rendition_step("prepare")
rendition_render = _rendition_step("render")
rendition_persist = _rendition_step("persist")
rendition_mark_failed = _rendition_step("mark_failed")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def trigger(event: dict, context: LambdaContext) -> dict:
    outcome = handle_object_created(event, services.jobs)
    logger.info("upload event", extra={"outcome": outcome})
    return {"outcome": outcome}


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def reconcile(event: dict, context: LambdaContext) -> dict:
    """EventBridge "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED of the audio
    pipeline): fail the job an execution left running outside its Catch (idempotent)."""
    outcome = services.execution_reconciler.handle(event)
    logger.info("ended execution", extra={"outcome": outcome})
    return {"outcome": outcome}
