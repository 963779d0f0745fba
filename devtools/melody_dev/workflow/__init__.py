"""Amazon States Language interpreter and local Step Functions runner.

>>> from melody_dev.workflow import StateMachine, load_definition
>>> machine = StateMachine(load_definition(path, {"ProbeFunctionArn": "probe"}), {"probe": handler})
>>> machine.execute({"bucket": "b", "key": "k"}).status
"""

from .asl import (
    LAMBDA_INVOKE,
    Execution,
    LambdaContext,
    StateMachine,
    load_definition,
    substitute,
    validate_definition,
)
from .errors import (
    DefinitionError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidName,
    StateMachineDoesNotExist,
    StatesError,
)
from .local_runner import LocalStepFunctions

__all__ = [
    "LAMBDA_INVOKE",
    "DefinitionError",
    "Execution",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "InvalidName",
    "LambdaContext",
    "LocalStepFunctions",
    "StateMachine",
    "StateMachineDoesNotExist",
    "StatesError",
    "load_definition",
    "substitute",
    "validate_definition",
]
