"""The lyrics table (``lyrics_table``): provider answers (``lrclib#<hash>``, with a TTL) and each
user's attached LRC (``user#<user_id>#<track_id>``, no TTL) share one hash key, ``lyrics_key``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError
from pynamodb.models import Model

from melody.core.dynamodb import conditional_failed

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings

__all__ = ["DynamoLyricsStore", "LyricsModel", "bind_lyrics_model"]


class LyricsModel(Model):
    class Meta:
        table_name = "melody-lyrics"

    lyrics_key = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
    expires_at = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


def bind_lyrics_model(settings: CommonSettings) -> None:
    from melody.core.dynamodb import bind_model

    bind_model(LyricsModel, settings.lyrics_table, settings)


def attached_key(user_id: str, track_id: str) -> str:
    return f"user#{user_id}#{track_id}"


class DynamoLyricsStore:
    def get_cached(self, key: str, *, now: float) -> dict[str, Any] | None:
        try:
            item = LyricsModel.get(key)
        except LyricsModel.DoesNotExist:
            return None
        if item.expires_at is None or float(item.expires_at) <= now:  # DynamoDB deletes expired items lazily
            return None
        return dict(item.value or {})

    def put_cached(self, key: str, value: dict[str, Any], *, expires_at: float) -> None:
        LyricsModel(key, value=value, expires_at=expires_at, ttl=datetime.fromtimestamp(expires_at, tz=UTC)).save()

    def get_attached(self, user_id: str, track_id: str) -> dict[str, Any] | None:
        try:
            return dict(LyricsModel.get(attached_key(user_id, track_id)).value or {})
        except LyricsModel.DoesNotExist:
            return None

    def put_attached(self, user_id: str, track_id: str, value: dict[str, Any]) -> None:
        LyricsModel(attached_key(user_id, track_id), value=value).save()

    def delete_attached(self, user_id: str, track_id: str) -> bool:
        item = LyricsModel(attached_key(user_id, track_id))
        try:
            item.delete(condition=LyricsModel.lyrics_key.exists())
        except DeleteError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
