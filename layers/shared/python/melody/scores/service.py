"""Score uploads, their acceptance when the object lands, and showing them to their owner."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from melody.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from melody.scores.models import (
    EXTENSIONS,
    ORIGINALS_PREFIX,
    UPLOAD_KEY,
    UPLOAD_PREFIX,
    Score,
    execution_name,
    owned_result_keys,
    owned_results_prefix,
    results_of,
)

if TYPE_CHECKING:
    from melody.core.clock import Clock
    from melody.scores.ports import RateLimiter, ScoreObjects, ScoreStore, WorkflowStarter

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
DOWNLOADS = ("musicxml", "midi", "original")
# A score being analysed cannot be deleted: its steps would write results for a record that is gone.
IN_PROGRESS = frozenset({"queued", "processing"})
DELETABLE = frozenset({"awaiting_upload", "succeeded", "failed"})


def safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("_", base).strip(" .")[:120] or "score"


def display_title(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return " ".join(stem.split())[:200] or "Untitled score"


def extension_of(filename: str) -> str:
    base = filename.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _etag(value: Any) -> str:
    return str(value or "").strip().strip('"')


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode() if key else None


def decode_cursor(cursor: str | None, user_id: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
    if not isinstance(value, dict) or set(value) != {"score_id", "user_id", "created_at"} or value["user_id"] != user_id:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
    return value


def workflow_input(score: Score) -> dict[str, Any]:
    """The execution input: deterministic for a score, so a replayed start is recognised."""
    return {
        "score_id": score.score_id,
        "user_id": score.user_id,
        "bucket": score.original_bucket or score.bucket,
        "key": score.original_key or score.key,
        "format": score.format,
        "filename": score.filename,
    }


class ScoreService:
    def __init__(
        self,
        scores: ScoreStore,
        storage: ScoreObjects,
        workflow: WorkflowStarter | None,
        clock: Clock,
        *,
        uploads_bucket: str,
        media_bucket: str,
        max_bytes: int,
        upload_url_expires_s: int,
        url_expires_s: int,
        limiter: RateLimiter | None = None,
        per_hour: int = 60,
    ) -> None:
        self._scores = scores
        self._storage = storage
        self._workflow = workflow
        self._clock = clock
        self._uploads_bucket = uploads_bucket
        self._media_bucket = media_bucket
        self._max_bytes = max_bytes
        self._upload_expires = upload_url_expires_s
        self._url_expires = url_expires_s
        self._limiter = limiter
        self._per_hour = per_hour

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    # -- uploads ------------------------------------------------------------------------------

    def create_upload(self, user_id: str, *, filename: str, size_bytes: int) -> tuple[Score, dict[str, Any]]:
        """A new score awaiting its file, and the presigned POST that uploads it."""
        extension = extension_of(filename)
        if extension not in EXTENSIONS:
            raise InvalidInput(
                "Only MusicXML (.musicxml, .xml, .mxl), MIDI (.mid, .midi) and ABC (.abc) scores can be uploaded.",
                code="unsupported_score_type",
                details={"extensions": sorted(EXTENSIONS)},
            )
        if size_bytes > self._max_bytes:
            raise InvalidInput(
                "The file is larger than the score upload limit.", code="file_too_large", details={"max_bytes": self._max_bytes}
            )
        now = self._clock.now()
        if self._limiter is not None:
            wait = self._limiter.hit(f"scores#user#{user_id}", limit=self._per_hour, window_s=3600, now=now)
            if wait is not None:
                raise RateLimited("Too many score uploads started; try again later.", retry_after_s=wait)
        fmt, content_type = EXTENSIONS[extension]
        score_id = "scr_" + secrets.token_hex(10)
        name = safe_filename(filename)
        score = Score(
            score_id=score_id,
            user_id=user_id,
            status="awaiting_upload",
            filename=name,
            title=display_title(filename),
            format=fmt,
            content_type=content_type,
            size_bytes=size_bytes,
            bucket=self._uploads_bucket,
            key=f"{UPLOAD_PREFIX}{user_id}/{score_id}/{name}",
            created_at=now,
            updated_at=now,
        )
        self._scores.create(score)
        post = self._storage.presign_post(
            score.bucket, score.key, content_type=content_type, size_bytes=size_bytes, expires_s=self._upload_expires
        )
        return score, post

    def on_object_created(self, bucket: str, key: str, etag: str | None = None) -> str:
        """Accept the first object at a score's upload key and start its analysis.

        Outcomes: ``started``, ``duplicate`` (the accepted object's event again), ``replay_ignored``
        (a later object at the same key: the accepted copy is what the score keeps), ``rejected``
        (wrong size or type: the score fails, the object is kept), ``missing`` and ``ignored``.
        """
        match = UPLOAD_KEY.match(key)
        if bucket != self._uploads_bucket or match is None:
            return "ignored"
        score = self._scores.get(match["score"])
        if score is None or score.user_id != match["user"] or score.key != key:
            return "ignored"
        if score.status != "awaiting_upload":
            if score.upload_etag and _etag(etag) and _etag(etag) != score.upload_etag:
                return "replay_ignored"
            if score.status == "queued" and score.original_key:
                return self._start(score)
            return "duplicate"
        head = self._storage.head(bucket, key)
        now = self._clock.now()
        if head is None:
            self._fail(score, "object_missing", "The uploaded file is no longer there; upload it again.", now)
            return "missing"
        current = _etag(head.get("ETag")) or _etag(etag)
        size = int(head.get("ContentLength", -1))
        content_type = str(head.get("ContentType", "")).lower()
        problem = None
        if size != score.size_bytes:
            problem = ("size_mismatch", f"The file is {size} bytes, not the {score.size_bytes} bytes declared.")
        elif content_type != score.content_type:
            problem = ("upload_rejected", "The upload's type does not match its file name.")
        if problem is not None:
            self._fail(score, *problem, now, extra={"upload_etag": current})
            return "rejected"
        original_key = f"{ORIGINALS_PREFIX}{score.user_id}/{score.score_id}/{current}/{score.filename}"
        if not self._storage.copy(bucket, key, self._media_bucket, original_key, if_match=current):
            return "superseded"
        accepted = self._scores.transition(
            score.score_id,
            allowed_from={"awaiting_upload"},
            changes={
                "status": "queued",
                "upload_etag": current,
                "original_bucket": self._media_bucket,
                "original_key": original_key,
                "updated_at": now,
            },
        )
        latest = self._scores.get(score.score_id)
        if latest is None:
            return "ignored"
        if not accepted:
            return "replay_ignored" if latest.upload_etag and latest.upload_etag != current else "duplicate"
        return self._start(latest)

    def _start(self, score: Score) -> str:
        if self._workflow is None:
            raise RuntimeError("no score workflow is configured (MELODY_SCORE_STATE_MACHINE_ARN)")
        return "started" if self._workflow.start(execution_name(score), workflow_input(score)) else "duplicate"

    def _fail(self, score: Score, code: str, message: str, now: float, *, extra: dict[str, Any] | None = None) -> None:
        """The file was refused at upload: the score fails, the object stays (for support)."""
        changes = {"status": "failed", "error": {"code": code, "message": message}, "finished_at": now, "updated_at": now}
        self._scores.transition(score.score_id, allowed_from={"awaiting_upload"}, changes={**changes, **(extra or {})})

    # -- reading ------------------------------------------------------------------------------

    def get_for_user(self, user_id: str, score_id: str) -> Score:
        score = self._scores.get(score_id) if score_id.startswith("scr_") else None
        # Another user's score is "not found", never "forbidden": ids must not be probeable.
        if score is None or score.user_id != user_id:
            raise NotFound("No such score.", code="score_not_found")
        return score

    def list_for_user(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Score], str | None]:
        scores, last = self._scores.list_for_user(user_id, limit=limit, cursor=decode_cursor(cursor, user_id))
        return scores, encode_cursor(last)

    def analysis(self, score: Score) -> dict[str, Any] | None:
        """The stored analysis of a succeeded score."""
        keys = results_of(score)
        if keys is None:
            return None
        document = self._storage.get_json(self._media_bucket, keys["analysis"])
        return document if isinstance(document, dict) else None

    def links(self, score: Score) -> dict[str, str] | None:
        """Short-lived inline URLs of the normalised MusicXML (what the view engraves) and the MIDI."""
        keys = results_of(score)
        if keys is None:
            return None
        name = _download_name(score.title)

        def get(what: str, extension: str) -> str:
            return self._storage.presign_get(
                self._media_bucket, keys[what], expires_s=self._url_expires, filename=f"{name}.{extension}", attachment=False
            )

        return {"musicxml_url": get("musicxml", "musicxml"), "midi_url": get("midi", "mid")}

    def download(self, user_id: str, score_id: str, what: str) -> dict[str, Any]:
        score = self.get_for_user(user_id, score_id)
        if what not in DOWNLOADS:
            raise NotFound("No such download.", code="download_not_found", details={"downloads": list(DOWNLOADS)})
        name = _download_name(score.title)
        if what == "original":
            if not score.original_key or not score.original_bucket:
                raise Conflict("The score's file has not been received yet.", code="score_not_ready")
            bucket, key = score.original_bucket, score.original_key
            filename = f"{name}.{extension_of(score.filename) or 'score'}"
        else:
            keys = results_of(score)
            if keys is None:
                raise Conflict("The score has not been analysed yet.", code="score_not_ready")
            bucket, key = self._media_bucket, keys[what]
            filename = f"{name}.{'musicxml' if what == 'musicxml' else 'mid'}"
        url = self._storage.presign_get(bucket, key, expires_s=self._url_expires, filename=filename, attachment=True)
        return {"url": url, "filename": filename, "format": what, "expires_in": self._url_expires}

    # -- deleting -----------------------------------------------------------------------------

    def delete(self, user_id: str, score_id: str) -> None:
        """Delete one of the user's scores: its upload, its accepted original, its analysis and
        renderings (``scores/<user>/<score>/``), then its record.

        A record from before ``owned_results`` names results under ``scores/<content hash>/`` instead:
        those are not the score's own (every score of the same bytes, any user's, serves them, and
        nothing records which do), so they stay; they name no user and only the same bytes lead to them.
        """
        score = self.get_for_user(user_id, score_id)
        if score.status in IN_PROGRESS:
            raise _in_progress()
        # Objects first: should a delete fail half-way the record stays, and deleting again finishes it.
        for bucket, key in self._own_objects(score):
            self._storage.delete(bucket, key)
        # Conditional on the status: a file that landed meanwhile has queued the score (409, as above).
        if not self._scores.delete(score.score_id, allowed_from=set(DELETABLE)):
            if self._scores.get(score.score_id) is None:
                raise NotFound("No such score.", code="score_not_found")
            raise _in_progress()

    def _own_objects(self, score: Score) -> list[tuple[str, str]]:
        """The score's objects, each only where this user's score may have one (never another's key)."""
        own = f"{score.user_id}/{score.score_id}/"
        objects: list[tuple[str, str]] = []
        if score.bucket == self._uploads_bucket and score.key.startswith(UPLOAD_PREFIX + own):
            objects.append((score.bucket, score.key))
        if score.original_bucket == self._media_bucket and (score.original_key or "").startswith(ORIGINALS_PREFIX + own):
            objects.append((self._media_bucket, str(score.original_key)))
        if score.status != "awaiting_upload":
            objects.extend((self._media_bucket, key) for key in self._own_results(score))
        return objects

    @staticmethod
    def _own_results(score: Score) -> list[str]:
        """The keys the analyse step writes for this score, whatever ``owned_results`` says.

        A score that failed after analyse wrote some of them (persist failed, a timeout) is not marked
        as owning them, yet they are its own; a legacy record has none there (deleting a missing key is
        no error). Never the shared ``scores/<content hash>/`` keys: only the score's own prefix.
        """
        try:
            prefix = owned_results_prefix(score.user_id, score.score_id)
        except ValueError:  # ids that are not single key segments: no prefix is surely this score's
            return []
        return [key for key in owned_result_keys(score.user_id, score.score_id).values() if key.startswith(prefix)]


def _in_progress() -> Conflict:
    return Conflict("The score is still being analysed; delete it once it has finished.", code="score_in_progress")


_NOT_IN_FILENAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _download_name(title: str) -> str:
    return " ".join(_NOT_IN_FILENAMES.sub(" ", title).split()).strip(" .")[:150] or "score"


__all__ = ["DELETABLE", "DOWNLOADS", "IN_PROGRESS", "ScoreService", "display_title", "safe_filename", "workflow_input"]
