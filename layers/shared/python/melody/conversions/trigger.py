"""S3 "Object Created" (via EventBridge) → one pipeline execution per uploaded object."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

if TYPE_CHECKING:
    from melody.conversions.service import JobService


def handle_object_created(event: dict[str, Any], jobs: JobService) -> str:
    """Validate the event's shape and start the job's pipeline; returns the outcome."""
    parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
    obj = parsed.detail.object
    # S3 spells it "etag", moto "eTag" (which the model drops); with neither, the service asks S3.
    etag = obj.etag or str((event.get("detail") or {}).get("object", {}).get("eTag") or "")
    return jobs.on_object_created(parsed.detail.bucket.name, obj.key, int(obj.size or 0), etag or None)


def upload_event_pattern(bucket: str) -> dict[str, Any]:
    """The EventBridge pattern of the events above: CDK's rule in AWS and the local stack's rule in moto."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": "uploads/"}]}},
    }
