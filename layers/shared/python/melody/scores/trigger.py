"""S3 "Object Created" under ``uploads/scores/`` (via EventBridge) → the score's analysis execution."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

from melody.scores.models import UPLOAD_PREFIX

if TYPE_CHECKING:
    from melody.scores.service import ScoreService


def handle_score_object_created(event: dict[str, Any], scores: ScoreService) -> str:
    parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
    obj = parsed.detail.object
    # S3 spells it "etag", moto "eTag" (which the model drops).
    etag = obj.etag or str((event.get("detail") or {}).get("object", {}).get("eTag") or "")
    return scores.on_object_created(parsed.detail.bucket.name, obj.key, etag or None)


def score_upload_event_pattern(bucket: str) -> dict[str, Any]:
    """The EventBridge pattern of score uploads: CDK's rule in AWS and the local stack's in moto."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": UPLOAD_PREFIX}]}},
    }
