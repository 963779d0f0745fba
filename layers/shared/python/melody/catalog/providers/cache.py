"""Provider responses cached in DynamoDB (``search_cache_table``) with a TTL attribute."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model


class SearchCacheModel(Model):
    class Meta:
        table_name = "melody-search-cache"

    cache_key = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
    expires_at = NumberAttribute()
    ttl = TTLAttribute(null=True)


def bind_search_cache_model(settings: Any) -> None:
    from melody.core.dynamodb import bind_model

    bind_model(SearchCacheModel, settings.search_cache_table, settings)


class DynamoSearchCache:
    def get(self, key: str, *, now: float) -> list[dict[str, Any]] | None:
        try:
            item = SearchCacheModel.get(key)
        except SearchCacheModel.DoesNotExist:
            return None
        if float(item.expires_at) <= now:  # DynamoDB deletes expired items lazily
            return None
        return list(item.value or [])

    def put(self, key: str, value: list[dict[str, Any]], *, expires_at: float) -> None:
        SearchCacheModel(
            key, value=value, expires_at=expires_at, ttl=datetime.fromtimestamp(expires_at, tz=UTC)
        ).save()
