"""Error names and exception types of the ASL interpreter.

Error names follow the Amazon States Language spec (https://states-language.net/spec.html)
and the AWS Step Functions behaviour where AWS is more specific:

* ``States.ALL`` matches every error except the terminal ``States.Runtime`` and
  ``States.DataLimitExceeded`` (AWS: "A retry or catch on States.ALL won't catch States.Runtime").
* ``States.TaskFailed`` matches every error except ``States.Timeout`` (and the terminal ones).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"  # ASL spec name; never raised: AWS reports States.Runtime
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
BRANCH_FAILED = "States.BranchFailed"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
PERMISSIONS = "States.Permissions"

#: errors that end the execution: no Retry or Catch (not even States.ALL) handles them
TERMINAL_ERRORS = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class DefinitionError(ValueError):
    """The state machine definition is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("invalid state machine definition: " + "; ".join(self.problems))


class StatesError(Exception):
    """A named ASL error (``Error`` / ``Cause``).

    Raised by the interpreter for runtime failures, and may be raised by a task callable to
    report an exact error name (e.g. ``StatesError("Lambda.TooManyRequestsException", "...")``).
    """

    def __init__(self, error: str | None, cause: str | None = None):
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else str(error))

    @property
    def error_output(self) -> dict:
        """The Error Output a Catcher passes on: ``{"Error": ..., "Cause": ...}``."""
        return {"Error": self.error, "Cause": self.cause if self.cause is not None else ""}


class ExecutionCancelled(Exception):
    """Internal: a sibling branch/iteration failed, so this one stops at the next state."""


class ExecutionAlreadyExists(Exception):
    """Like the Step Functions API error: the name is taken (different input, or closed execution)."""

    def __init__(self, message: str, execution_arn: str):
        self.execution_arn = execution_arn
        super().__init__(message)


class InvalidName(ValueError):
    """An execution name Step Functions would refuse (1-80 chars, no whitespace/brackets/wildcards...)."""


class ExecutionDoesNotExist(KeyError):
    pass


class StateMachineDoesNotExist(KeyError):
    pass


def error_matches(error_equals: Iterable[str], error: str | None) -> bool:
    """Whether a Retrier's / Catcher's ``ErrorEquals`` list matches ``error``."""
    if error in TERMINAL_ERRORS:
        return False
    for name in error_equals:
        if name == ALL:
            return True
        if name == TASK_FAILED and error != TIMEOUT:
            return True
        if name == error:
            return True
    return False
