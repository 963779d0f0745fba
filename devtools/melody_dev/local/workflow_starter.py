"""Starting pipeline executions in the local ASL runner: the contract of
:class:`melody.conversions.workflow.StepFunctionsStarter` over :class:`melody_dev.workflow.LocalStepFunctions`."""

from __future__ import annotations

from typing import Any


class LocalWorkflowStarter:
    """The same contract over :class:`melody_dev.workflow.LocalStepFunctions`."""

    def __init__(self, runner: Any, state_machine: str) -> None:
        self._runner = runner
        self._state_machine = state_machine

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        from melody_dev.workflow import ExecutionAlreadyExists

        # Like AWS: a running execution with the same name and input answers with its ARN; a
        # finished one raises. Either way, a name seen before means "already started".
        seen = {e["name"] for e in self._runner.list_executions(self._state_machine)}
        try:
            self._runner.start_execution(self._state_machine, name=name, input=payload)
        except ExecutionAlreadyExists:
            return False
        return name not in seen
