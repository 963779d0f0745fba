"""Attaching licensed audio to a catalog track (operators): an upload form for the ``catalog/``
prefix of the media bucket, then the attach, which records the audio and runs the normal pipeline.

The pipeline's results are keyed by the audio's content hash, so the track's stems, analysis and
waveform are made once and every user's conversion of the track reuses them; the persist step
writes the analysed attributes back to the track's catalog row.

Two calls rather than one upload through the API: API Gateway caps a request at 10 MB, so the file
goes straight to S3 with a presigned POST (locally: the dev stack's ``/local-s3`` gateway, which
checks the policy as S3 does), and the attach names the key the form wrote.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from melody.catalog.track_audio import CATALOG_AUDIO_PREFIX, is_catalog_audio_key
from melody.conversions.models import Job
from melody.core.errors import InvalidInput, NotFound

# The operator account the CLI (and the local stack's demo songs) attach as: its jobs are the
# catalog's own conversions, never any listener's.
CATALOG_OPERATOR = "usr_catalogoperator"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def audio_key(track_id: str, upload_id: str, filename: str) -> str:
    """``catalog/<track id>/<upload id>/<file>``: a new key per upload (an attach never overwrites
    the audio a finished job was made from)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", base).strip("._")[:100] or "audio"
    return f"{CATALOG_AUDIO_PREFIX}{track_id}/{upload_id}/{name}"


class AudioCatalog(Protocol):
    def exists(self, track_id: str) -> bool: ...

    def set_audio_asset(self, track_id: str, storage_key: str, *, kind: str = "original", fmt: str | None = None) -> None: ...


class AudioObjects(Protocol):
    def presign_post(self, bucket: str, key: str, *, content_type: str, max_bytes: int, expires_s: int) -> dict[str, Any]: ...

    def head(self, bucket: str, key: str) -> dict[str, Any] | None: ...

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None: ...


class CatalogConversions(Protocol):
    def convert_track(self, user_id: str, track_id: str, engine: str | None) -> Job: ...


@dataclass(frozen=True)
class AttachResult:
    track_id: str
    key: str
    job: Job


class CatalogAudioService:
    def __init__(
        self,
        catalog: AudioCatalog,
        storage: AudioObjects,
        conversions: CatalogConversions,
        *,
        media_bucket: str,
        max_bytes: int,
        upload_expires_s: int,
    ) -> None:
        self._catalog = catalog
        self._storage = storage
        self._conversions = conversions
        self._bucket = media_bucket
        self._max_bytes = max_bytes
        self._expires_s = upload_expires_s

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def _require_track(self, track_id: str) -> None:
        if not self._catalog.exists(track_id):
            raise NotFound("No such track.", code="track_not_found")

    def upload_form(self, track_id: str, *, filename: str, content_type: str, size_bytes: int) -> tuple[str, dict[str, Any]]:
        """``(key, form)``: a presigned POST for one audio file under the track's catalog prefix."""
        self._require_track(track_id)
        if not content_type.lower().startswith("audio/"):
            raise InvalidInput("Only audio files can be attached.", code="unsupported_media_type")
        if size_bytes > self._max_bytes:
            raise InvalidInput(
                "The file is larger than the catalog audio limit.",
                code="file_too_large",
                details={"max_bytes": self._max_bytes},
            )
        key = audio_key(track_id, "upl_" + secrets.token_hex(8), filename)
        form = self._storage.presign_post(
            self._bucket, key, content_type=content_type.lower(), max_bytes=self._max_bytes, expires_s=self._expires_s
        )
        return key, form

    def attach(self, track_id: str, key: str, *, user_id: str, engine: str | None = None) -> AttachResult:
        """Record ``key`` (already in the media bucket) as the track's audio and run the pipeline on it."""
        self._require_track(track_id)
        if not is_catalog_audio_key(key) or not key.startswith(f"{CATALOG_AUDIO_PREFIX}{track_id}/"):
            raise InvalidInput(
                f"The key must be under {CATALOG_AUDIO_PREFIX}{track_id}/ (the upload form's key).", code="invalid_audio_key"
            )
        head = self._storage.head(self._bucket, key)
        if head is None:
            raise NotFound("Nothing was uploaded at that key (or the form was not used).", code="audio_not_uploaded")
        if int(head.get("ContentLength", 0)) > self._max_bytes:
            raise InvalidInput("The file is larger than the catalog audio limit.", code="file_too_large",
                               details={"max_bytes": self._max_bytes})
        fmt = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else None
        self._catalog.set_audio_asset(track_id, key, fmt=fmt)
        job = self._conversions.convert_track(user_id, track_id, engine)
        return AttachResult(track_id=track_id, key=key, job=job)

    def attach_file(
        self, track_id: str, path: str, *, user_id: str = CATALOG_OPERATOR, content_type: str = "audio/wav",
        engine: str | None = None, upload_id: str | None = None,
    ) -> AttachResult:
        """Upload a local file (the CLI, the local stack's demo songs), then :meth:`attach` it."""
        self._require_track(track_id)
        key = audio_key(track_id, upload_id or "upl_" + secrets.token_hex(8), path)
        self._storage.upload(path, self._bucket, key, content_type=content_type)
        return self.attach(track_id, key, user_id=user_id, engine=engine)
