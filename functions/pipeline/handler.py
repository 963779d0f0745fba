"""The audio pipeline's Lambdas: one entry point per state of ``statemachines/audio_pipeline.asl.json``
plus ``trigger`` for the S3 "Object Created" EventBridge rule. CDK points each function at one of
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
reuse = _step("reuse")
persist = _step("persist")
mark_failed = _step("mark_failed")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def trigger(event: dict, context: LambdaContext) -> dict:
    outcome = handle_object_created(event, services.jobs)
    logger.info("upload event", extra={"outcome": outcome})
    return {"outcome": outcome}
