"""The renditions state machine's steps (``statemachines/renditions.asl.json``), one Lambda each
in AWS, the same callables in the local ASL runner.

The execution input is ``{rendition_id, result_key, semitones, tempo, attempt}``;
``prepare`` moves the record to ``processing`` and stores the shifted analysis, ``render`` (one
call per stem, in parallel branches) renders one stem with :func:`melody_audio.transform.render`
and encodes it like the pipeline's stems (AAC .m4a; 16-bit WAV for a WAV export, which skips the
transform), ``persist`` marks it succeeded, and
``mark_failed`` records why it did not. Outputs go to keys derived from the cache key and record
updates are conditional, so a retried step or a replayed execution writes nothing twice.
"""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from melody.conversions.steps import AudioRejected, failure_reason
from melody.renditions.analysis import shift_analysis
from melody.renditions.models import CONTENT_TYPES, STEMS, media_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from melody.conversions.ports import ObjectStorage, ResultStore
    from melody.core.clock import Clock
    from melody.renditions.models import Rendition
    from melody.renditions.ports import RenditionStore

__all__ = ["RenditionSteps"]

_RUNNING = {"queued", "processing"}


class RenditionSteps:
    def __init__(
        self,
        renditions: RenditionStore,
        results: ResultStore,
        storage: ObjectStorage,
        clock: Clock,
        *,
        media_bucket: str,
        work_dir: Path,
        on_step: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self._renditions = renditions
        self._results = results
        self._storage = storage
        self._clock = clock
        self._media_bucket = media_bucket
        self._work_dir = Path(work_dir)
        self._on_step = on_step or (lambda step, outcome, seconds: None)

    def _record(self, state: dict[str, Any]) -> Rendition:
        rendition = self._renditions.get(state["rendition_id"])
        if rendition is None:
            raise AudioRejected("rendition_missing", "The rendition was removed before it was made.")
        return rendition

    def prepare(self, state: dict[str, Any]) -> dict[str, Any]:
        """``processing``, and the job's analysis as the rendition will sound."""
        rendition = self._record(state)
        with self._step("prepare"):
            result = self._results.get(rendition.result_key)
            if result is None:  # the song's stems were deleted (its last job was): nothing to render
                raise AudioRejected("stems_missing", "The song's stems are no longer there; convert it again.")
            from melody_audio.analysis import key as notation  # heavy (numpy): only the step functions load it

            analysis = shift_analysis(result.analysis, semitones=rendition.semitones, tempo=rendition.tempo, notation=notation)
            now = self._clock.now()
            self._renditions.transition(
                rendition.rendition_id,
                allowed_from=_RUNNING,
                changes={"status": "processing", "stage": "render", "progress": 10, "analysis": analysis,
                         "started_at": now, "updated_at": now},
            )
        return {"rendition_id": rendition.rendition_id}

    def render(self, state: dict[str, Any]) -> dict[str, Any]:
        """One stem (``state["stem"]``) transposed and time-stretched, encoded, stored."""
        stem = state["stem"]
        if stem not in STEMS:
            raise ValueError(f"unknown stem {stem!r}")
        rendition = self._record(state)
        result = self._results.get(rendition.result_key)
        if result is None:
            raise AudioRejected("stems_missing", "The song's stems are no longer there; convert it again.")
        source = result.instrumental_key if stem == "instrumental" else result.vocals_key
        if source is None:  # an analysis-only result (issue 11): the route refuses those jobs first
            raise AudioRejected("stems_missing", "The song's stems are no longer there; convert it again.")
        target = media_key(rendition, stem)
        with self._step(f"render_{stem}"), self._work_folder(rendition.rendition_id) as folder:
            local = folder / f"{stem}.m4a"
            self._storage.download(self._media_bucket, source, str(local))
            out = folder / f"{stem}-rendition.{rendition.format}"
            self._transform(local, out, semitones=rendition.semitones, tempo=rendition.tempo, fmt=rendition.format)
            self._storage.upload(str(out), self._media_bucket, target, content_type=CONTENT_TYPES[rendition.format])
        # Each branch moves progress forward; the slower one sets the higher figure last.
        self._renditions.advance(rendition.rendition_id, stage="render", progress=55)
        return {"stem": stem, "key": target}

    @staticmethod
    def _transform(source: Path, target: Path, *, semitones: int, tempo: float, fmt: str = "m4a") -> None:
        import melody_audio  # heavy (numpy/scipy): only the step functions load it
        from melody_audio.transform import render

        try:
            # The stems passed the pipeline's checks; a silent vocal stem (an instrumental song) is fine.
            audio = melody_audio.decode(str(source), max_duration_s=None, allow_silence=True)
            samples = audio.samples
            if semitones or tempo != 1.0:  # 0 and 1.0: a WAV export of the stem as it is
                samples = render(samples, audio.sample_rate, semitones=semitones, tempo=tempo)
            melody_audio.encode(samples, audio.sample_rate, str(target), fmt)
        except melody_audio.AudioError as exc:
            raise AudioRejected(exc.code, exc.message) from None

    def persist(self, state: dict[str, Any]) -> dict[str, Any]:
        stems = state.get("stems") or {}
        now = self._clock.now()
        with self._step("persist"):
            changed = self._renditions.transition(
                state["rendition_id"],
                allowed_from=_RUNNING,
                changes={
                    "status": "succeeded",
                    "stage": "done",
                    "progress": 100,
                    "instrumental_key": stems["instrumental_key"],
                    "vocals_key": stems["vocals_key"],
                    "finished_at": now,
                    "updated_at": now,
                },
            )
        return {"rendition_id": state["rendition_id"], "changed": changed}

    def mark_failed(self, state: dict[str, Any]) -> dict[str, Any]:
        code, message = failure_reason(state.get("error") or {})
        now = self._clock.now()
        marked = self._renditions.transition(
            state["rendition_id"],
            allowed_from=_RUNNING,
            changes={"status": "failed", "error": {"code": code, "message": message}, "finished_at": now, "updated_at": now},
        )
        if marked:
            self._on_step("renditions", "failed", 0.0)
        return {"rendition_id": state["rendition_id"], "code": code}

    # -- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        outcome = "failed"
        try:
            yield
            outcome = "succeeded"
        finally:
            self._on_step(f"rendition_{name}", outcome, time.perf_counter() - started)

    @contextmanager
    def _work_folder(self, rendition_id: str) -> Iterator[Path]:
        folder = self._work_dir / f"melody-{rendition_id}-{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
