"""Creating conversion jobs, showing them to their owner, and starting the pipeline on uploads."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from melody.conversions.models import (
    EXTRA_STEMS,
    INPUT_ERROR_CODES,
    ORIGINALS_PREFIX,
    Job,
    execution_name,
    result_key_for,
    source_location,
)
from melody.core.errors import Conflict, InvalidInput, NotFound, RateLimited, ServiceUnavailable
from melody.renditions.models import STEMS as RENDITION_STEMS
from melody.renditions.models import media_key as rendition_media_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.conversions.models import AudioResult
    from melody.conversions.ports import (
        JobStore,
        ObjectStorage,
        RateLimiter,
        ResultStore,
        StemExports,
        TrackAudio,
        TrackDirectory,
        TrackMatcher,
        UploadLibrary,
        WorkflowStarter,
    )
    from melody.core.clock import Clock
    from melody.renditions.ports import RenditionStore

UPLOAD_KEY = re.compile(r"^uploads/(?P<user>usr_[a-z0-9]+)/(?P<job>job_[a-z0-9]+)/(?P<file>[^/]+)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    """A key-safe file name that keeps the extension (ffmpeg probes content, not names)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "upload"


_NOT_IN_FILENAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_AUDIO_EXTENSION = re.compile(r"\.(mp3|m4a|aac|wav|flac|ogg|oga|opus|wma|aif|aiff|mp4|webm)$", re.I)
STEMS = ("instrumental", "vocals", "original")
DOWNLOAD_FORMATS = ("m4a", "wav")
# Seconds a client should wait before asking again for a WAV export being made.
EXPORT_RETRY_AFTER_S = 3


def display_title(filename: str) -> str:
    """The title of an untagged upload: the name as typed (any script kept), without folders or extension."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    title = " ".join(_AUDIO_EXTENSION.sub("", base).split())
    return title[:200] or "Untitled"


def download_name(title: str) -> str:
    """``title`` as a file name on any system: the user's characters, minus those no file name may hold."""
    name = " ".join(_NOT_IN_FILENAMES.sub(" ", title).split()).strip(" .")[:150]
    return name or "song"


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
    if not isinstance(value, dict) or set(value) != {"job_id", "user_id", "created_at"}:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
    return value


@dataclass(frozen=True)
class UploadLimits:
    """Per user: new upload forms per minute and per hour (sliding windows), and forms not yet used.

    A form past its lifetime (``upload_url_expires_s``) can no longer be used, so its job no longer
    counts as pending.
    """

    per_minute: int = 10
    per_hour: int = 100
    max_pending: int = 10


def _etag(value: Any) -> str:
    """An ETag as S3 events spell it (HeadObject quotes it)."""
    return str(value or "").strip().strip('"')


# A rendition still running when its song's last job is deleted: failed as its own execution would
# fail it at its next step (the stems are gone), so it is never served and asking again runs it anew.
_STEMS_DELETED = {"code": "stems_missing", "message": "The song's stems are no longer there; convert it again."}


