"""Run Step Functions state machines locally (``melody dev`` and tests).

``LocalStepFunctions`` keeps named state machines (the same ASL definitions CDK deploys), starts
executions on a background thread pool and answers ``describe_execution`` with the boto3 shape.

Name idempotency follows the Step Functions API for Standard workflows: ``start_execution`` with
the name of a RUNNING execution and the same input returns that execution's ARN and starts
nothing; a different input, or a name whose execution has already closed, raises
:class:`ExecutionAlreadyExists`.

``on_close`` stands in for EventBridge's "Step Functions Execution Status Change" events: it gets
each closed execution's event (:func:`status_change_event`, the AWS shape) on the execution's own
thread, before :meth:`LocalStepFunctions.wait` returns; what it raises is logged, not re-raised.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as _FutureTimeout
from typing import TYPE_CHECKING, Any

from .asl import Execution, Resources, StateMachine
from .errors import ExecutionAlreadyExists, ExecutionDoesNotExist, StateMachineDoesNotExist

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _epoch_ms(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def status_change_event(execution: Execution, *, region: str, account_id: str) -> dict[str, Any]:
    """The EventBridge event AWS emits when ``execution`` closes (detail: status, name, ARNs, the
    input and output as JSON strings, error and cause). A top-level TimeoutSeconds ends the local
    execution FAILED with ``States.Timeout``; its event says TIMED_OUT, as AWS's does."""
    status = "TIMED_OUT" if execution.timed_out else execution.status
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": account_id,
        "time": (execution.stop_date or execution.start_date).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [execution.execution_arn],
        "detail": {
            "executionArn": execution.execution_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": _epoch_ms(execution.start_date),
            "stopDate": _epoch_ms(execution.stop_date),
            "input": json.dumps(execution.input),
            "output": json.dumps(execution.output) if execution.status == "SUCCEEDED" else None,
            "error": execution.error,
            "cause": execution.cause,
        },
    }


class LocalStepFunctions:
    def __init__(self, definitions: Mapping[str, dict], resources: Resources, max_workers: int = 2,
                 on_close: Callable[[dict[str, Any]], Any] | None = None, **machine_options: Any):
        """``definitions``: state machine name → ASL definition (already substituted).
        ``resources``: FunctionName/Resource → callable ``(payload, context)``.
        ``on_close``: called with each closed execution's status-change event (see the module).
        ``machine_options``: passed to every :class:`StateMachine` (``sleep``, ``clock``, ``region``...)."""
        self._on_close = on_close
        self._machines: dict[str, StateMachine] = {
            name: StateMachine(definition, resources, name=name, **machine_options)
            for name, definition in definitions.items()
        }
        self._by_arn = {m.arn: m for m in self._machines.values()}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="local-sfn")
        self._lock = threading.Lock()
        self._executions: dict[str, Execution] = {}
        self._futures: dict[str, Future] = {}
        self._closed = False

    # -- state machines ----------------------------------------------------------------------
    def state_machine(self, name_or_arn: str) -> StateMachine:
        machine = self._machines.get(name_or_arn) or self._by_arn.get(name_or_arn)
        if machine is None:
            raise StateMachineDoesNotExist(f"state machine does not exist: {name_or_arn}")
        return machine

    def state_machine_arn(self, name: str) -> str:
        return self.state_machine(name).arn

    # -- executions --------------------------------------------------------------------------
    def start_execution(self, state_machine: str, name: str | None = None, input: Any = None) -> str:
        """Start an execution (``input``: dict or JSON string); returns its executionArn."""
        machine = self.state_machine(state_machine)
        execution = machine.new_execution(input, name)
        with self._lock:
            if self._closed:
                raise RuntimeError("LocalStepFunctions has been shut down")
            existing = self._executions.get(execution.execution_arn)
            if existing is not None:
                same_input = _canonical(existing.input) == _canonical(execution.input)
                if existing.status == "RUNNING" and same_input:
                    return existing.execution_arn
                why = "a closed execution" if same_input else "a different input"
                raise ExecutionAlreadyExists(
                    f"Execution Already Exists: '{existing.execution_arn}' ({why})", existing.execution_arn)
            self._executions[execution.execution_arn] = execution
            self._futures[execution.execution_arn] = self._pool.submit(self._run, machine, execution)
        return execution.execution_arn

    def _run(self, machine: StateMachine, execution: Execution) -> Execution:
        machine.run(execution)
        if self._on_close is not None:
            try:
                self._on_close(status_change_event(execution, region=machine.region, account_id=machine.account_id))
            except Exception:  # a listener's failure never changes the execution (EventBridge's targets neither)
                log.exception("status-change listener failed for %s", execution.execution_arn)
        return execution

    def get_execution(self, execution_arn: str) -> Execution:
        """The live :class:`Execution` record (with ``history``)."""
        try:
            return self._executions[execution_arn]
        except KeyError:
            raise ExecutionDoesNotExist(f"execution does not exist: {execution_arn}") from None

    def describe_execution(self, execution_arn: str) -> dict:
        """Like boto3's ``describe_execution``: input/output as JSON strings, dates as datetimes."""
        ex = self.get_execution(execution_arn)
        out: dict[str, Any] = {
            "executionArn": ex.execution_arn,
            "stateMachineArn": ex.state_machine_arn,
            "name": ex.name,
            "status": ex.status,
            "startDate": ex.start_date,
            "input": json.dumps(ex.input),
        }
        if ex.stop_date is not None:
            out["stopDate"] = ex.stop_date
        if ex.status == "SUCCEEDED":
            out["output"] = json.dumps(ex.output)
        if ex.status == "FAILED":
            if ex.error is not None:
                out["error"] = ex.error
            if ex.cause is not None:
                out["cause"] = ex.cause
        return out

    def list_executions(self, state_machine: str, status: str | None = None) -> list[dict]:
        arn = self.state_machine(state_machine).arn
        with self._lock:
            items = [e for e in self._executions.values() if e.state_machine_arn == arn]
        return [
            {"executionArn": e.execution_arn, "stateMachineArn": arn, "name": e.name, "status": e.status,
             "startDate": e.start_date, **({"stopDate": e.stop_date} if e.stop_date else {})}
            for e in sorted(items, key=lambda e: e.start_date, reverse=True)
            if status is None or e.status == status
        ]

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict:
        """Block until the execution closes; returns ``describe_execution``. Raises TimeoutError."""
        self.get_execution(execution_arn)
        future = self._futures[execution_arn]
        try:
            future.result(timeout)
        except _FutureTimeout:
            raise TimeoutError(f"execution still running after {timeout}s: {execution_arn}") from None
        return self.describe_execution(execution_arn)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def __enter__(self) -> LocalStepFunctions:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


__all__ = [
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "LocalStepFunctions",
    "StateMachineDoesNotExist",
    "status_change_event",
]
