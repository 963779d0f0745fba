"""The audio pipeline's steps, called by Step Functions (one Lambda each) or the local runner.

Each step receives the execution state (``{bucket, key, job_id, user_id, engine, separate?, probe?,
results?}``; ``separate`` false: analysis only)
and returns what the ASL's ResultSelector picks. Steps are idempotent: outputs go to keys derived
from the content hash and engine, and job updates are conditional, so a retried step or a replayed
execution writes nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from melody.conversions.models import EXTRA_STEMS, INPUT_ERROR_CODES, AudioResult, result_key_for
from melody.core.errors import ObjectMissing

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from melody.catalog.ports import TrackAttributesWriter
    from melody.conversions.ports import JobStore, ObjectStorage, ResultStore
    from melody.core.clock import Clock

# Error names that tell the state machine "the input is bad, do not retry".
_T = TypeVar("_T")
_CODE_MESSAGE = re.compile(r"^(?P<code>[a-z][a-z0-9_]{2,40}): (?P<message>.+)$", re.S)

# Failure codes caused by what the user uploaded (nothing an operator can fix). Every other code
# (timeouts, Lambda errors, ffmpeg_missing, engine_unavailable, remote_*, encode_failed,
# processing_failed, ...) is a system failure, the only kind operators are paged for.
# (INPUT_ERROR_CODES, defined with the job records, lists them.)


def failure_kind(code: str) -> str:
    """``"input"`` for a failure caused by the uploaded file, else ``"system"``."""
    return "input" if code in INPUT_ERROR_CODES else "system"


class AudioRejected(Exception):
    """Raised for bad audio; its message is ``"<code>: <human message>"`` (MarkFailed parses it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class PipelineSteps:
    def __init__(
        self,
        jobs: JobStore,
        results: ResultStore,
        storage: ObjectStorage,
        clock: Clock,
        *,
        media_bucket: str,
        work_dir: Path,
        max_upload_bytes: int,
        max_duration_s: float,
        engine_options: dict[str, dict[str, Any]] | None = None,
        on_step: Any = None,
        on_failure: Any = None,
        catalog_attributes: TrackAttributesWriter | None = None,
        engine_revisions: dict[str, str] | None = None,
    ) -> None:
        self._jobs = jobs
        self._results = results
        self._storage = storage
        self._clock = clock
        self._media_bucket = media_bucket
        self._work_dir = Path(work_dir)
        self._max_upload_bytes = max_upload_bytes
        self._max_duration_s = max_duration_s
        self._engine_options = engine_options or {}
        self._on_step = on_step or (lambda step, outcome, seconds: None)
        # on_failure(kind, code): kind is "input" or "system" (see failure_kind)
        self._on_failure = on_failure or (lambda kind, code: None)
        # persist: a catalog track's analysed attributes go back to its catalog row (None: not here)
        self._catalog_attributes = catalog_attributes
        # engine -> what else its output depends on (its version or weights, the analysis' version):
        # part of the result key (melody.core.services.result_revisions)
        self._engine_revisions = engine_revisions or {}

    def _result_key(self, digest: str, engine: str) -> str:
        return result_key_for(digest, engine, self._engine_revisions.get(engine))

    def _engine_folder(self, engine: str) -> str:
        """The engine's folder under ``stems/<hash>/``, ``analysis/<hash>/`` and ``melody/<hash>/``:
        ``<engine>@<revision>`` like the result key, so a new revision writes beside the objects of
        earlier results, which their jobs still serve, and deleting those never deletes its own."""
        revision = self._engine_revisions.get(engine)
        return f"{engine}@{revision}" if revision else engine

    # -- steps ------------------------------------------------------------------------------

    def probe(self, state: dict[str, Any]) -> dict[str, Any]:
        job_id = state["job_id"]
        now = self._clock.now()
        self._jobs.transition(
            job_id,
            allowed_from={"awaiting_upload", "queued"},
            changes={"status": "processing", "started_at": now, "updated_at": now},
        )
        job = self._jobs.get(job_id)
        declared = job.size_bytes if job is not None and job.source == "upload" else None
        with self._step(job_id, "probe", progress=10), self._local_copy(state) as path:
            size = path.stat().st_size
            if size > self._max_upload_bytes:
                raise AudioRejected("file_too_large", "The file is larger than the upload limit.")
            if declared is not None and size != declared:
                # The form's policy binds the declared size; this holds even if a policy did not.
                raise AudioRejected("size_mismatch", f"The file is {size} bytes, not the {declared} bytes declared.")
            info = self._audio_call(lambda audio: audio.probe(str(path)))
            duration = _duration_s(info)
            if duration is None:
                # Unknown length must not bypass the limit: measure it by a cheap decode (mono, 8 kHz, stops at limit + 1 s).
                duration = self._audio_call(
                    lambda audio: self._decode(audio, path, sample_rate=8000, mono=True, allow_silence=True).duration_s
                )
            if duration > self._max_duration_s:
                raise self._too_long()
            digest = _sha256(path)
        cached = reusable(self._results.get(self._result_key(digest, state["engine"])), wants_stems=wants_stems(state))
        changes: dict[str, Any] = {"content_hash": digest, "updated_at": self._clock.now()}
        if job is not None and job.source == "upload":
            # What the file says it is: the library's title and the catalog match offered later.
            changes.update(tags=song_tags(info), duration_s=round(duration, 3))
        self._jobs.transition(job_id, allowed_from={"processing"}, changes=changes)
        return {"content_hash": digest, "cached": cached, "duration_s": duration}

    def separate(self, state: dict[str, Any]) -> dict[str, Any]:
        job_id, engine = state["job_id"], state["engine"]
        digest = state["probe"]["content_hash"]
        prefix = f"stems/{digest}/{self._engine_folder(engine)}"
        with self._step(job_id, "separate", progress=25, done_progress=85), self._local_copy(state) as path:

            def run(audio: ModuleType) -> tuple[Any, dict[str, Path]]:
                decoded = self._decode(audio, path)
                stems = audio.separate(decoded, engine=engine, **self._engine_options.get(engine, {}))
                # instrumental, vocals and any extra stems the engine gave (neural: drums, bass, other)
                names = ["instrumental", "vocals", *(n for n in EXTRA_STEMS if n in stems.extras)]
                out = {name: path.with_name(f"{name}.m4a") for name in names}
                # Two ffmpeg processes at once: AAC encoding is the longest part of this step, and
                # the separate function has more than one vCPU.
                with ThreadPoolExecutor(max_workers=2) as pool:
                    encodes = [
                        pool.submit(audio.encode, stems.stem(name), stems.sample_rate, str(target), "m4a")
                        for name, target in out.items()
                    ]
                    for encode in encodes:
                        encode.result()
                return stems, out

            stems, files = self._audio_call(run)
            keys = {}
            for name, file in files.items():
                keys[f"{name}_key"] = f"{prefix}/{name}.m4a"
                self._storage.upload(str(file), self._media_bucket, keys[f"{name}_key"], content_type="audio/mp4")
        extra = {name: keys.pop(f"{name}_key") for name in EXTRA_STEMS if f"{name}_key" in keys}
        return {**keys, "extra_stem_keys": extra, "engine": stems.engine, "engine_version": stems.engine_version}

    def analyse(self, state: dict[str, Any]) -> dict[str, Any]:
        """Analysis and waveform. Runs in parallel with ``separate``, so the analysis names the
        engine chosen for the job (``state["engine"]``, with that engine's version): the engine
        whose stems accompany it. Its key includes the engine and its revision, like the stems' keys."""
        job_id, engine = state["job_id"], state["engine"]
        digest = state["probe"]["content_hash"]
        with self._step(job_id, "analyse", progress=20, done_progress=50), self._local_copy(state) as path:

            def run(audio: ModuleType) -> tuple[dict[str, Any], Any]:
                separator = audio.get_engine(engine, **self._engine_options.get(engine, {}))
                decoded = self._decode(audio, path)
                result = audio.analyse(decoded, engine={"name": separator.name, "version": separator.version})
                return result.to_dict(), audio.waveform(decoded)

            analysis, peaks = self._audio_call(run)
            analysis_key = f"analysis/{digest}/{self._engine_folder(engine)}/analysis.json"
            waveform_key = f"analysis/{digest}/waveform.json"
            self._storage.put_json(self._media_bucket, analysis_key, analysis)
            self._storage.put_json(self._media_bucket, waveform_key, peaks)
        return {"analysis_key": analysis_key, "waveform_key": waveform_key, "analysis": analysis}

    def melody(self, state: dict[str, Any]) -> dict[str, Any]:
        """The sung melody as a lead sheet (``melody.mid``, ``melody.musicxml``, ``melody.json``) from
        the vocal stem, the analysis' beats and key, and the instrumental's chords; then the score
        analysis of the lead sheet when the score engine is installed. Optional: the ASL catches
        its failure and the job still succeeds, with ``melody: {status: failed, code}``."""
        job_id, engine = state["job_id"], state["engine"]
        digest = state["probe"]["content_hash"]
        stems, analysis = state["results"]["stems"], state["results"]["analysis"]["analysis"]
        prefix = f"melody/{digest}/{self._engine_folder(engine)}"
        folder = self._work_dir / f"melody-{job_id}-{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with self._step(job_id, "melody", progress=88):
                paths = {name: folder / f"{name}.m4a" for name in ("vocals", "instrumental")}
                for name, path in paths.items():
                    self._storage.download(self._media_bucket, stems[f"{name}_key"], str(path))

                def run(audio: ModuleType) -> Any:
                    from melody_audio.melody import lead_sheet

                    vocals = self._decode(audio, paths["vocals"], allow_silence=True)
                    instrumental = self._decode(audio, paths["instrumental"], allow_silence=True)
                    return lead_sheet(vocals.samples, vocals.sample_rate, analysis,
                                      instrumental=instrumental.samples)

                sheet = self._audio_call(run)
                record: dict[str, Any] = {"status": "succeeded", **sheet.summary(), **sheet.extra}
                files = {"midi": ("melody.mid", sheet.midi, "audio/midi"),
                         "musicxml": ("melody.musicxml", sheet.musicxml, "application/vnd.recordare.musicxml+xml")}
                for kind, (name, data, content_type) in files.items():
                    (folder / name).write_bytes(data)
                    record[f"{kind}_key"] = f"{prefix}/{name}"
                    self._storage.upload(str(folder / name), self._media_bucket, record[f"{kind}_key"],
                                         content_type=content_type)
                record["notes_key"] = f"{prefix}/melody.json"
                self._storage.put_json(self._media_bucket, record["notes_key"],
                                       {"notes": [n.to_dict() for n in sheet.notes], **sheet.extra})
                record.pop("bar_times_s", None)  # in melody.json; the record stays small
                score, record["analysis_status"] = _score_analysis(folder / "melody.musicxml")
                if score is not None:
                    record["score_analysis_key"] = f"{prefix}/score_analysis.json"
                    self._storage.put_json(self._media_bucket, record["score_analysis_key"], score)
                # inline in the result record only while small (a DynamoDB item holds 400 KB)
                record["analysis"] = score if score is not None and len(json.dumps(score)) <= 64_000 else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return record

    def reuse(self, state: dict[str, Any]) -> dict[str, Any]:
        with self._step(state["job_id"], "reuse", progress=90):  # timed and counted like every step
            result = self._results.get(self._result_key(state["probe"]["content_hash"], state["engine"]))
            if result is None:  # deleted between probe and now: an ordinary, retryable failure
                raise RuntimeError("cached result disappeared")
        # An analysis-only job may reuse a result without stems: ``stems`` is then null (a JSON null
        # still matches the ASL's "$.Payload.stems"), and Persist links the stem-less result.
        stems = (
            {
                "instrumental_key": result.instrumental_key,
                "vocals_key": result.vocals_key,
                "extra_stem_keys": result.extra_stem_keys,
                "engine": result.engine,
                "engine_version": result.engine_version,
            }
            if result.has_stems
            else None
        )
        return {
            "stems": stems,
            "analysis": {
                "analysis_key": result.analysis_key,
                "waveform_key": result.waveform_key,
                "analysis": result.analysis,
            },
        }

    def persist(self, state: dict[str, Any]) -> dict[str, Any]:
        """Store the result under the content hash (once) and mark the job succeeded.

        Three paths reach it: Process (stems and analysis), AnalyseOnly (analysis only: no ``stems``)
        and ReuseResults (``stems`` null when the reused result has none). A full run that finds an
        analysis-only result for its hash gives that result its stems (``add_stems``)."""
        job_id = state["job_id"]
        digest = state["probe"]["content_hash"]
        stems, analysis = state["results"].get("stems"), state["results"]["analysis"]
        key = self._result_key(digest, state["engine"])
        with self._step(job_id, "persist", progress=95):
            if stems:
                result = AudioResult(
                    result_key=key,
                    content_hash=digest,
                    engine=stems["engine"],
                    engine_version=stems["engine_version"],
                    instrumental_key=stems["instrumental_key"],
                    vocals_key=stems["vocals_key"],
                    extra_stem_keys=stems.get("extra_stem_keys") or {},
                    waveform_key=analysis["waveform_key"],
                    analysis_key=analysis["analysis_key"],
                    analysis=analysis["analysis"],
                    created_at=self._clock.now(),
                    melody=melody_record(state),
                )
            else:
                # Analysis only: the engine the analysis names (the job's), no stem keys, no melody.
                named = analysis["analysis"].get("engine") if isinstance(analysis["analysis"], dict) else None
                named = named if isinstance(named, dict) else {}
                result = AudioResult(
                    result_key=key,
                    content_hash=digest,
                    engine=str(named.get("name") or state["engine"]),
                    engine_version=str(named.get("version") or ""),
                    has_stems=False,
                    waveform_key=analysis["waveform_key"],
                    analysis_key=analysis["analysis_key"],
                    analysis=analysis["analysis"],
                    created_at=self._clock.now(),
                )
            if not self._results.put_if_absent(result) and result.has_stems:
                self._results.add_stems(result)  # no-op unless the stored result has no stems yet
            self._write_catalog_attributes(job_id, digest, analysis["analysis"])
        now = self._clock.now()
        self._jobs.transition(
            job_id,
            allowed_from={"queued", "processing"},
            changes={
                "status": "succeeded",
                "stage": "done",
                "progress": 100,
                "result_key": key,
                "finished_at": now,
                "updated_at": now,
            },
        )
        return {"job_id": job_id, "result_key": key}

    def _write_catalog_attributes(self, job_id: str, digest: str, analysis: dict[str, Any]) -> None:
        """For a job that converts a catalog track: its analysed attributes to the catalog row.

        Idempotent (the same analysis writes the same values), so a retried persist or a second
        user's conversion (reusing the results) writes it again harmlessly. A catalog outage is
        logged, not a failed job: the stems are the user's result, the attributes the catalog's.
        """
        if self._catalog_attributes is None:
            return
        job = self._jobs.get(job_id)
        if job is None or job.source != "catalog" or not job.track_id:
            return
        from melody.catalog.attributes import attributes_from_analysis
        from melody.core.observability import logger

        try:
            self._catalog_attributes.write_attributes(
                job.track_id, attributes_from_analysis(analysis), content_hash=digest
            )
        except Exception:
            logger.exception("catalog attributes not written", extra={"job_id": job_id, "track_id": job.track_id})

    def mark_failed(self, state: dict[str, Any]) -> dict[str, Any]:
        code, message = failure_reason(state.get("error") or {})
        now = self._clock.now()
        marked = self._jobs.transition(
            state["job_id"],
            allowed_from={"awaiting_upload", "queued", "processing"},
            changes={
                "status": "failed",
                "error": {"code": code, "message": message},
                "finished_at": now,
                "updated_at": now,
            },
        )
        kind = failure_kind(code)
        if marked:  # a retried or duplicate MarkFailed finds the job already failed: count it once
            self._on_step("pipeline", "failed", 0.0)
            self._on_failure(kind, code)
        return {"job_id": state["job_id"], "code": code, "kind": kind}

    # -- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _step(self, job_id: str, stage: str, *, progress: int, done_progress: int | None = None) -> Iterator[None]:
        self._jobs.advance(job_id, stage=stage, progress=progress, now=self._clock.now())
        started = time.perf_counter()
        outcome = "failed"
        try:
            yield
            outcome = "succeeded"
        finally:
            seconds = time.perf_counter() - started
            self._on_step(stage, outcome, seconds)
            if outcome == "succeeded":
                self._jobs.record_timing(job_id, stage, seconds)
                if done_progress is not None:
                    self._jobs.advance(job_id, stage=stage, progress=done_progress, now=self._clock.now())

    @contextmanager
    def _local_copy(self, state: dict[str, Any]) -> Iterator[Path]:
        folder = self._work_dir / f"melody-{state['job_id']}-{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "source"
        try:
            try:
                self._storage.download(state["bucket"], state["key"], str(path))
            except ObjectMissing as exc:  # deleted (or expired) before processing: fail the job, say so
                raise AudioRejected("object_missing", "The uploaded file is no longer there; upload it again.") from exc
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _decode(self, audio: ModuleType, path: Path, **options: Any) -> Any:
        """Decode with the configured duration limit (not the engine's built-in default)."""
        try:
            return audio.decode(str(path), max_duration_s=self._max_duration_s, **options)
        except audio.AudioError as exc:
            if exc.code == "too_long":
                raise self._too_long() from None
            raise

    def _too_long(self) -> AudioRejected:
        return AudioRejected("too_long", f"Songs can be at most {_minutes(self._max_duration_s)} long.")

    @staticmethod
    def _audio_call(fn: Callable[[ModuleType], _T]) -> _T:
        import melody_audio  # heavy (numpy/scipy): only the step functions load it

        try:
            return fn(melody_audio)
        except melody_audio.AudioError as exc:
            raise AudioRejected(exc.code, exc.message) from None


def _score_analysis(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The score engine's analysis of the lead sheet: ``(analysis, "succeeded")``, or ``(None,
    "skipped")`` where the score engine (music21) is not installed, or ``(None, "failed: <code>")``."""
    try:
        import melody_scores  # music21: optional in this image
    except ImportError:
        return None, "skipped"
    try:
        result: dict[str, Any] = melody_scores.analyse(str(path)).to_dict()
    except melody_scores.ScoreError as exc:
        return None, f"failed: {getattr(exc, 'code', 'score_error')}"
    return result, "succeeded"


def wants_stems(state: dict[str, Any]) -> bool:
    """Whether the execution separates: ``separate`` false in the input means analysis only (inputs
    from before the field have none, and separate)."""
    return state.get("separate") is not False


def reusable(result: AudioResult | None, *, wants_stems: bool) -> bool:
    """Whether a stored result serves a job: any result serves an analysis-only job; a job that wants
    stems needs a result with them (else it separates, and its Persist adds them to the result)."""
    return result is not None and (result.has_stems or not wants_stems)


def melody_record(state: dict[str, Any]) -> dict[str, Any] | None:
    """What Persist stores for the melody: the Melody step's record, or ``{status: failed, code}``
    when the ASL caught its failure (``$.melody_error``), or None on a path without the step."""
    if isinstance(state.get("melody"), dict) and isinstance(state["melody"].get("record"), dict):
        return dict(state["melody"]["record"])
    if isinstance(state.get("melody_error"), dict):
        return {"status": "failed", "code": failure_reason(state["melody_error"])[0]}
    return None


def failure_reason(error: dict[str, Any]) -> tuple[str, str]:
    """A stable code and a human message from Step Functions' ``{Error, Cause}``."""
    name = str(error.get("Error", ""))
    cause = error.get("Cause") or ""
    message = cause
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            message = str(parsed.get("errorMessage", ""))
    except (TypeError, ValueError):
        pass
    match = _CODE_MESSAGE.match(message or "")
    if name == "AudioRejected" and match:
        return match["code"], match["message"].strip()
    if name == "States.Timeout":
        return "timeout", "Processing took too long."
    # Anything else is our failure: say so without internals.
    return "processing_failed", "The song could not be processed; please try again later."


_TAGS = {"title": "title", "artist": "artist", "album_artist": "artist", "album": "album"}


def song_tags(info: dict[str, Any]) -> dict[str, str]:
    """Title, artist and album from ffprobe's container or stream tags (any case), trimmed and capped."""
    found: dict[str, str] = {}
    for source in (info.get("format", {}).get("tags"), info.get("audio_stream", {}).get("tags")):
        if not isinstance(source, dict):
            continue
        for name, value in source.items():
            field = _TAGS.get(str(name).lower())
            text = " ".join(str(value).split())[:200] if value is not None else ""
            if field and text and field not in found:
                found[field] = text
    return found


def _duration_s(info: dict[str, Any]) -> float | None:
    """The declared duration, or ``None`` when ffprobe reports none usable (absent, "N/A", 0, NaN)."""
    for value in (info.get("format", {}).get("duration"), info.get("audio_stream", {}).get("duration")):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    return None


def _minutes(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
