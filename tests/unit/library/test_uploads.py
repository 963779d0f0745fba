"""Uploads in the library service: renaming, plays that never touch the catalog, decoration."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from melody.core.errors import InvalidInput, NotFound
from melody.library.service import LibraryEntry, LibraryService


class Store:
    def __init__(self):
        self.entries = {("usr_a", "job_x"): LibraryEntry("usr_a", "job_x", 1.0, 1.0, kind="upload", title="Song")}

    def rename_upload(self, user_id, job_id, title, *, now):
        entry = self.entries.get((user_id, job_id))
        if entry is None:
            return None
        entry.title, entry.updated_at = title, now
        return entry

    def record_play(self, user_id, track_id, *, now):
        entry = self.entries.get((user_id, track_id))
        if entry:
            entry.play_count += 1
        return entry


class Catalog:
    plays: list = []

    def get_tracks(self, ids):
        return {}

    def exists(self, track_id):
        return False

    def record_play(self, track_id, at):
        self.plays.append(track_id)


def service():
    return LibraryService(Store(), Catalog(), SimpleNamespace(now=lambda: 9.0))


def test_rename_keeps_the_users_characters_and_is_scoped_to_the_owner():
    lib = service()
    entry, track, instrumental = lib.rename_upload("usr_a", "job_x", "  तुम   ही  ")
    assert entry.title == "तुम ही" and (instrumental.status, instrumental.job_id) == ("completed", "job_x")
    with pytest.raises(NotFound):
        lib.rename_upload("usr_b", "job_x", "mine")
    with pytest.raises(InvalidInput):
        lib.rename_upload("usr_a", "job_x", "   ")


def test_an_upload_play_counts_in_the_library_only():
    lib = service()
    assert lib.play("usr_a", "job_x").play_count == 1
    assert lib.play("usr_b", "job_x") is None and Catalog.plays == []
