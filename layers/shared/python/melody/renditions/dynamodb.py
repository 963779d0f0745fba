"""The renditions table (PynamoDB): one item per rendition id, the record's body as JSON, and its
result key at the top level for the ``by_result`` index (a result's renditions in one query).

Throttling that outlasts botocore's retries is a 503 ``temporarily_unavailable`` on the API
(:func:`melody.core.dynamodb.unavailable_when_throttled`), never a 500.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, conditional_failed, unavailable_when_throttled
from melody.renditions.models import Rendition

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings

__all__ = ["DynamoRenditionStore", "RenditionModel", "backfill_result_key", "bind_rendition_model"]


class RenditionsByResult(GlobalSecondaryIndex["RenditionModel"]):
    class Meta:
        index_name = "by_result"
        projection = KeysOnlyProjection()  # the ids; the records are then read consistently

    result_key = UnicodeAttribute(hash_key=True)


class RenditionModel(Model):
    class Meta:
        table_name = "melody-renditions"

    rendition_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    stage = UnicodeAttribute(null=True)
    # a copy of body["result_key"] for by_result (items written before the index lack it until their
    # next transition or ``melody renditions backfill-index``: see of_result)
    result_key = UnicodeAttribute(null=True)
    body = JSONAttribute()  # the rest of the record
    by_result = RenditionsByResult()


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
        result_key=rendition.result_key,
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
                        # an item written before the by_result index gains its key on its next transition
                        RenditionModel.result_key.set(target.result_key),
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

    @unavailable_when_throttled
    def of_result(self, result_key: str) -> list[Rendition]:
        """The result's renditions: their ids through ``by_result``, then the records read consistently
        (the index is eventually consistent: a rendition created a moment ago may be missing, and one
        deleted since is skipped). Items written before the index existed carry no top-level result key
        and are not found: they stay as they were before this cleanup existed."""
        ids = [item.rendition_id for item in RenditionModel.by_result.query(result_key)]
        found = RenditionModel.batch_get(ids, consistent_read=True) if ids else []
        renditions = [_from_item(item) for item in found]
        return sorted((r for r in renditions if r.result_key == result_key), key=lambda r: r.rendition_id)

    @unavailable_when_throttled
    def delete(self, rendition_id: str, *, allowed_from: set[str]) -> bool:
        try:
            RenditionModel(rendition_id).delete(condition=RenditionModel.status.is_in(*allowed_from))
        except DeleteError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True


def backfill_result_key(*, page_size: int = 100) -> int:
    """Set the top-level ``result_key`` (the ``by_result`` index) on renditions written before it
    existed; returns how many were set.

    One Scan for items without it; each update copies the body's result key, conditional on the
    attribute still being absent, so it is safe to rerun or to run while renditions are written.
    """
    updated = 0
    for item in RenditionModel.scan(RenditionModel.result_key.does_not_exist(), page_size=page_size):
        result_key = (item.body or {}).get("result_key")
        if not isinstance(result_key, str) or not result_key:
            continue
        try:
            RenditionModel(item.rendition_id).update(
                actions=[RenditionModel.result_key.set(result_key)],
                condition=RenditionModel.rendition_id.exists() & RenditionModel.result_key.does_not_exist(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                continue
            raise
        updated += 1
    return updated
