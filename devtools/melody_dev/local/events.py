"""What the local stack's event paths share: an EventBridge rule → SQS queue polled in a thread (the
local stand-in for a rule's Lambda target), in-process routing of ended executions by EventBridge
pattern, and the step wrapper the local runners call.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from melody.core.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EndedExecutionRoutes", "QueuedRuleTrigger", "logged_step", "matches"]


def logged_step(name: str, method: Callable[[dict], Any], *, rejected: str, what: str) -> Callable[[dict, Any], Any]:
    """A step as a local runner calls it; failures are logged as the Lambda runtime would (a
    ``rejected`` exception — bad input — at info, anything else with its stack)."""

    def invoke(payload: dict, _context: Any) -> Any:
        try:
            return method(payload)
        except Exception as exc:
            if type(exc).__name__ == rejected:
                logger.info(f"{what} step rejected the file", extra={"step": name, "reason": str(exc)})
            else:
                logger.exception(f"{what} step failed", extra={"step": name})
            raise

    return invoke


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` matches an EventBridge pattern of exact values (lists) and nested objects:
    the patterns this stack routes in-process (``ended_execution_pattern``)."""
    if not isinstance(event, dict):
        return False
    for field, wanted in pattern.items():
        value = event.get(field)
        if isinstance(wanted, dict):
            if not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True


class EndedExecutionRoutes:
    """A local runner's ``on_close``: each status-change event goes to the targets whose pattern it
    matches, as the ended-executions rules route them in AWS."""

    def __init__(self) -> None:
        self._rules: list[tuple[dict[str, Any], Callable[[dict[str, Any]], Any]]] = []

    def add(self, pattern: dict[str, Any], target: Callable[[dict[str, Any]], Any]) -> None:
        self._rules.append((pattern, target))

    def __call__(self, event: dict[str, Any]) -> None:
        for pattern, target in self._rules:
            if matches(pattern, event):
                outcome = target(event)
                logger.info("ended execution", extra={"outcome": outcome, "execution": event["detail"]["name"]})


class QueuedRuleTrigger:
    """An EventBridge rule (``pattern``) on moto whose target is an SQS queue, polled by a thread that
    hands each event to ``handle`` (it returns an outcome word). An event whose handling raises stays
    on the queue and comes back after the visibility timeout, as a Lambda target's would. One console
    line per event (dev only): ``melody dev: <label> event key=<object key> outcome=<outcome>``."""

    def __init__(self, settings: Any, *, name: str, pattern: dict[str, Any], handle: Callable[[dict], str], label: str) -> None:
        import boto3

        kw = {"region_name": settings.aws_region, "endpoint_url": settings.s3_endpoint_url}
        self._events = boto3.client("events", **kw)
        self._sqs = boto3.client("sqs", **kw)
        self._name, self._pattern, self._handle, self._label = name, pattern, handle, label
        self._stop = threading.Event()
        self.queue_url = ""

    def start(self) -> None:
        self.queue_url = self._sqs.create_queue(QueueName=f"{self._name}-trigger", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"{self._name}-created"
        self._events.put_rule(Name=rule, EventPattern=json.dumps(self._pattern))
        self._events.put_targets(Rule=rule, Targets=[{"Id": f"{self._name}-trigger", "Arn": arn}])
        threading.Thread(target=self._poll, name=f"{self._name}-trigger", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the server is stopping, or a transient error: try again
                if self._stop.wait(1):
                    return
                continue
            for message in batch.get("Messages", []):
                try:
                    event = json.loads(message["Body"])
                    outcome = self._handle(event)
                    logger.info(f"{self._label} event", extra={"outcome": outcome})
                    key = str(((event.get("detail") or {}).get("object") or {}).get("key", ""))
                    print(f"melody dev: {self._label} event key={key} outcome={outcome}", file=sys.stderr, flush=True)
                except Exception:
                    logger.exception(f"{self._label} trigger failed")  # left on the queue: redelivered
                    continue
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
