"""Response shapes of the users routes."""

from __future__ import annotations

from pydantic import BaseModel

from melody.users.models import Preferences, User


class UserOut(BaseModel):
    user_id: str
    phone_number: str
    name: str | None
    avatar_url: str | None
    preferences: Preferences
    is_verified: bool
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            user_id=user.user_id,
            phone_number=user.phone_e164,
            name=user.name,
            avatar_url=user.avatar_url,
            preferences=user.preferences,
            is_verified=user.is_verified,
            created_at=int(user.created_at),
            updated_at=int(user.updated_at),
        )
