"""Score analyses that end outside the state machine's Catch: the score they leave running is failed.

``statemachines/score_analysis.asl.json`` fails a score through its Catch (``MarkFailed``). An
execution can still end without it, as the audio pipeline's can: ``States.Runtime`` (a
ResultSelector path that matches nothing), the machine's ``TimeoutSeconds`` (TIMED_OUT), a
``StopExecution`` (ABORTED), or MarkFailed itself failing; the score would stay ``processing`` for
ever. The same EventBridge status-change events (a rule on the score machine only) reach the same
reconciler as the pipeline's (:mod:`melody.conversions.reconcile`), given the scores as its only
kind of record: same codes (``workflow_failed`` / ``workflow_timed_out`` / ``workflow_aborted``),
only from ``queued``/``processing``, idempotent, malformed events logged and dropped. The upload
and its accepted original are kept (the reconciler writes the score record only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from melody.conversions.reconcile import ExecutionReconciler, Tracked
from melody.scores.models import execution_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.core.clock import Clock
    from melody.scores.ports import ScoreStore

__all__ = ["SCORE_MESSAGES", "score_reconciler"]

# What the score's owner reads (the codes are the pipeline's; its messages speak of songs).
SCORE_MESSAGES: dict[str, str] = {
    "FAILED": "The score could not be analysed; please try again later.",
    "TIMED_OUT": "Analysing the score took too long; please try again later.",
    "ABORTED": "Analysing the score was stopped; please try again later.",
}


def score_reconciler(scores: ScoreStore, clock: Clock, *, on_marked: Callable[[str], None] | None = None) -> ExecutionReconciler:
    """A reconciler of the score machine's executions (``score_id`` inputs) only: it never reads jobs.

    ``on_marked`` gets the code of each score it failed (once per score): the failure metric operators
    alarm on. The input's ``user_id`` must be the score's owner, as for jobs."""
    tracked = Tracked(
        "score_id",
        scores,
        execution_name,
        owner_field="user_id",
        on_marked=on_marked or (lambda code: None),
        messages=SCORE_MESSAGES,
    )
    return ExecutionReconciler(None, clock, also=(tracked,))