class JobService:
    def __init__(
        self,
        jobs: JobStore,
        results: ResultStore,
        storage: ObjectStorage,
        workflow: WorkflowStarter,
        clock: Clock,
        *,
        uploads_bucket: str,
        media_bucket: str,
        max_upload_bytes: int,
        upload_url_expires_s: int,
        media_url_expires_s: int,
        default_engine: str = "dsp",
        engines: list[str] | None = None,
        track_audio: TrackAudio | None = None,
        limiter: RateLimiter | None = None,
        limits: UploadLimits | None = None,
        on_replay: Callable[[Job, dict[str, Any]], None] | None = None,
        library: UploadLibrary | None = None,
        tracks: Callable[[], TrackDirectory] | None = None,
        matcher: Callable[[], TrackMatcher | None] | None = None,
        storage_quota_bytes: int | None = None,
        renditions: RenditionStore | None = None,
    ) -> None:
        self._jobs = jobs
        self._results = results
        self._storage = storage
        self._workflow = workflow
        self._clock = clock
        self._uploads_bucket = uploads_bucket
        self._media_bucket = media_bucket
        self._max_upload_bytes = max_upload_bytes
        self._upload_expires = upload_url_expires_s
        self._media_expires = media_url_expires_s
        self._default_engine = default_engine
        # the engines this deployment offers (None: any the request schema allows)
        self._engines = frozenset(engines) if engines is not None else None
        self._track_audio = track_audio
        self._limiter = limiter
        self._limits = limits
        # on_replay(job, details): a later object at an accepted job's upload key (log + metric)
        self._on_replay = on_replay or (lambda job, details: None)
        self._library = library
        self._tracks = tracks  # built on first use: the catalog is read only by the routes that need it
        self._matcher = matcher
        self._quota = storage_quota_bytes
        # the result's renditions, deleted with its last job (None: they are left as they are)
        self._renditions = renditions

    @property
    def max_upload_bytes(self) -> int:
        return self._max_upload_bytes

    @property
    def storage_quota_bytes(self) -> int | None:
        return self._quota

    def create_upload(
        self,
        user_id: str,
        *,
        filename: str,
        content_type: str,
        size_bytes: int,
        engine: str | None,
        track_id: str | None = None,
        client: Literal["app", "api"] = "app",
        separate: bool = True,
    ) -> tuple[Job, dict[str, Any]]:
        """A job awaiting its upload, and the presigned form to upload it with.

        ``separate`` False: analysis only (a B2B analysis without stems). ``client == "api"`` (a
        developer's B2B analysis) is metered by the API plan, so the storage quota neither counts nor
        refuses it; the upload size limit and the per-user upload limits still apply.
        """
        if not content_type.lower().startswith("audio/"):
            raise InvalidInput("Only audio files can be converted.", code="unsupported_media_type")
        if size_bytes > self._max_upload_bytes:
            raise InvalidInput(
                "The file is larger than the upload limit.",
                code="file_too_large",
                details={"max_bytes": self._max_upload_bytes},
            )
        engine = self._offered_engine(engine)
        if track_id is not None:
            self._require_track(track_id)
        now = self._clock.now()
        if client == "app":
            self._check_quota(user_id, size_bytes, now)
        self._check_upload_limits(user_id, now)
        job_id = "job_" + secrets.token_hex(10)
        name = safe_filename(filename)  # the S3 key's; the title keeps what the user typed
        job = Job(
            job_id=job_id,
            user_id=user_id,
            status="awaiting_upload",
            engine=engine or self._default_engine,
            filename=name,
            title=display_title(filename),
            track_id=track_id,
            client=client,
            separate=separate,
            content_type=content_type.lower(),
            size_bytes=size_bytes,
            bucket=self._uploads_bucket,
            key=f"uploads/{user_id}/{job_id}/{name}",
            created_at=now,
            updated_at=now,
        )
        self._jobs.create(job)
        post = self._storage.presign_post(
            job.bucket,
            job.key,
            content_type=job.content_type or "audio/mpeg",
            size_bytes=size_bytes,  # the policy binds the declared size exactly
            expires_s=self._upload_expires,
        )
        return job, post

    def _require_track(self, track_id: str) -> None:
        if self._tracks is None or not self._tracks().exists(track_id):
            raise NotFound("No such track in the catalog.", code="track_not_found", details={"track_id": track_id})

    def _check_quota(self, user_id: str, size_bytes: int, now: float) -> None:
        if self._quota is None:
            return
        used = self._jobs.stored_bytes(user_id, pending_since=now - self._upload_expires)
        if used + size_bytes > self._quota:
            raise InvalidInput(
                "This upload would exceed your storage quota; delete songs you no longer need.",
                code="storage_quota_exceeded",
                details={"limit_bytes": self._quota, "used_bytes": used, "requested_bytes": size_bytes},
            )

    def _check_upload_limits(self, user_id: str, now: float) -> None:
        limits = self._limits
        if limits is None:
            return
        # Forms still usable: created within their lifetime and not yet uploaded to.
        pending = self._jobs.pending_upload_times(user_id, since=now - self._upload_expires)
        if len(pending) >= limits.max_pending:
            # The oldest pending forms expire first; one more fits when enough of them have.
            frees_at = sorted(pending)[len(pending) - limits.max_pending] + self._upload_expires
            raise RateLimited(
                "Too many uploads are waiting for their files; finish or let them expire first.",
                retry_after_s=max(1, math.ceil(frees_at - now)),
                code="too_many_pending_uploads",
            )
        if self._limiter is None:
            return
        for limit, window_s in ((limits.per_minute, 60), (limits.per_hour, 3600)):
            wait = self._limiter.hit(f"uploads#user#{user_id}", limit=limit, window_s=window_s, now=now)
            if wait is not None:
                raise RateLimited("Too many uploads started; try again later.", retry_after_s=wait)

    def _offered_engine(self, engine: str | None) -> str:
        """The job's engine: the one asked for if this deployment offers it, else the default."""
        if engine is None:
            return self._default_engine
        if self._engines is not None and engine not in self._engines:
            raise InvalidInput(
                "That separation engine is not offered here.",
                code="engine_unavailable",
                details={"engines": sorted(self._engines)},
            )
        return engine

    def convert_track(self, user_id: str, track_id: str, engine: str | None) -> Job:
        engine = self._offered_engine(engine)
        location = self._track_audio.audio_location(track_id) if self._track_audio else None
        if location is None:
            raise NotFound("That track has no audio to convert.", code="track_audio_not_found")
        bucket, key = location
        now = self._clock.now()
        job = Job(
            job_id="job_" + secrets.token_hex(10),
            user_id=user_id,
            status="queued",
            stage="queued",
            engine=engine or self._default_engine,
            source="catalog",
            track_id=track_id,
            bucket=bucket,
            key=key,
            created_at=now,
            updated_at=now,
            queued_at=now,
        )
        self._jobs.create(job)
        self._workflow.start(execution_name(job), pipeline_input(job))
        return job

    def get_for_user(self, user_id: str, job_id: str) -> Job:
        job = self._jobs.get(job_id) if job_id.startswith("job_") else None
        # Another user's job is "not found", never "forbidden": ids must not be probeable.
        if job is None or job.user_id != user_id:
            raise NotFound("No such job.", code="job_not_found")
        return job

    def list_for_user(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Job], str | None]:
        start = decode_cursor(cursor)
        if start is not None and start.get("user_id") != user_id:
            raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
        jobs, last = self._jobs.list_for_user(user_id, limit=limit, cursor=start)
        return jobs, encode_cursor(last)

    def result_links(self, job: Job) -> dict[str, Any] | None:
        if job.status != "succeeded" or not job.result_key:
            return None
        result = self._results.get(job.result_key)
        if result is None:
            return None
        get = self._storage.presign_get
        stem = download_name(job.title or (job.filename or "song").rsplit(".", 1)[0])
        # instrumental, vocals, and drums / bass / other when the engine produced them (neural);
        # none for an analysis-only job (``stems`` then empty and no ``*_url`` of a stem)
        keys = {name: key for name, key in stem_keys(job, result).items() if name in ("instrumental", "vocals", *EXTRA_STEMS)}
        return {
            **{
                f"{name}_url": get(self._media_bucket, key, expires_s=self._media_expires, filename=f"{stem} ({name}).m4a")
                for name, key in keys.items()
            },
            "stems": list(keys),
            "waveform_url": get(self._media_bucket, result.waveform_key, expires_s=self._media_expires),
            "original_url": get(*source_location(job), expires_s=self._media_expires),
            "analysis": result.analysis,
            "engine": {"name": result.engine, "version": result.engine_version},
        }

    # -- the user's songs: suggestions, links, downloads, retries, deletion -------------------------

    def with_suggestion(self, job: Job) -> Job:
        """Once a succeeded, unlinked upload is seen: offer the catalog track its tags match (stored once).

        The match is only offered (``suggested_track``); the user confirms it through :meth:`link`.
        """
        if job.source != "upload" or job.status != "succeeded" or job.track_id or job.match_checked:
            return job
        matcher = self._matcher() if self._matcher else None
        title = job.tags.get("title")
        if matcher is None or not title:
            return job
        try:
            suggested = matcher.match(title=title, artist=job.tags.get("artist"), duration_s=job.duration_s)
        except ServiceUnavailable:
            return job  # the catalog is down: the status still answers; the next look tries again
        changes = {"match_checked": True, "suggested_track": suggested.model_dump() if suggested else None}
        self._jobs.transition(job.job_id, allowed_from={"succeeded"}, changes=changes)
        if suggested is not None and self._library is not None:
            self._library.link_upload(job.user_id, job.job_id, track_id=None, suggested=suggested, now=self._clock.now())
        return job.model_copy(update={"match_checked": True, "suggested_track": suggested})

    def link(self, user_id: str, job_id: str, track_id: str) -> Job:
        """Confirm which catalog track an upload is: that track then plays from the user's own copy."""
        job = self.get_for_user(user_id, job_id)
        if job.source != "upload":
            raise Conflict("Only uploads can be linked to a catalog track.", code="not_an_upload")
        self._require_track(track_id)
        now = self._clock.now()
        statuses = {"awaiting_upload", "queued", "processing", "succeeded", "failed"}
        if not self._jobs.transition(job_id, allowed_from=statuses, changes={"track_id": track_id, "updated_at": now}):
            raise NotFound("No such job.", code="job_not_found")
        if self._library is not None and job.status == "succeeded":
            self._library.link_upload(user_id, job_id, track_id=track_id, suggested=job.suggested_track, now=now)
        return self.get_for_user(user_id, job_id)

    def download(
        self, user_id: str, job_id: str, stem: str, fmt: str, *, exports: StemExports | None = None
    ) -> dict[str, Any]:
        """A presigned GET that downloads one stem (or the original) under a readable file name.

        ``wav`` is made on request (by ``exports``): the first ask answers ``{"status": "preparing"}``
        and starts it; asking again once it is made answers the link.
        """
        job = self.get_for_user(user_id, job_id)
        if stem not in (*STEMS, *EXTRA_STEMS):
            raise NotFound("No such stem.", code="stem_not_found", details={"stems": list(STEMS)})
        wav_stems = ("instrumental", "vocals")
        if fmt not in DOWNLOAD_FORMATS or (fmt == "wav" and (exports is None or stem not in wav_stems)):
            raise InvalidInput(
                "That format is not offered for this stem: stems download as m4a (AAC), and the instrumental "
                "and vocals as wav on request.",
                code="format_unavailable",
                details={"formats": ["m4a", "wav"] if stem in wav_stems and exports is not None else ["m4a"]},
            )
        result = self._results.get(job.result_key) if job.status == "succeeded" and job.result_key else None
        if result is None:
            raise Conflict("The song is not ready yet.", code="job_not_ready")
        if stem != "original":
            require_stems(job, result)
        title = (self._library.upload_title(user_id, job_id) if self._library and job.source == "upload" else None) or job.title
        base = download_name(title or (job.filename or "song").rsplit(".", 1)[0])
        if stem == "original":
            bucket, key = source_location(job)
            extension = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else "audio"
            filename = f"{base}.{extension}"
            fmt = extension  # the upload as it came, in its own format
        else:
            bucket = self._media_bucket
            stored = stem_keys(job, result)
            if stem in EXTRA_STEMS:
                extra_key = stored.get(stem)
                if extra_key is None:  # this song's engine made two stems only
                    raise NotFound("This song has no such stem.", code="stem_not_found", details={"stems": self._stems_of(result)})
                key = extra_key
            elif fmt == "wav" and exports is not None:
                wav_key, export = exports.export_wav(job.result_key or "", stem)
                if wav_key is None:
                    return {"status": "preparing", "export_id": export.rendition_id, "retry_after_s": EXPORT_RETRY_AFTER_S}
                key = wav_key
            else:
                key = stored[stem]
            filename = f"{base} ({stem}).{fmt}"
        url = self._storage.presign_download(bucket, key, expires_s=self._media_expires, filename=filename)
        return {"url": url, "filename": filename, "format": fmt, "expires_in": self._media_expires}

    def melody(self, user_id: str, job_id: str) -> dict[str, Any]:
        """The job's lead sheet: what the melody step recorded, with short-lived links to its files."""
        job = self.get_for_user(user_id, job_id)
        result = self._results.get(job.result_key) if job.status == "succeeded" and job.result_key else None
        if result is None:
            raise Conflict("The song is not ready yet.", code="job_not_ready")
        require_stems(job, result)  # the lead sheet is made from the vocal stem
        record = dict(result.melody or {})
        if not record:
            return {"status": "unavailable"}
        if record.get("status") != "succeeded":
            return {"status": "failed", "code": str(record.get("code") or "processing_failed")}
        links = {
            kind: self._storage.presign_get(self._media_bucket, record[f"{kind}_key"], expires_s=self._media_expires)
            for kind in ("midi", "musicxml", "notes")
        }
        shown = {k: v for k, v in record.items() if not k.endswith("_key")}
        return {**shown, "downloads": links, "expires_in": self._media_expires}

    @staticmethod
    def _stems_of(result: AudioResult) -> list[str]:
        return [*STEMS, *(name for name in EXTRA_STEMS if name in result.extra_stem_keys)]

    def retry(self, user_id: str, job_id: str) -> Job:
        """Run a failed job again from its kept original (a new execution, ``<job id>-r<n>``)."""
        job = self.get_for_user(user_id, job_id)
        if job.status != "failed":
            raise Conflict("Only failed jobs can be retried.", code="job_not_failed")
        if (job.source == "upload" and not job.original_key) or (job.error and job.error.code in INPUT_ERROR_CODES):
            raise Conflict(
                "This file cannot be processed; upload another one.",
                code="not_retryable",
                details={"error_code": job.error.code if job.error else None},
            )
        now = self._clock.now()
        changes = {
            "status": "queued",
            "stage": "queued",
            "error": None,
            "attempt": job.attempt + 1,
            "queued_at": now,
            "started_at": None,
            "finished_at": None,
            "updated_at": now,
        }
        if not self._jobs.transition(job_id, allowed_from={"failed"}, changes=changes):
            raise Conflict("Only failed jobs can be retried.", code="job_not_failed")
        retried = self.get_for_user(user_id, job_id)
        self._workflow.start(execution_name(retried), pipeline_input(retried))
        return retried

    def delete(self, user_id: str, job_id: str) -> None:
        """Delete a job, its library entry and its original; its stems only with their last job.

        Stems are shared by every job of the same content (and engine): the result counts the jobs
        it serves, and only the last one's deletion deletes it, with the renditions made from it
        (:meth:`_delete_renditions`). A job still running cannot be deleted (its steps would write
        for a job that is gone).
        """
        job = self.get_for_user(user_id, job_id)
        if job.status in ("queued", "processing"):
            raise Conflict("The song is still being processed; delete it once it has finished.", code="job_in_progress")
        now = self._clock.now()
        if self._library is not None and job.source == "upload":
            self._library.remove_upload(user_id, job_id, now=now)
        if job.result_key:
            released = self._results.release_ref(job.result_key, job_id)
            if released is not None:
                # The waveform (analysis/<hash>/waveform.json) is shared by every engine: it stays.
                for key in (released.analysis_key, *released.stem_keys.values()):
                    self._storage.delete(self._media_bucket, key)
                # the lead sheet's files (issue 12) go with the stems they were made from
                for name, key in (released.melody or {}).items():
                    if name.endswith("_key") and isinstance(key, str):
                        self._storage.delete(self._media_bucket, key)
                self._delete_renditions(released.result_key)
        if job.source == "upload":
            if job.original_bucket and job.original_key:
                self._storage.delete(job.original_bucket, job.original_key)
            self._storage.delete(job.bucket, job.key)
        self._jobs.delete(job_id)

    def _delete_renditions(self, result_key: str) -> None:
        """Delete the renditions of a released result: their records, then their files.

        Renditions belong to the result, not to a user (their id is derived from the result, the
        semitones, the tempo and the format), so they go with its last job. A finished one
        (succeeded or failed) loses its record first, conditional on it still being finished, then
        both stems' files (a failed one may have rendered one of them); a failure in between leaves
        files without a record, never a record that serves deleted files. Its id may be asked for
        again if the song is converted anew: ``RenditionService`` then runs it under a free execution
        name.

        One still queued or processing is not deleted: its execution is running and would write its
        files after they were deleted, and a record created again under its id could not start
        (the running execution holds the name). It is failed instead (``stems_missing``, as its own
        next step would fail it), so it is never served; its execution's later writes are refused
        by that status, and its files (if it still uploads any) stay with the failed record, which a
        later deletion of the same result finds and deletes.
        """
        if self._renditions is None:
            return
        for rendition in self._renditions.of_result(result_key):
            if rendition.status in ("queued", "processing"):
                now = self._clock.now()
                self._renditions.transition(
                    rendition.rendition_id,
                    allowed_from={"queued", "processing"},
                    changes={"status": "failed", "error": _STEMS_DELETED, "finished_at": now, "updated_at": now},
                )
                continue
            if not self._renditions.delete(rendition.rendition_id, allowed_from={"succeeded", "failed"}):
                continue  # asked for again meanwhile: running now, its files are being written
            keys = {rendition_media_key(rendition, stem) for stem in RENDITION_STEMS}
            keys.update(key for key in (rendition.instrumental_key, rendition.vocals_key) if key)
            for key in sorted(keys):
                self._storage.delete(self._media_bucket, key)

    def _object_missing(self, job: Job) -> str:
        """The event names an object that is gone (deleted before processing): fail the job, saying so."""
        now = self._clock.now()
        self._jobs.transition(
            job.job_id,
            allowed_from={"awaiting_upload"},
            changes={
                "status": "failed",
                "stage": "upload",
                "error": {"code": "object_missing", "message": "The uploaded file is no longer there; upload it again."},
                "finished_at": now,
                "updated_at": now,
            },
        )
        return "missing"

    def on_object_created(self, bucket: str, key: str, size: int, etag: str | None = None) -> str:
        """Start the pipeline for an uploaded object; returns what happened (for logs/metrics).

        The first object at a job's upload key is accepted: copied, conditional on its ETag, to an
        immutable key in the media bucket that no upload form can write, and the job records that
        ETag and copy. The pipeline processes and the job serves the copy. A presigned POST stays
        valid for its lifetime and S3 cannot refuse it, so a later object at the same key (a
        replayed form) only raises another event: it is recognised by its other ETag and ignored
        (``replay_ignored``), while a retried or duplicated event for the accepted object
        (same ETag) is a ``duplicate`` and starts nothing new.

        Outcomes: ``started``, ``duplicate``, ``replay_ignored``, ``rejected``, ``superseded`` (the
        object was replaced before it could be copied: the newer object's event takes over),
        ``missing`` (the object was deleted before processing: the job fails with ``object_missing``)
        and ``ignored`` (not an upload of a job).
        """
        match = UPLOAD_KEY.match(key)
        if bucket != self._uploads_bucket or match is None:
            return "ignored"
        job = self._jobs.get(match["job"])
        if job is None or job.user_id != match["user"] or job.key != key:
            return "ignored"
        head: dict[str, Any] | None = None
        etag = _etag(etag)
        if not etag:  # an event without one (moto's spelling differs): the object's own
            head = self._storage.head(bucket, key)
            if head is None:
                return self._object_missing(job) if job.status == "awaiting_upload" else "ignored"
            etag = _etag(head.get("ETag"))
        if job.status != "awaiting_upload":
            return self._after_acceptance(job, etag)

        head = head or self._storage.head(bucket, key)
        if head is None:
            return self._object_missing(job)
        current = _etag(head.get("ETag")) or etag
        # The object now at the key is the one accepted (an older event's object was replaced:
        # its own event is then a replay of an accepted job, or arrives first and finds this).
        actual = int(head.get("ContentLength", size))
        content_type = str(head.get("ContentType", "")).lower()
        now = self._clock.now()
        # S3 enforces the signed policy; check again here so a bypass cannot reach the engine.
        problem = None
        if actual > self._max_upload_bytes or not content_type.startswith("audio/"):
            problem = {"code": "upload_rejected", "message": "The upload is too large or not audio."}
        elif job.size_bytes is not None and actual != job.size_bytes:
            problem = {
                "code": "size_mismatch",
                "message": f"The file is {actual} bytes, not the {job.size_bytes} bytes declared.",
            }
        if problem is not None:
            # The object is kept (for support); the job records which object it judged.
            self._jobs.transition(
                job.job_id,
                allowed_from={"awaiting_upload"},
                changes={
                    "status": "failed",
                    "stage": "upload",
                    "error": problem,
                    "upload_etag": current,
                    "finished_at": now,
                    "updated_at": now,
                },
            )
            return "rejected"

        original_key = f"{ORIGINALS_PREFIX}{job.user_id}/{job.job_id}/{current}/{job.filename or 'upload'}"
        if not self._storage.copy(bucket, key, self._media_bucket, original_key, if_match=current):
            return "superseded"
        accepted = self._jobs.transition(
            job.job_id,
            allowed_from={"awaiting_upload"},
            changes={
                "status": "queued",
                "stage": "queued",
                "progress": 1,
                "queued_at": now,
                "updated_at": now,
                "upload_etag": current,
                "original_bucket": self._media_bucket,
                "original_key": original_key,
            },
        )
        latest = self._jobs.get(job.job_id)
        if latest is None:
            return "ignored"
        if not accepted:  # another event for this key won the race: same object or another one
            return self._after_acceptance(latest, current)
        # Recorded first, then started (idempotent by name): a crash in between leaves a queued
        # job that the redelivered event starts (see _after_acceptance), never a second execution.
        return "started" if self._workflow.start(execution_name(latest), pipeline_input(latest)) else "duplicate"

    def _after_acceptance(self, job: Job, etag: str) -> str:
        """An event for a job that already left ``awaiting_upload``."""
        if job.upload_etag is not None and etag and etag != job.upload_etag:
            self._on_replay(job, {"accepted_etag": job.upload_etag, "etag": etag})
            return "replay_ignored"
        if job.status == "queued" and job.original_key:
            # The accepted object's event again: make sure its execution runs (same name, same input).
            return "started" if self._workflow.start(execution_name(job), pipeline_input(job)) else "duplicate"
        return "duplicate"


