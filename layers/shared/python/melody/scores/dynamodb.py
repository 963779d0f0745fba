"""The scores table through PynamoDB: one item per score, a user's scores newest first (``by_user``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, conditional_failed, unavailable_when_throttled
from melody.scores.models import Score

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings


class ScoresByUser(GlobalSecondaryIndex["ScoreModel"]):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ScoreModel(Model):
    class Meta:
        table_name = "melody-scores"

    score_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = NumberAttribute()
    status = UnicodeAttribute()
    body = JSONAttribute()  # the rest of the record
    # Optimistic locking: a transition saves only over the version it read (no lost updates
    # between the trigger, the steps and a user's request).
    version = VersionAttribute()
    by_user = ScoresByUser()


def bind_score_model(settings: CommonSettings) -> None:
    bind_model(ScoreModel, settings.scores_table, settings)


_TOP_LEVEL = {"score_id", "user_id", "created_at", "status"}


def _body(score: Score) -> dict[str, Any]:
    data = json.loads(score.model_dump_json())
    return {k: v for k, v in data.items() if k not in _TOP_LEVEL}


def _from_item(item: ScoreModel) -> Score:
    return Score.model_validate(
        {**(item.body or {}), "score_id": item.score_id, "user_id": item.user_id, "created_at": item.created_at, "status": item.status}
    )


class DynamoScoreStore:
    @unavailable_when_throttled
    def create(self, score: Score) -> None:
        ScoreModel(score.score_id, user_id=score.user_id, created_at=score.created_at, status=score.status, body=_body(score)).save(
            condition=ScoreModel.score_id.does_not_exist()
        )

    @unavailable_when_throttled
    def get(self, score_id: str) -> Score | None:
        try:
            return _from_item(ScoreModel.get(score_id, consistent_read=True))
        except ScoreModel.DoesNotExist:
            return None

    @unavailable_when_throttled
    def transition(self, score_id: str, *, allowed_from: set[str], changes: dict[str, Any]) -> bool:
        """Apply ``changes`` if the score's status is one of ``allowed_from``; False otherwise."""
        for _ in range(3):  # a concurrent writer bumped the version: read again and re-check
            try:
                item = ScoreModel.get(score_id, consistent_read=True)
            except ScoreModel.DoesNotExist:
                return False
            if item.status not in allowed_from:
                return False
            score = Score.model_validate({**_from_item(item).model_dump(), **changes})  # still a valid record
            item.status = score.status
            item.body = _body(score)
            try:
                item.save()
            except PutError as exc:
                if conditional_failed(exc):
                    continue
                raise
            return True
        return False

    @unavailable_when_throttled
    def list_for_user(self, user_id: str, *, limit: int, cursor: dict[str, Any] | None) -> tuple[list[Score], dict[str, Any] | None]:
        start = None
        if cursor:
            start = {
                "score_id": {"S": cursor["score_id"]},
                "user_id": {"S": cursor["user_id"]},
                "created_at": {"N": str(cursor["created_at"])},
            }
        page = ScoreModel.by_user.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        scores = [_from_item(item) for item in page]
        last = page.last_evaluated_key
        if not last or len(scores) < limit:
            return scores, None
        return scores, {"score_id": last["score_id"]["S"], "user_id": last["user_id"]["S"], "created_at": float(last["created_at"]["N"])}

    @unavailable_when_throttled
    def delete(self, score_id: str, *, allowed_from: set[str]) -> bool:
        """Delete the score if its status is one of ``allowed_from``: False if it is gone or has moved on.

        The condition is on the status, not the version: a bare ``ScoreModel(score_id)`` has no version,
        and PynamoDB would otherwise require the item to have none, refusing every saved score.
        """
        try:
            ScoreModel(score_id).delete(condition=ScoreModel.status.is_in(*allowed_from), add_version_condition=False)
        except DeleteError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
