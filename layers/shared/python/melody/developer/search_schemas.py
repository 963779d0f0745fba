"""The B2B search surface's models: a query's interpretation and results, attribute filters, hits.

Validated at the edge: the router binds :class:`TrackFilters` from the query string, so a bad key
or Camelot code is a 422 with a stable code, never a 500 or an empty page.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from melody.api.error_codes import error_code
from melody.developer.harmonic import camelot_of, normalize_camelot, normalize_key

__all__ = [
    "FloatRange",
    "Interpretation",
    "NextPage",
    "QueryResult",
    "TrackFilters",
    "TrackHit",
    "TrackPage",
]


class _Model(BaseModel):
    # Built on first use, not at import (cold start), like the catalog's models.
    model_config = ConfigDict(defer_build=True)


class IntRange(_Model):
    min: int | None = None
    max: int | None = None


class FloatRange(_Model):
    min: float | None = Field(default=None, ge=0, le=1)
    max: float | None = Field(default=None, ge=0, le=1)


class Interpretation(_Model):
    """What a natural-language query asks for. Every field is optional; which of them the search
    filters on is listed in :attr:`QueryResult.applied` (the others are understood, not filtered)."""

    language: str | None = Field(default=None, description="ISO 639 code of the songs' language")
    bpm: IntRange | None = Field(default=None, description="tempo range; 'around N' is N ±5 %")
    key: str | None = Field(default=None, description='e.g. "A minor" (engine spelling)')
    camelot: str | None = Field(default=None, description='e.g. "8A"')
    energy: FloatRange | None = Field(default=None, description="0–1")
    mood: str | None = Field(default=None, description="sad, romantic, happy, chill, party, workout, wedding, ...")
    era: str | None = Field(default=None, description='"1990s", "2010s", "classic" (before 2000) or "recent" (2020 on)')
    artists: list[str] | None = None
    similar_to: str | None = Field(default=None, description="a song the results should resemble")
    genre: str | None = None

    def fields(self) -> list[str]:
        """The names of the fields that are set."""
        return [name for name, value in self if value not in (None, [], "")]


class TrackHit(_Model):
    id: str
    title: str
    title_latin: str | None = None
    artists: list[str] = Field(default_factory=list)
    language: str | None = None
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    popularity: int = 0
    bpm: float | None = None
    key: str | None = None
    camelot: str | None = None
    energy: float | None = None
    # Set by next tracks and "songs like …": why this track follows, and how well (0–1).
    reasons: list[str] = Field(default_factory=list)
    score: float | None = None


class QueryResult(_Model):
    interpretation: Interpretation
    confidence: float = Field(ge=0, le=1, description="the share of the query's words the interpreter explained")
    interpreter: Literal["rules", "llm"]
    # Honest about the catalog: fields it stores are filtered on; the others (mood) only interpreted.
    applied: list[str] = Field(default_factory=list, description="interpretation fields the results are filtered or ranked on")
    not_applied: list[str] = Field(default_factory=list, description="interpretation fields understood but not used")
    items: list[TrackHit]


_KEY_HELP = 'a key such as "A minor", "F# major", "Bb minor"'
_CAMELOT_HELP = "a Camelot code, 1A–12B"


class TrackFilters(_Model):
    """Attribute search over catalog tracks with analysis (``GET /b2b/tracks``).

    ``compatible_with`` keeps the keys that mix with that Camelot code (same, ±1, relative) and
    turns on tempo mixing: the bpm range then widens by ``bpm_tolerance`` and matches at half and
    double time too. Without it the bpm range is exact.
    """

    bpm_min: float | None = Field(default=None, ge=20, le=300, json_schema_extra=error_code("invalid_bpm"))
    bpm_max: float | None = Field(default=None, ge=20, le=300, json_schema_extra=error_code("invalid_bpm"))
    key: str | None = Field(default=None, max_length=16, description=_KEY_HELP, json_schema_extra=error_code("invalid_key"))
    camelot: str | None = Field(default=None, max_length=3, description=_CAMELOT_HELP,
                                json_schema_extra=error_code("invalid_camelot"))
    compatible_with: str | None = Field(default=None, max_length=3, description=_CAMELOT_HELP,
                                        json_schema_extra=error_code("invalid_camelot"))
    energy_min: float | None = Field(default=None, ge=0, le=1, json_schema_extra=error_code("invalid_energy"))
    energy_max: float | None = Field(default=None, ge=0, le=1, json_schema_extra=error_code("invalid_energy"))
    language: str | None = Field(default=None, min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$",
                                 json_schema_extra=error_code("invalid_language"))
    bpm_tolerance: float = Field(default=0.06, ge=0, le=0.25, json_schema_extra=error_code("invalid_bpm_tolerance"))

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = normalize_key(value)
        if key is None:
            raise ValueError(f"key must be {_KEY_HELP}")
        return key

    @field_validator("camelot", "compatible_with")
    @classmethod
    def _camelot(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = normalize_camelot(value)
        if code is None:
            raise ValueError(f"must be {_CAMELOT_HELP}")
        return code

    @model_validator(mode="after")
    def _consistent(self) -> TrackFilters:
        if self.bpm_min is not None and self.bpm_max is not None and self.bpm_min > self.bpm_max:
            raise ValueError("bpm_min must not exceed bpm_max")
        if self.energy_min is not None and self.energy_max is not None and self.energy_min > self.energy_max:
            raise ValueError("energy_min must not exceed energy_max")
        if self.key is not None and self.camelot is not None and camelot_of(self.key) != self.camelot:
            raise ValueError("key and camelot name different keys")
        return self

    def target_camelot(self) -> str | None:
        """The one key asked for (``camelot`` or ``key``), as a Camelot code."""
        return self.camelot or (camelot_of(self.key) if self.key else None)


class TrackPage(_Model):
    items: list[TrackHit]
    next_cursor: str | None = None


class NextPage(_Model):
    track: TrackHit
    items: list[TrackHit]