def pipeline_input(job: Job) -> dict[str, Any]:
    """The execution input: deterministic for a job, so a replayed start is recognised."""
    bucket, key = source_location(job)
    payload: dict[str, Any] = {"bucket": bucket, "key": key, "job_id": job.job_id, "user_id": job.user_id, "engine": job.engine}
    if not job.separate:
        # Analysis only (the ASL's WantsStems choice). Absent when stems are wanted, so a job's input
        # is the same as before the field existed (a replayed start of such a job is recognised).
        payload["separate"] = False
    return payload


def stem_keys(job: Job, result: AudioResult) -> dict[str, str]:
    """The stems a job may serve: the result's, unless the job is analysis only (``separate`` False).

    An analysis-only job never serves stems, even when its shared result has them (reused, or added
    by a later full run): it asked for, and was billed for, the analysis.
    """
    return result.stem_keys if job.separate else {}


def require_stems(job: Job, result: AudioResult) -> None:
    """409 ``stems_unavailable`` for a job without stems (an analysis-only B2B job)."""
    if not stem_keys(job, result):
        raise Conflict(
            "This job was an analysis only: it has no stems (analyse again with stems to get them).",
            code="stems_unavailable",
        )


__all__ = [
    "JobService",
    "require_stems",
    "stem_keys",
    "UploadLimits",
    "display_title",
    "download_name",
    "pipeline_input",
    "result_key_for",
    "safe_filename",
]
