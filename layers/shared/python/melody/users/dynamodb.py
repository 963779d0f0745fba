"""The users table: its PynamoDB model and the :class:`~melody.users.ports.UserStore` on it.

Throttling that outlasts botocore's retries is a 503 ``temporarily_unavailable``
(:func:`melody.core.dynamodb.unavailable_when_throttled`), never a 500.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from melody.core.dynamodb import bind_model, unavailable_when_throttled
from melody.core.dynamodb import conditional_failed as _conditional_failed
from melody.users.models import Preferences, User

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings


class UserModel(Model):
    class Meta:
        table_name = "melody-users"

    user_id = UnicodeAttribute(hash_key=True)
    phone_e164 = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    preferences = JSONAttribute(null=True)
    is_verified = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


def _user_from_item(item: UserModel) -> User:
    return User(
        user_id=item.user_id,
        phone_e164=item.phone_e164,
        name=item.name,
        avatar_url=item.avatar_url,
        preferences=Preferences.model_validate(item.preferences or {}),
        is_verified=bool(item.is_verified),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _item_from_user(user: User) -> UserModel:
    return UserModel(
        user.user_id,
        phone_e164=user.phone_e164,
        name=user.name,
        avatar_url=user.avatar_url,
        preferences=json.loads(user.preferences.model_dump_json()),
        is_verified=user.is_verified,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


class DynamoUserStore:
    @unavailable_when_throttled
    def get(self, user_id: str) -> User | None:
        try:
            return _user_from_item(UserModel.get(user_id, consistent_read=True))
        except UserModel.DoesNotExist:
            return None

    @unavailable_when_throttled
    def create_if_absent(self, user: User) -> User:
        try:
            _item_from_user(user).save(condition=UserModel.user_id.does_not_exist())
            return user
        except PutError as exc:
            if not _conditional_failed(exc):
                raise
        existing = self.get(user.user_id)
        assert existing is not None, "a conditional put failed but the user is absent"
        return existing

    @unavailable_when_throttled
    def save(self, user: User) -> None:
        _item_from_user(user).save()


def bind_user_model(settings: CommonSettings) -> None:
    bind_model(UserModel, settings.users_table, settings)
