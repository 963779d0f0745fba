"""Executions that end outside the state machine's Catch: the job they leave running is failed here.

The audio pipeline fails a job through its Catch (``MarkFailed``). An execution can still end
without it: ``States.Runtime`` (a JSONPath that matches nothing; no Retry or Catch applies), the
execution's own ``TimeoutSeconds`` (TIMED_OUT), an operator's ``StopExecution`` (ABORTED), or
MarkFailed itself failing. The job would then stay ``processing`` for ever. Step Functions reports
every execution's end to EventBridge ("Step Functions Execution Status Change"); a rule sends the
FAILED, TIMED_OUT and ABORTED ones of the pipeline to :meth:`ExecutionReconciler.handle` (the local
runner calls it the same way when an execution closes).

The change is the job store's conditional transition from ``queued``/``processing`` only, so a job
MarkFailed already failed, or one that succeeded, is left alone and a redelivered event changes
nothing. An event of an earlier attempt (a retried job runs as ``<job id>-r<n>``) is left alone
too, and the write is conditional on the attempt checked, so a job retried between the read and
the write is left to its new execution. The upload and its original are kept: the job can be
retried. The renditions machine's records (``rendition_id`` inputs, same statuses, same retry
naming) are reconciled the same way (:class:`Tracked`, wired in ``melody.core.services``); the
score machine's (``score_id`` inputs) by a reconciler of scores only (``melody.scores.reconcile``,
its own rule and function).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from melody.conversions.models import execution_name
from melody.conversions.steps import failure_kind
from melody.core.observability import logger

if TYPE_CHECKING:
    from melody.conversions.ports import JobStore
    from melody.core.clock import Clock

__all__ = [
    "ENDED_STATUSES",
    "STATUS_CHANGE_DETAIL_TYPE",
    "STATUS_CHANGE_SOURCE",
    "EndedExecution",
    "ExecutionReconciler",
    "RecordStore",
    "RetriedRecordStore",
    "Tracked",
    "ended_execution_pattern",
    "parse_status_change",
]

STATUS_CHANGE_SOURCE = "aws.states"
STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"

# An ended execution's status -> the job's stable failure code and what the user reads (no internals).
ENDED_STATUSES: dict[str, tuple[str, str]] = {
    "FAILED": ("workflow_failed", "The song could not be processed; please try again later."),
    "TIMED_OUT": ("workflow_timed_out", "Processing took too long; please try again later."),
    "ABORTED": ("workflow_aborted", "Processing was stopped; please try again later."),
}
# The statuses an execution leaves a job (or rendition) in while it runs (``awaiting_upload`` never has one).
_RUNNING = {"queued", "processing"}


def ended_execution_pattern(state_machine_arns: list[str]) -> dict[str, Any]:
    """The EventBridge pattern of the events above, for these machines: CDK's rule and the tests."""
    return {
        "source": [STATUS_CHANGE_SOURCE],
        "detail-type": [STATUS_CHANGE_DETAIL_TYPE],
        "detail": {"status": sorted(ENDED_STATUSES), "stateMachineArn": list(state_machine_arns)},
    }


@dataclass(frozen=True)
class EndedExecution:
    """What reconciling needs of an execution that ended: its status, input, name and error name."""

    status: str
    input: dict[str, Any]
    name: str | None = None
    error: str | None = None


