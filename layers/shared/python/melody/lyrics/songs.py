"""Which song a ``track_id`` names for the caller: a catalog track, or one of the caller's uploads
(its job id, ``job_...``). Another user's upload is "no such song" (never a 403 that confirms it).

A catalog song is asked for by its Latin title when it has one: LRCLIB's catalogue (fed from the
streaming services' metadata) names Indian film songs in Latin script far more often than natively."""

from __future__ import annotations

from typing import TYPE_CHECKING

from melody.lyrics.ports import SongRef

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.catalog.postgres.repository import CatalogRepository
    from melody.conversions.dynamodb import DynamoJobStore

__all__ = ["CatalogAndUploads"]


class CatalogAndUploads:
    def __init__(self, catalog: Callable[[], CatalogRepository], jobs: Callable[[], DynamoJobStore]) -> None:
        self._catalog = catalog  # lazy: an upload's lyrics need no catalog connection unless linked
        self._jobs = jobs

    def song(self, user_id: str, track_id: str) -> SongRef | None:
        if track_id.startswith("job_"):
            job = self._jobs().get(track_id)
            if job is None or job.user_id != user_id:
                return None
            if job.track_id:  # the user's copy of a catalog song: the catalog's names are cleaner
                linked = self._catalog().get_tracks([job.track_id]).get(job.track_id)
                if linked is not None:
                    return SongRef(track_id, linked.title_latin or linked.title, list(linked.artists), linked.album,
                                   float(job.duration_s or linked.duration_s or 0) or None)  # fmt: skip
            artist = job.tags.get("artist")
            return SongRef(track_id, job.tags.get("title") or job.title, [artist] if artist else [],
                           job.tags.get("album"), job.duration_s)  # fmt: skip
        track = self._catalog().get_tracks([track_id]).get(track_id)
        if track is None:
            return None
        return SongRef(track_id, track.title_latin or track.title, list(track.artists), track.album,
                       float(track.duration_s) if track.duration_s else None)  # fmt: skip
