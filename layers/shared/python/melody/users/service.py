"""Users: created on first verified login, with an id that is a keyed hash of the number.

A keyed id makes the first login idempotent (two parallel verifies create one user) without a
phone-number index, and reveals nothing about the number.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from melody.core.errors import InvalidInput, NotFound
from melody.users.models import Preferences, User

if TYPE_CHECKING:
    from melody.core.clock import Clock
    from melody.users.ports import UserStore

# ISO 639-1 codes of the languages the catalogue serves; others are rejected, not stored.
SUPPORTED_LANGUAGES = frozenset(
    "hi en ta te bn mr gu kn ml pa ur or as bho raj ne si es ko ja ar fr de pt".split()
)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80)
    avatar_url: HttpUrl | None = None
    preferences: Preferences | None = None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise ValueError("name must not be blank")
        return value

    @field_validator("avatar_url")
    @classmethod
    def _https_only(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("avatar_url must use https")
        return value


def user_id_for(phone_e164: str, hmac_key: bytes) -> str:
    digest = hmac.new(hmac_key, b"user:" + phone_e164.encode(), hashlib.sha256).hexdigest()
    return "usr_" + digest[:24]


class UserService:
    def __init__(self, store: UserStore, clock: Clock, *, hmac_key: bytes | None) -> None:
        """``hmac_key`` is needed only to log in (it derives user ids); functions that only read and
        update profiles run without it."""
        self._store = store
        self._clock = clock
        self._hmac_key = hmac_key

    def login(self, phone_e164: str) -> User:
        if self._hmac_key is None:
            raise RuntimeError("this UserService was built without the HMAC key; only the auth function logs in")
        now = self._clock.now()
        user = self._store.create_if_absent(
            User(
                user_id=user_id_for(phone_e164, self._hmac_key),
                phone_e164=phone_e164,
                is_verified=True,
                created_at=now,
                updated_at=now,
            )
        )
        if not user.is_verified:
            user = user.model_copy(update={"is_verified": True, "updated_at": now})
            self._store.save(user)
        return user

    def get(self, user_id: str) -> User:
        user = self._store.get(user_id)
        if user is None:
            raise NotFound("No such user.", code="user_not_found")
        return user

    def update(self, user_id: str, changes: UserUpdate) -> User:
        user = self.get(user_id)
        patch = changes.model_dump(exclude_unset=True)
        if not patch:
            return user
        if "preferences" in patch:
            # JSON merge-patch semantics: an explicit null resets the preferences to their defaults.
            preferences = changes.preferences or Preferences()
            languages = preferences.preferred_languages
            unknown = sorted(set(languages) - SUPPORTED_LANGUAGES)
            if unknown:
                raise InvalidInput(
                    "Unknown language code(s).", code="unknown_language", details={"languages": unknown}
                )
            patch["preferences"] = preferences.model_copy(update={"preferred_languages": list(dict.fromkeys(languages))})
        if "avatar_url" in patch and patch["avatar_url"] is not None:
            patch["avatar_url"] = str(changes.avatar_url)
        updated = user.model_copy(update={**patch, "updated_at": self._clock.now()})
        self._store.save(updated)
        return updated
