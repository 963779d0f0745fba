"""Where a catalog track's playable audio is: ``audio_assets`` rows point into the media bucket."""

from __future__ import annotations

from typing import Any


class CatalogTrackAudio:
    def __init__(self, executor: Any, media_bucket: str) -> None:
        """``executor``: a SQL executor, or a callable returning one (connect on first use)."""
        self._executor = executor
        self._bucket = media_bucket

    def audio_location(self, track_id: str) -> tuple[str, str] | None:
        if callable(self._executor) and not hasattr(self._executor, "query"):
            self._executor = self._executor()
        rows = self._executor.query(
            "SELECT storage_key FROM audio_assets WHERE track_id = :track_id AND kind = 'original' LIMIT 1",
            {"track_id": track_id},
        )
        return (self._bucket, rows[0]["storage_key"]) if rows else None
