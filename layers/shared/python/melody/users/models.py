"""The user record the users service keeps (auth creates it at first login)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AudioQuality = Literal["low", "normal", "high"]


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Bounded: a PATCH body must not grow the user item towards DynamoDB's 400 KB limit.
    preferred_languages: list[str] = Field(default_factory=list, max_length=32)
    audio_quality: AudioQuality = "normal"
    explicit_content: bool = True


class User(BaseModel):
    user_id: str
    phone_e164: str
    name: str | None = None
    avatar_url: str | None = None
    preferences: Preferences = Field(default_factory=Preferences)
    is_verified: bool = False
    created_at: float
    updated_at: float
