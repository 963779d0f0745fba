"""Where a catalog track's playable audio is: ``audio_assets`` rows point into the media bucket.

Catalog audio lives under one documented prefix of the media bucket, :data:`CATALOG_AUDIO_PREFIX`
(``catalog/<track id>/<file>``, as the operators' loaders and the tests write it). The functions
that read or presign it hold ``s3:GetObject`` on that prefix only (``infra``: ``add_catalog_routes``),
so a storage key outside it is treated as no audio at all: never presigned, never converted.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

CATALOG_AUDIO_PREFIX = "catalog/"


def is_catalog_audio_key(key: str) -> bool:
    """A key under :data:`CATALOG_AUDIO_PREFIX` with a file name (no empty, ``.`` or ``..`` segments)."""
    if not key.startswith(CATALOG_AUDIO_PREFIX):
        return False
    parts = key[len(CATALOG_AUDIO_PREFIX):].split("/")
    return all(part not in ("", ".", "..") for part in parts)


class CatalogTrackAudio:
    def __init__(self, executor: Any, media_bucket: str) -> None:
        """``executor``: a SQL executor, or a callable returning one (connect on first use)."""
        self._executor = executor
        self._bucket = media_bucket

    def audio_location(self, track_id: str) -> tuple[str, str] | None:
        """``(bucket, key)`` of the track's original audio, or None (none, or a key outside the prefix)."""
        if callable(self._executor) and not hasattr(self._executor, "query"):
            self._executor = self._executor()
        rows = self._executor.query(
            "SELECT storage_key FROM audio_assets WHERE track_id = :track_id AND kind = 'original' LIMIT 1",
            {"track_id": track_id},
        )
        if not rows or not is_catalog_audio_key(rows[0]["storage_key"]):
            return None
        return self._bucket, rows[0]["storage_key"]

    def audio_url(self, track_id: str, storage: Any, *, expires_s: int, title: str | None = None) -> str | None:
        """A presigned GET of the track's original audio (``storage``: :class:`melody.core.s3.S3Storage`),
        or None when it has none. ``title`` names the file a browser saves (the key's extension kept)."""
        location = self.audio_location(track_id)
        if location is None:
            return None
        bucket, key = location
        name = title.replace("/", "-").replace("\\", "-").strip() if title else ""
        filename = f"{name}{PurePosixPath(key).suffix}" if name else None
        url: str = storage.presign_get(bucket, key, expires_s=expires_s, filename=filename)
        return url
