"""The neural separate step as an AWS Batch job on a GPU (``-c neural_gpu=true``, issue 14).

The state machine's ``SeparateNeural`` task submits this job with ``.waitForTaskToken`` and passes
the step's input and the token in the environment (``MELODY_STEP_INPUT``, ``MELODY_TASK_TOKEN``).
The job runs the same step code as the Lambda and answers the waiting task: ``SendTaskSuccess``
with the step's output, or ``SendTaskFailure`` with the error named as the Lambda runtime names
it (``AudioRejected`` + ``{"errorMessage": "<code>: <message>"}``), so MarkFailed reads the same
code either way. Exit status 0 once the task is answered, so Batch does not retry a reported failure.
"""

from __future__ import annotations

import json
import os
import sys

import boto3


def main() -> int:
    from melody.core.services import Services
    from melody.core.settings import PipelineSettings

    token = os.environ["MELODY_TASK_TOKEN"]
    state = json.loads(os.environ["MELODY_STEP_INPUT"])
    states = boto3.client("stepfunctions")
    try:
        output = Services(PipelineSettings()).steps.separate(state)
    except Exception as exc:  # reported to the state machine, which retries or marks the job failed
        cause = json.dumps({"errorMessage": str(exc)[:2000], "errorType": type(exc).__name__})
        states.send_task_failure(taskToken=token, error=type(exc).__name__, cause=cause)
        return 0
    states.send_task_success(taskToken=token, output=json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
