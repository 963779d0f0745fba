"""The renditions table (PynamoDB): one item per rendition id, the record's body as JSON.

Throttling that outlasts botocore's retries is a 503 ``temporarily_unavailable`` on the API
(:func:`melody.core.dynamodb.unavailable_when_throttled`), never a 500.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, conditional_failed, unavailable_when_throttled
from melody.renditions.models import Rendition

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings

__all__ = ["DynamoRenditionStore", "RenditionModel", "bind_rendition_model"]


class RenditionModel(Model):
    class Meta:
        table_name = "melody-renditions"

    rendition_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    stage = UnicodeAttribute(null=True)
    body = JSONAttribute()  # the rest of the record


def bind_rendition_model(settings: CommonSettings) -> None:
    bind_model(RenditionModel, settings.renditions_table, settings)


_TOP_LEVEL = {"rendition_id", "status", "progress", "stage"}


def _to_item(rendition: Rendition) -> RenditionModel:
    data = json.loads(rendition.model_dump_json())
    return RenditionModel(
        rendition.rendition_id,
        status=rendition.status,
        progress=rendition.progress,
        stage=rendition.stage,
        body={k: v for k, v in data.items() if k not in _TOP_LEVEL},
    )


def _from_item(item: RenditionModel) -> Rendition:
    return Rendition.model_validate(
        {
            **(item.body or {}),
            "rendition_id": item.rendition_id,
            "status": item.status,
            "progress": int(item.progress or 0),
            "stage": item.stage,
        }
    )


class DynamoRenditionStore:
    @unavailable_when_throttled
    def get(self, rendition_id: str) -> Rendition | None:
        try:
            return _from_item(RenditionModel.get(rendition_id, consistent_read=True))
        except RenditionModel.DoesNotExist:
            return None

    @unavailable_when_throttled
    def create(self, rendition: Rendition) -> bool:
        try:
            _to_item(rendition).save(condition=RenditionModel.rendition_id.does_not_exist())
        except PutError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def transition(
        self, rendition_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        # Read-modify-write guarded by the status and progress read: the two render branches
        # advance progress in parallel, so a lost race reads again.
        for _ in range(5):
            try:
                item = RenditionModel.get(rendition_id, consistent_read=True)
            except RenditionModel.DoesNotExist:
                return False
            if item.status not in allowed_from:
                return False
            if expected_attempt is not None and int((item.body or {}).get("attempt", 0)) != expected_attempt:
                return False  # asked for again since the caller read it: another run's record
            merged = {**json.loads(_from_item(item).model_dump_json()), **changes}
            if "progress" in changes and changes.get("status") != "queued":
                merged["progress"] = max(int(item.progress or 0), int(changes["progress"]))
            target = _to_item(Rendition.model_validate(merged))
            condition = (RenditionModel.status == item.status) & (RenditionModel.progress == (item.progress or 0))
            if expected_attempt is not None:
                # The attempt is inside the JSON body, out of a condition's reach: conditional on the body
                # read instead (it serialises back to the stored string), so a retry in between fails the write.
                condition &= RenditionModel.body == item.body
            try:
                RenditionModel(rendition_id).update(
                    actions=[
                        RenditionModel.status.set(target.status),
                        RenditionModel.progress.set(target.progress),
                        RenditionModel.body.set(target.body),
                        RenditionModel.stage.set(target.stage) if target.stage is not None else RenditionModel.stage.remove(),
                    ],
                    condition=condition,
                )
            except UpdateError as exc:
                if conditional_failed(exc):
                    continue
                raise
            return True
        raise RuntimeError(f"rendition {rendition_id} kept changing under a status transition")

    @unavailable_when_throttled
    def advance(self, rendition_id: str, *, stage: str, progress: int) -> bool:
        try:
            RenditionModel(rendition_id).update(
                actions=[RenditionModel.stage.set(stage), RenditionModel.progress.set(progress)],
                condition=RenditionModel.rendition_id.exists()
                & RenditionModel.status.is_in("queued", "processing")
                & (RenditionModel.progress < progress),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
