"""Users: created on first verified login, with an id that is a keyed hash of the number.

A keyed id makes the first login idempotent (two parallel verifies create one user) without a
phone-number index, and reveals nothing about the number.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StrictBool, WithJsonSchema, field_validator

from melody.api.error_codes import error_code
from melody.core.errors import InvalidInput, NotFound
from melody.users.models import AudioQuality, Preferences, User

if TYPE_CHECKING:
    from melody.core.clock import Clock
    from melody.users.ports import UserStore

# ISO 639-1 codes of the languages the catalogue serves; others are rejected, not stored.
SUPPORTED_LANGUAGES = frozenset(
    "hi en ta te bn mr gu kn ml pa ur or as bho raj ne si es ko ja ar fr de pt".split()
)


# A name has a visible character; an avatar is an https URL of a plain host name (no user info, port or
# query). Declared as patterns so the OpenAPI document states exactly what the route accepts.
NAME_PATTERN = r"\S"
# Labels without "--" (no punycode: IDNA may refuse it) and a last label that starts with a letter
# (an all-digit one would be read as an IPv4 address).
AVATAR_URL_PATTERN = (
    r"^https://(?:[A-Za-z0-9](?:-?[A-Za-z0-9]){0,31}\.)*[A-Za-z](?:-?[A-Za-z0-9]){0,31}(?:/[A-Za-z0-9._~/-]*)?$"
)
MAX_AVATAR_URL = 1024


def _known_languages(languages: list[str]) -> list[str]:
    unknown = sorted(set(languages) - SUPPORTED_LANGUAGES)
    if unknown:
        raise ValueError(f"unknown language code(s): {', '.join(code[:8] for code in unknown[:5])}")
    return languages


class PreferencesUpdate(BaseModel):
    """The preferences a client may set: what :class:`Preferences` stores, checked strictly
    (``explicit_content: 0`` is not ``false``; languages are the supported codes only)."""

    model_config = ConfigDict(extra="forbid")

    preferred_languages: Annotated[
        list[Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(SUPPORTED_LANGUAGES)})]],
        AfterValidator(_known_languages),
        Field(max_length=32, json_schema_extra=error_code("unknown_language", too_long="validation_error")),
    ] = []
    audio_quality: AudioQuality = "normal"
    explicit_content: StrictBool = True

    def stored(self) -> Preferences:
        return Preferences(**self.model_dump())


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=NAME_PATTERN)
    avatar_url: Annotated[str, Field(max_length=MAX_AVATAR_URL, pattern=AVATAR_URL_PATTERN)] | None = None
    preferences: PreferencesUpdate | None = None

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
    def _https_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = HttpUrl(value)  # the pattern admits only what this parses; normalised as before
        if url.scheme != "https":
            raise ValueError("avatar_url must use https")
        return str(url)


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
            preferences = changes.preferences.stored() if changes.preferences else Preferences()
            languages = preferences.preferred_languages
            unknown = sorted(set(languages) - SUPPORTED_LANGUAGES)
            if unknown:
                raise InvalidInput(
                    "Unknown language code(s).", code="unknown_language", details={"languages": unknown}
                )
            patch["preferences"] = preferences.model_copy(update={"preferred_languages": list(dict.fromkeys(languages))})
        updated = user.model_copy(update={**patch, "updated_at": self._clock.now()})
        self._store.save(updated)
        return updated
