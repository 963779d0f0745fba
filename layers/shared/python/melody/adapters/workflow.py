"""Starting pipeline executions: Step Functions in AWS, the local ASL runner in ``melody dev``."""

from __future__ import annotations

import json
from typing import Any


class StepFunctionsStarter:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        try:
            self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload, sort_keys=True))
        except self._client.exceptions.ExecutionAlreadyExists:
            return False
        return True


class LocalWorkflowStarter:
    """The same contract over :class:`melody.workflow.LocalStepFunctions`."""

    def __init__(self, runner: Any, state_machine: str) -> None:
        self._runner = runner
        self._state_machine = state_machine

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        from melody.workflow import ExecutionAlreadyExists

        # Like AWS: a running execution with the same name and input answers with its ARN; a
        # finished one raises. Either way, a name seen before means "already started".
        seen = {e["name"] for e in self._runner.list_executions(self._state_machine)}
        try:
            self._runner.start_execution(self._state_machine, name=name, input=payload)
        except ExecutionAlreadyExists:
            return False
        return name not in seen
