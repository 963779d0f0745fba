"""Starting pipeline executions in AWS Step Functions (the local stack has its own starter in ``melody_dev``)."""

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


