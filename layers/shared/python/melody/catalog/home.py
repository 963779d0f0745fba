"""The home screen: a few sections of songs for one listener, in their preferred languages.

Sections, in order (an empty one is left out):

- ``trending``: the most played songs of the last week; when the plays are too few to rank
  (fewer than :data:`MIN_TRENDING` songs), the catalog's popularity instead (``source``
  ``"plays"`` or ``"popularity"``);
- ``recently_played``: the caller's own plays (the library's play records), newest first;
- ``your_conversions``: catalog songs the caller converted (their jobs, newest first);
- ``ready_to_sing``: songs with licensed audio (playable, with stems once converted).

Every item says whether the song has audio and the caller's instrumental status for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from melody.catalog.models import Track
from melody.catalog.ports import NO_INSTRUMENTAL, Instrumental, InstrumentalStatusLookup

if TYPE_CHECKING:
    from melody.core.clock import Clock

SectionId = Literal["trending", "recently_played", "your_conversions", "ready_to_sing"]
SECTION_SIZE = 12
MIN_TRENDING = 5
TRENDING_DAYS = 7
TITLES: dict[str, str] = {
    "trending": "Trending now",
    "recently_played": "Recently played",
    "your_conversions": "Your instrumentals",
    "ready_to_sing": "Ready to sing",
}
SOURCES: dict[str, str] = {
    "recently_played": "your_plays",
    "your_conversions": "your_jobs",
    "ready_to_sing": "catalog_audio",
}


class HomeCatalog(Protocol):
    def trending_in(self, *, since: dt.date, languages: list[str], limit: int) -> list[tuple[Track, int]]: ...

    def popular(self, *, languages: list[str], limit: int) -> list[Track]: ...

    def tracks_with_audio(self, *, languages: list[str], limit: int) -> list[Track]: ...

    def get_tracks(self, track_ids: list[str]) -> dict[str, Track]: ...

    def with_audio(self, track_ids: list[str]) -> set[str]: ...


class ListenerPreferences(Protocol):
    def preferred_languages(self, user_id: str) -> list[str]:
        """The user's preferred languages (empty when none or no such user)."""


class ListenerActivity(Protocol):
    def recently_played(self, user_id: str, *, limit: int) -> list[str]:
        """Track ids the user played, most recent first."""

    def converted_tracks(self, user_id: str, *, limit: int) -> list[str]:
        """Catalog track ids the user converted, most recent job first (each once)."""


@dataclass
class HomeItem:
    track: Track
    has_audio: bool
    instrumental: Instrumental


@dataclass
class HomeSection:
    id: SectionId
    title: str
    source: str
    items: list[HomeItem] = field(default_factory=list)


@dataclass
class Home:
    languages: list[str]
    sections: list[HomeSection]


class HomeService:
    def __init__(
        self,
        catalog: HomeCatalog,
        preferences: ListenerPreferences,
        activity: ListenerActivity,
        instrumental: InstrumentalStatusLookup,
        clock: Clock,
        *,
        section_size: int = SECTION_SIZE,
    ) -> None:
        self._catalog = catalog
        self._preferences = preferences
        self._activity = activity
        self._instrumental = instrumental
        self._clock = clock
        self._size = section_size

    def home(self, user_id: str, *, language: str | None = None) -> Home:
        languages = [language] if language else list(dict.fromkeys(self._preferences.preferred_languages(user_id)))
        n = self._size
        sections: list[tuple[SectionId, str, list[Track]]] = []

        today = dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).date()
        since = today - dt.timedelta(days=TRENDING_DAYS - 1)
        played = [t for t, plays in self._catalog.trending_in(since=since, languages=languages, limit=n) if plays > 0]
        if len(played) >= MIN_TRENDING:
            sections.append(("trending", "plays", played))
        else:
            sections.append(("trending", "popularity", self._catalog.popular(languages=languages, limit=n)))

        for section_id, ids in (
            ("recently_played", self._activity.recently_played(user_id, limit=n)),
            ("your_conversions", self._activity.converted_tracks(user_id, limit=n)),
        ):
            found = self._catalog.get_tracks(ids) if ids else {}
            sections.append((section_id, SOURCES[section_id], [found[i] for i in ids if i in found]))  # type: ignore[arg-type]

        sections.append(("ready_to_sing", SOURCES["ready_to_sing"], self._catalog.tracks_with_audio(languages=languages, limit=n)))

        ids = list(dict.fromkeys(t.id for _, _, tracks in sections for t in tracks))
        audio = self._catalog.with_audio(ids)
        statuses = self._instrumental.instrumentals(user_id, ids) if ids else {}
        return Home(
            languages=languages,
            sections=[
                HomeSection(
                    id=section_id,
                    title=TITLES[section_id],
                    source=source,
                    items=[HomeItem(t, t.id in audio, statuses.get(t.id, NO_INSTRUMENTAL)) for t in tracks],
                )
                for section_id, source, tracks in sections
                if tracks
            ],
        )
