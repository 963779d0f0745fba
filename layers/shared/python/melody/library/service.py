"""Library use cases. Every call is scoped to the caller's user id: a user never sees another's items."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from melody.catalog.models import Track
from melody.catalog.ports import NO_INSTRUMENTAL, Instrumental, InstrumentalStatusLookup, NoInstrumentalStatus
from melody.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from melody.core.clock import Clock


@dataclass
class LibraryEntry:
    user_id: str
    track_id: str
    added_at: float
    updated_at: float
    play_count: int = 0
    last_played_at: float | None = None
    deleted: bool = False
    # Uploads are entries too, keyed by their job id (``track_id`` is ``job_...``): the title the
    # user sees (renamable), the catalog track it is linked to, and the match offered for it.
    kind: str = "track"  # "track" (a saved catalog track) or "upload"
    title: str | None = None
    linked_track_id: str | None = None
    suggested_track: dict[str, Any] | None = None


def is_upload_id(track_id: str) -> bool:
    return track_id.startswith("job_")


def instrumentals_of(lookup: InstrumentalStatusLookup, user_id: str, track_ids: list[str]) -> dict[str, Instrumental]:
    """Status and job id per track for ``user_id`` (every requested track answered)."""
    if not track_ids:
        return {}
    found = lookup.instrumentals(user_id, track_ids)
    return {t: found.get(t, NO_INSTRUMENTAL) for t in track_ids}


@dataclass
class LibraryPage:
    items: list[tuple[LibraryEntry, Track | None, Instrumental]]
    next_cursor: str | None


class LibraryStore(Protocol):
    def add(self, user_id: str, track_id: str, *, now: float) -> tuple[LibraryEntry, bool]: ...

    def remove(self, user_id: str, track_id: str, *, now: float) -> bool: ...

    def record_play(self, user_id: str, track_id: str, *, now: float) -> LibraryEntry | None: ...

    def rename_upload(self, user_id: str, job_id: str, title: str, *, now: float) -> LibraryEntry | None: ...

    def page(
        self, user_id: str, *, limit: int, start: dict[str, Any] | None, updated_since: float | None
    ) -> tuple[list[LibraryEntry], dict[str, Any] | None]: ...


class TrackCatalog(Protocol):
    def get_tracks(self, track_ids: list[str]) -> dict[str, Track]: ...

    def exists(self, track_id: str) -> bool: ...

    def record_play(self, track_id: str, at: Any) -> None: ...


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, user_id: str) -> dict[str, Any]:
    bad = InvalidInput("The cursor is not one this API returned.", code="invalid_cursor")
    if len(cursor) > 1024:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(key, dict) or key.get("user_id") != user_id or not isinstance(key.get("track_id"), str):
        raise bad  # another user's cursor (or a forged one) never pages through this user's library
    allowed = {"user_id", "track_id", "added_at", "updated_at"}
    if set(key) - allowed or not all(isinstance(key.get(k, 0), (int, float)) for k in ("added_at", "updated_at")):
        raise bad
    return key


class LibraryService:
    def __init__(
        self,
        store: LibraryStore,
        catalog: TrackCatalog,
        clock: Clock,
        instrumental: InstrumentalStatusLookup | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.instrumental = instrumental or NoInstrumentalStatus()

    def _require_track(self, track_id: str) -> None:
        if not self.catalog.exists(track_id):
            raise NotFound("No such track in the catalog.", code="track_not_found", details={"track_id": track_id})

    def _decorate(self, user_id: str, entries: list[LibraryEntry]) -> list[tuple[LibraryEntry, Track | None, Instrumental]]:
        saved = [e.track_id for e in entries if e.kind != "upload"]
        linked = [e.linked_track_id for e in entries if e.kind == "upload" and e.linked_track_id]
        wanted = list(dict.fromkeys(saved + linked))
        tracks = self.catalog.get_tracks(wanted) if wanted else {}
        found = instrumentals_of(self.instrumental, user_id, saved)
        rows: list[tuple[LibraryEntry, Track | None, Instrumental]] = []
        for e in entries:
            if e.kind == "upload":
                # An upload's entry exists once its job succeeded: its own stems are the instrumental.
                track = tracks.get(e.linked_track_id) if e.linked_track_id else None
                rows.append((e, track, Instrumental("completed", e.track_id)))
            else:
                rows.append((e, tracks.get(e.track_id), found.get(e.track_id, NO_INSTRUMENTAL)))
        return rows

    def add(self, user_id: str, track_id: str) -> tuple[tuple[LibraryEntry, Track | None, Instrumental], bool]:
        self._require_track(track_id)
        entry, created = self.store.add(user_id, track_id, now=self.clock.now())
        return self._decorate(user_id, [entry])[0], created

    def remove(self, user_id: str, track_id: str) -> bool:
        return self.store.remove(user_id, track_id, now=self.clock.now())

    def rename_upload(self, user_id: str, job_id: str, title: str) -> tuple[LibraryEntry, Track | None, Instrumental]:
        """Retitle an upload's entry (what the library and its downloads are called)."""
        clean = " ".join(title.split())
        if not clean:
            raise InvalidInput("The title cannot be empty.", code="invalid_title")
        entry = self.store.rename_upload(user_id, job_id, clean, now=self.clock.now()) if is_upload_id(job_id) else None
        if entry is None:
            raise NotFound("No such upload in your library.", code="upload_not_found")
        return self._decorate(user_id, [entry])[0]

    def play(self, user_id: str, track_id: str) -> LibraryEntry | None:
        if is_upload_id(track_id):
            # An upload plays from the user's own copy; it counts in their library (recently
            # played), never in the catalog's plays. None when it is not (or no longer) theirs.
            return self.store.record_play(user_id, track_id, now=self.clock.now())
        self._require_track(track_id)
        import datetime as dt

        now = self.clock.now()
        self.catalog.record_play(track_id, dt.datetime.fromtimestamp(now, tz=dt.UTC))
        return self.store.record_play(user_id, track_id, now=now)

    def list(self, user_id: str, *, limit: int, cursor: str | None, updated_since: float | None) -> LibraryPage:
        start = decode_cursor(cursor, user_id) if cursor else None
        entries, last = self.store.page(user_id, limit=limit, start=start, updated_since=updated_since)
        return LibraryPage(self._decorate(user_id, entries), encode_cursor(last) if last else None)
