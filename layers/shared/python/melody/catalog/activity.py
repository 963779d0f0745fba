"""Adapters the home screen reads a listener through: the users service's preferences, the
library's play records and the user's conversion jobs (read-only, through their own stores)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from melody.core.errors import NotFound

if TYPE_CHECKING:
    from melody.library.service import LibraryStore

# A user's library and jobs are read a page at a time; the home screen needs only the newest few.
PAGE = 100


class UserPreferences:
    """:class:`melody.catalog.home.ListenerPreferences` over the users service."""

    def __init__(self, users: Any) -> None:
        self._users = users

    def preferred_languages(self, user_id: str) -> list[str]:
        try:
            user = self._users.get(user_id)
        except NotFound:
            return []
        return list(user.preferences.preferred_languages)


class LibraryAndJobsActivity:
    """:class:`melody.catalog.home.ListenerActivity`: plays from the library store (its
    ``by_updated`` index: a play updates the item), catalog conversions from the jobs' ``by_user``
    index. ``jobs`` is None where the function has no jobs table (no conversions to show)."""

    def __init__(self, library: LibraryStore, jobs: Any | None) -> None:
        self._library = library
        self._jobs = jobs

    def recently_played(self, user_id: str, *, limit: int) -> list[str]:
        entries, _ = self._library.page(user_id, limit=PAGE, start=None, updated_since=0.0)
        played = [e for e in entries if not e.deleted and e.last_played_at]
        played.sort(key=lambda e: e.last_played_at or 0.0, reverse=True)
        return [e.track_id for e in played[:limit]]

    def converted_tracks(self, user_id: str, *, limit: int) -> list[str]:
        if self._jobs is None:
            return []
        jobs, _ = self._jobs.list_for_user(user_id, limit=PAGE, cursor=None)
        ids = [j.track_id for j in jobs if j.source == "catalog" and j.track_id and j.status != "failed"]
        return list(dict.fromkeys(ids))[:limit]