def parse_status_change(event: Mapping[str, Any]) -> EndedExecution | None:
    """The ended execution an EventBridge status-change event reports, or None when it is not one
    (another status, no JSON object input): such an event is logged and dropped, never retried."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    if not isinstance(detail, Mapping) or detail.get("status") not in ENDED_STATUSES:
        return None
    raw = detail.get("input")
    try:
        # EventBridge carries the execution input as a JSON string (an object in the local runner's events)
        state = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return None
    if not isinstance(state, dict):
        return None
    name = detail.get("name")
    error = detail.get("error")
    return EndedExecution(
        status=str(detail["status"]),
        input=state,
        name=name if isinstance(name, str) else None,
        error=error if isinstance(error, str) else None,
    )


class RecordStore(Protocol):
    """The store of what a state machine runs for (``JobStore``, the renditions' store)."""

    def get(self, record_id: str) -> Any: ...

    def transition(self, record_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool: ...


class RetriedRecordStore(RecordStore, Protocol):
    """The store of records that are retried (jobs, renditions): its transition can be conditional on
    the record's ``attempt`` (scores are never retried, and their store has no such condition)."""

    def transition(
        self, record_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class Tracked:
    """One kind of record whose executions are reconciled: the execution input's field naming it,
    its store, its current execution's name (a retry runs as ``<id>-r<n>``), the input's field naming
    its owner (checked when present), MarkFailed's metrics for it (called once, with the code),
    when the record is not a song, what its user reads per ended status (``ENDED_STATUSES``' otherwise)
    and, for a kind that is retried, its record's attempt: the failing write is then conditional on
    it, and ``store`` must be a :class:`RetriedRecordStore`."""

    id_field: str
    store: RecordStore
    execution_name: Callable[[Any], str]
    owner_field: str | None = None
    on_marked: Callable[[str], None] = field(default=lambda code: None)
    messages: Mapping[str, str] | None = None
    attempt_of: Callable[[Any], int] | None = None


def _attempt(record: Any) -> int:
    """A job's (or rendition's) attempt: 0, one more per retry; its execution is named after it."""
    return int(record.attempt)


class ExecutionReconciler:
    """Fails the job an ended pipeline execution left ``queued``/``processing``.

    ``on_step`` and ``on_failure`` are MarkFailed's hooks (``PipelineSteps``): the same step metric
    and the same ``PipelineFailures`` metric and log, counted once per job. ``also`` adds other kinds
    of records run the same way (the renditions machine's), told apart by their input's id field;
    with ``jobs`` None only those (the score machine's reconciler: it never reads the jobs table).
    """

    def __init__(
        self,
        jobs: JobStore | None,
        clock: Clock,
        *,
        on_step: Callable[[str, str, float], None] | None = None,
        on_failure: Callable[[str, str], None] | None = None,
        also: tuple[Tracked, ...] = (),
    ) -> None:
        step = on_step or (lambda step, outcome, seconds: None)
        failure = on_failure or (lambda kind, code: None)

        def job_failed(code: str) -> None:
            step("pipeline", "failed", 0.0)
            # Not the upload's fault: a system failure, the kind operators are paged for.
            failure(failure_kind(code), code)

        kinds = list(also)
        if jobs is not None:
            tracked = Tracked("job_id", jobs, execution_name, owner_field="user_id", on_marked=job_failed, attempt_of=_attempt)
            kinds.append(tracked)
        if not kinds:
            raise ValueError("nothing to reconcile: no job store and no other kind of record")
        self._kinds = tuple(kinds)
        self._clock = clock

    def handle(self, event: Mapping[str, Any]) -> str:
        """Reconcile one status-change event; returns the outcome (logged)."""
        ended = parse_status_change(event)
        if ended is None:
            detail = event.get("detail") if isinstance(event, Mapping) else None
            status = detail.get("status") if isinstance(detail, Mapping) else None
            logger.warning("execution status event ignored: not an ended execution with an input",
                           extra={"execution_status": str(status)[:40]})
            return "ignored"
        return self.reconcile(ended)

    def reconcile(self, ended: EndedExecution) -> str:
        """``marked`` (now failed), ``unchanged`` (already failed or succeeded), ``stale`` (an earlier
        attempt's execution), ``not_found`` or ``ignored`` (an input naming no record of a known kind)."""
        kind = next((k for k in self._kinds if k.id_field in ended.input), self._kinds[-1])
        record_id = ended.input.get(kind.id_field)
        # Never the cause: Step Functions puts the state's data (keys, user ids) in a States.Runtime cause.
        where = {kind.id_field: str(record_id)[:100], "execution": (ended.name or "")[:80],
                 "execution_status": ended.status, "execution_error": (ended.error or "")[:100]}
        if ended.status not in ENDED_STATUSES or not isinstance(record_id, str) or not record_id:
            logger.warning("ended execution ignored: its input names nothing to fail", extra=where)
            return "ignored"
        record = kind.store.get(record_id)
        if record is None:
            logger.warning("ended execution ignored: no such record", extra=where)
            return "not_found"
        owner = ended.input.get(kind.owner_field) if kind.owner_field else None
        if owner is not None and owner != getattr(record, str(kind.owner_field)):
            logger.warning("ended execution ignored: its input names another owner", extra=where)
            return "ignored"
        if ended.name is not None and ended.name != kind.execution_name(record):
            # An earlier attempt's execution: the retried record's own execution decides its status.
            logger.info("ended execution of an earlier attempt ignored", extra=where)
            return "stale"
        if record.status not in _RUNNING:
            return "unchanged"
        code, message = ENDED_STATUSES[ended.status]
        message = (kind.messages or {}).get(ended.status, message)
        now = self._clock.now()
        changes = {"status": "failed", "error": {"code": code, "message": message}, "finished_at": now, "updated_at": now}
        if kind.attempt_of is None:
            marked = kind.store.transition(record_id, allowed_from=_RUNNING, changes=changes)
        else:
            # Conditional on the attempt checked above: failed and retried since the read, the record
            # is its next execution's, whatever this one's status. (Tracked: such a kind's store takes it.)
            attempt = kind.attempt_of(record)
            store = cast("RetriedRecordStore", kind.store)
            marked = store.transition(record_id, allowed_from=_RUNNING, changes=changes, expected_attempt=attempt)
            if not marked:
                current = kind.store.get(record_id)
                if current is not None and kind.attempt_of(current) != attempt:
                    logger.info("ended execution of an attempt retried while reconciling ignored", extra=where)
                    return "stale"
        if not marked:  # finished (by MarkFailed or Persist) since it was read
            return "unchanged"
        logger.warning("failed by an execution that ended outside the state machine's Catch", extra=where)
        kind.on_marked(code)
        return "marked"
