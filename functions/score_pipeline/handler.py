"""The score pipeline's Lambdas: one entry point per state of ``statemachines/score_analysis.asl.json``
plus ``trigger`` for the S3 "Object Created" rule under ``uploads/scores/`` and ``reconcile`` for the
rule on the score machine's ended executions (FAILED, TIMED_OUT, ABORTED). ``analyse`` runs in the
score image (music21); ``trigger``, ``persist``, ``mark_failed`` and ``reconcile`` never import it.
"""

from aws_lambda_powertools.utilities.typing import LambdaContext

from melody.core.observability import logger, metrics, trace_handler
from melody.core.services import Services
from melody.core.settings import ScoreSettings
from melody.scores.trigger import handle_score_object_created

services = Services(ScoreSettings())


def _step(name: str):
    def run(event: dict, context: LambdaContext) -> dict:
        logger.append_keys(score_id=event.get("score_id"), step=name)
        return getattr(services.score_steps, name)(event)

    run.__name__ = name
    return logger.inject_lambda_context(log_event=False)(trace_handler(metrics.log_metrics(run)))


analyse = _step("analyse")
persist = _step("persist")
mark_failed = _step("mark_failed")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def trigger(event: dict, context: LambdaContext) -> dict:
    outcome = handle_score_object_created(event, services.scores)
    logger.info("score upload event", extra={"outcome": outcome})
    return {"outcome": outcome}


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def reconcile(event: dict, context: LambdaContext) -> dict:
    """EventBridge "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED of the score
    machine): fail the score an execution left running outside its Catch (idempotent)."""
    outcome = services.score_execution_reconciler.handle(event)
    logger.info("ended score execution", extra={"outcome": outcome})
    return {"outcome": outcome}
