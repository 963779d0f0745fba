"""DynamoDB adapters of the developer API: keys (by HMAC) and usage counters, via PynamoDB.

Every limit is one conditional ``UpdateItem`` with ``ADD``: DynamoDB applies the condition and the
increment as one step per item, so parallel calls cannot be admitted past a limit (see
tests/integration/developer/test_keys_rate_limit.py, which races threads against moto).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, conditional_failed, unavailable_when_throttled
from melody.developer.models import AnalyzeJob, ApiKeyRecord, DayUsage

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action

    from melody.core.settings import CommonSettings

__all__ = ["ApiKeyModel", "ApiUsageModel", "DynamoApiKeyStore", "DynamoUsageMeter", "bind_developer_models"]


class ApiKeysByUser(GlobalSecondaryIndex["ApiKeyModel"]):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ApiKeyModel(Model):
    class Meta:
        table_name = "melody-api-keys"

    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    plan = UnicodeAttribute()
    prefix = UnicodeAttribute()
    created_at = NumberAttribute()
    last_used_at = NumberAttribute(null=True)
    revoked_at = NumberAttribute(null=True)
    by_user = ApiKeysByUser()


class ApiUsageModel(Model):
    """One table, several item kinds (``pk`` / ``sk``):

    - ``rate#<key_id>`` / ``<epoch second>``: the one-second window's counter (expires in minutes)
    - ``<key_id>`` / ``month#YYYY-MM``: the monthly quota's counter
    - ``<key_id>`` / ``day#YYYY-MM-DD``: calls and billed analyses of that day (the usage route)
    - ``<key_id>`` / ``billed#<content hash>``: this key paid for analysing that audio once
    - ``job#<job_id>`` / ``analyze``: an analyze job started through the API (key, stems asked for)
    """

    class Meta:
        table_name = "melody-api-usage"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    key_id = UnicodeAttribute(null=True)
    calls = NumberAttribute(null=True)
    analyses = NumberAttribute(null=True)
    stems = BooleanAttribute(null=True)
    created_at = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


def bind_developer_models(settings: CommonSettings) -> None:
    bind_model(ApiKeyModel, settings.api_keys_table, settings)
    bind_model(ApiUsageModel, settings.api_usage_table, settings)


def _record(item: ApiKeyModel) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=item.key_id,
        key_hash=item.key_hash,
        user_id=item.user_id,
        name=item.name,
        plan=item.plan,  # validated by the record model
        prefix=item.prefix,
        created_at=float(item.created_at),
        last_used_at=float(item.last_used_at) if item.last_used_at is not None else None,
        revoked_at=float(item.revoked_at) if item.revoked_at is not None else None,
    )


class DynamoApiKeyStore:
    @unavailable_when_throttled
    def create(self, record: ApiKeyRecord) -> None:
        ApiKeyModel(
            record.key_hash,
            key_id=record.key_id,
            user_id=record.user_id,
            name=record.name,
            plan=record.plan,
            prefix=record.prefix,
            created_at=record.created_at,
        ).save(condition=ApiKeyModel.key_hash.does_not_exist())

    @unavailable_when_throttled
    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        try:
            return _record(ApiKeyModel.get(key_hash, consistent_read=True))
        except ApiKeyModel.DoesNotExist:
            return None

    @unavailable_when_throttled
    def list_for_user(self, user_id: str) -> list[ApiKeyRecord]:
        return [_record(item) for item in ApiKeyModel.by_user.query(user_id, scan_index_forward=False)]

    @unavailable_when_throttled
    def revoke(self, record: ApiKeyRecord, *, now: float) -> bool:
        try:
            ApiKeyModel(record.key_hash).update(
                actions=[ApiKeyModel.revoked_at.set(now)],
                condition=(ApiKeyModel.user_id == record.user_id) & ApiKeyModel.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def touch(self, key_hash: str, *, now: float) -> None:
        try:
            ApiKeyModel(key_hash).update(
                actions=[ApiKeyModel.last_used_at.set(now)], condition=ApiKeyModel.key_hash.exists()
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise


def _expires(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class DynamoUsageMeter:
    @unavailable_when_throttled
    def hit_second(self, key_id: str, window: int, *, limit: int) -> int | None:
        item = ApiUsageModel(f"rate#{key_id}", str(window))
        return self._hit(item, limit, [ApiUsageModel.ttl.set(_expires(window + 300))])

    @unavailable_when_throttled
    def hit_month(self, key_id: str, month: str, *, quota: int, user_id: str) -> int | None:
        item = ApiUsageModel(key_id, f"month#{month}")
        return self._hit(item, quota, [ApiUsageModel.user_id.set(user_id)])

    @staticmethod
    def _hit(item: ApiUsageModel, limit: int, extra: list[Action]) -> int | None:
        try:
            item.update(
                actions=[ApiUsageModel.calls.add(1), *extra],
                condition=ApiUsageModel.calls.does_not_exist() | (ApiUsageModel.calls < limit),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return None
            raise
        return int(item.calls or 0)

    @unavailable_when_throttled
    def count_month(self, key_id: str, month: str) -> int:
        try:
            return int(ApiUsageModel.get(key_id, f"month#{month}", consistent_read=True).calls or 0)
        except ApiUsageModel.DoesNotExist:
            return 0

    @unavailable_when_throttled
    def add_day(self, key_id: str, day: str, *, user_id: str, calls: int = 0, analyses: int = 0) -> None:
        actions: list[Action] = [ApiUsageModel.user_id.set(user_id)]
        if calls:
            actions.append(ApiUsageModel.calls.add(calls))
        if analyses:
            actions.append(ApiUsageModel.analyses.add(analyses))
        ApiUsageModel(key_id, f"day#{day}").update(actions=actions)

    @unavailable_when_throttled
    def days(self, key_id: str, first: str, last: str) -> list[DayUsage]:
        items = ApiUsageModel.query(key_id, ApiUsageModel.sk.between(f"day#{first}", f"day#{last}"))
        return [
            DayUsage(day=item.sk.removeprefix("day#"), calls=int(item.calls or 0), analyses=int(item.analyses or 0))
            for item in items
        ]

    @unavailable_when_throttled
    def bill_once(self, key_id: str, content_hash: str, *, now: float) -> bool:
        try:
            ApiUsageModel(key_id, f"billed#{content_hash}", created_at=now).save(
                condition=ApiUsageModel.pk.does_not_exist()
            )
        except PutError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def put_job(self, job: AnalyzeJob) -> None:
        ApiUsageModel(
            f"job#{job.job_id}",
            "analyze",
            key_id=job.key_id,
            user_id=job.user_id,
            stems=job.stems,
            created_at=job.created_at,
        ).save()

    @unavailable_when_throttled
    def get_job(self, job_id: str) -> AnalyzeJob | None:
        try:
            item = ApiUsageModel.get(f"job#{job_id}", "analyze", consistent_read=True)
        except ApiUsageModel.DoesNotExist:
            return None
        return AnalyzeJob(
            job_id=job_id,
            key_id=item.key_id or "",
            user_id=item.user_id or "",
            stems=bool(item.stems),
            created_at=float(item.created_at or 0),
        )
