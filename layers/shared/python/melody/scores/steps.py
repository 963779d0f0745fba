"""The score pipeline's steps (``statemachines/score_analysis.asl.json``): analyse, persist, mark failed.

``analyse`` loads the score engine (``melody_scores``: music21) when it runs, never at import, so
the trigger and ``mark_failed`` stay light. A file the engine refuses raises :class:`ScoreRejected`
whose message is ``"<code>: <message>"``; the state machine catches it and ``mark_failed`` stores
that code on the score (the uploaded object is kept).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from melody.core.errors import ObjectMissing
from melody.scores.models import owned_result_keys, summary_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.core.clock import Clock
    from melody.scores.ports import ScoreObjects, ScoreStore

_CODE_MESSAGE = re.compile(r"^(?P<code>[a-z_]+): (?P<message>.*)$", re.S)


class ScoreRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def failure_reason(error: dict[str, Any]) -> tuple[str, str]:
    """A stable code and a human message from Step Functions' ``{Error, Cause}``."""
    name = str(error.get("Error", ""))
    cause = error.get("Cause") or ""
    message = str(cause)
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            message = str(parsed.get("errorMessage", ""))
    except (TypeError, ValueError):
        pass
    match = _CODE_MESSAGE.match(message)
    if name == "ScoreRejected" and match:
        return match["code"], match["message"].strip()
    if name == "States.Timeout":
        return "timeout", "Analysing the score took too long."
    return "processing_failed", "The score could not be analysed; please try again later."


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ScoreSteps:
    def __init__(
        self,
        scores: ScoreStore,
        storage: ScoreObjects,
        clock: Clock,
        *,
        media_bucket: str,
        work_dir: Path,
        max_bytes: int,
        on_step: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self._scores = scores
        self._storage = storage
        self._clock = clock
        self._media_bucket = media_bucket
        self._work_dir = Path(work_dir)
        self._max_bytes = max_bytes
        self._on_step = on_step or (lambda step, outcome, seconds: None)

    def analyse(self, state: dict[str, Any]) -> dict[str, Any]:
        """Analyse the accepted upload and store the results under the score's own prefix.

        Never reused by content: a score's results are its own, so deleting it can delete them. The
        hash is still returned (the ASL selects it; the record keeps it) and ``reused`` is always False.
        """
        started = time.perf_counter()
        outcome = "failed"
        now = self._clock.now()
        self._scores.transition(
            state["score_id"], allowed_from={"queued", "processing"}, changes={"status": "processing", "updated_at": now}
        )
        keys = owned_result_keys(state["user_id"], state["score_id"])
        folder = self._work_dir / f"melody-score-{state['score_id']}-{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            extension = Path(state.get("filename") or "score").suffix.lower() or ".musicxml"
            source = folder / f"source{extension}"
            try:
                self._storage.download(state["bucket"], state["key"], str(source))
            except ObjectMissing as exc:
                raise ScoreRejected("object_missing", "The uploaded file is no longer there; upload it again.") from exc
            if source.stat().st_size > self._max_bytes:
                raise ScoreRejected("score_too_large", "The file is larger than the score upload limit.")
            content_hash = sha256_file(source)
            analysis = self._run_engine(source, folder / "out", keys)
            outcome = "succeeded"
            return {"content_hash": content_hash, "reused": False, "summary": summary_of(analysis)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self._on_step("score_analyse", outcome, time.perf_counter() - started)

    def _run_engine(self, source: Path, out: Path, keys: dict[str, str]) -> dict[str, Any]:
        from melody_scores import ScoreError, analyse_score, load, render, score_format

        try:
            score = load(source)
            result = analyse_score(score, fmt=score_format(source))
            paths = render(score, out)
        except ScoreError as exc:
            raise ScoreRejected(exc.code, exc.message) from None
        analysis = result.to_dict()
        musicxml_type = "application/vnd.recordare.musicxml+xml"
        self._storage.upload(str(paths["musicxml"]), self._media_bucket, keys["musicxml"], content_type=musicxml_type)
        self._storage.upload(str(paths["midi"]), self._media_bucket, keys["midi"], content_type="audio/midi")
        # Written last: its presence means the renderings are there too (complete results, not a half-written retry).
        self._storage.put_json(self._media_bucket, keys["analysis"], analysis)
        return analysis

    def persist(self, state: dict[str, Any]) -> dict[str, Any]:
        result = state["analysis"]
        now = self._clock.now()
        # Where analyse wrote: under the score's own prefix (this version), or under scores/<hash>/ by an
        # analyse of the version before, mid-deploy. The record must point where the files are.
        own = owned_result_keys(state["user_id"], state["score_id"])["analysis"]
        owned = isinstance(self._storage.get_json(self._media_bucket, own), dict)
        self._scores.transition(
            state["score_id"],
            allowed_from={"queued", "processing"},
            changes={
                "status": "succeeded",
                "content_hash": result["content_hash"],
                "reused": bool(result.get("reused")),
                # the score's own results: its delete deletes them (legacy shared ones stay)
                "owned_results": owned,
                "summary": result.get("summary") or {},
                "error": None,
                "finished_at": now,
                "updated_at": now,
            },
        )
        self._on_step("score_pipeline", "succeeded", 0.0)
        return {"score_id": state["score_id"], "status": "succeeded"}

    def mark_failed(self, state: dict[str, Any]) -> dict[str, Any]:
        code, message = failure_reason(state.get("error") or {})
        now = self._clock.now()
        self._scores.transition(
            state["score_id"],
            allowed_from={"awaiting_upload", "queued", "processing"},
            changes={"status": "failed", "error": {"code": code, "message": message}, "finished_at": now, "updated_at": now},
        )
        self._on_step("score_pipeline", "failed", 0.0)
        return {"score_id": state["score_id"], "code": code}
