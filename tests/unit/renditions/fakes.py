"""In-memory stores for the renditions tests (same contracts as the DynamoDB adapters)."""

from __future__ import annotations

from typing import Any

from melody.conversions.models import AudioResult, Job
from melody.renditions.models import Rendition


class MemoryJobs:
    def __init__(self, *jobs: Job) -> None:
        self.items = {job.job_id: job for job in jobs}

    def get(self, job_id: str) -> Job | None:
        return self.items.get(job_id)


class MemoryResults:
    def __init__(self, *results: AudioResult) -> None:
        self.items = {r.result_key: r for r in results}

    def get(self, result_key: str) -> AudioResult | None:
        return self.items.get(result_key)


class MemoryRenditions:
    def __init__(self) -> None:
        self.items: dict[str, Rendition] = {}

    def get(self, rendition_id: str) -> Rendition | None:
        return self.items.get(rendition_id)

    def create(self, rendition: Rendition) -> bool:
        if rendition.rendition_id in self.items:
            return False
        self.items[rendition.rendition_id] = rendition
        return True

    def transition(
        self, rendition_id: str, *, allowed_from: set[str], changes: dict[str, Any], expected_attempt: int | None = None
    ) -> bool:
        current = self.items.get(rendition_id)
        if current is None or current.status not in allowed_from:
            return False
        if expected_attempt is not None and current.attempt != expected_attempt:
            return False
        merged = {**current.model_dump(), **changes}
        if "progress" in changes and changes.get("status") != "queued":
            merged["progress"] = max(current.progress, int(changes["progress"]))
        self.items[rendition_id] = Rendition.model_validate(merged)
        return True

    def advance(self, rendition_id: str, *, stage: str, progress: int) -> bool:
        current = self.items.get(rendition_id)
        if current is None or current.status not in ("queued", "processing") or current.progress >= progress:
            return False
        self.items[rendition_id] = current.model_copy(update={"stage": stage, "progress": progress})
        return True


class FakeWorkflow:
    def __init__(self) -> None:
        self.started: list[tuple[str, dict]] = []

    def start(self, name: str, payload: dict) -> bool:
        if any(n == name for n, _ in self.started):
            return False
        self.started.append((name, payload))
        return True


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def presign_get(self, bucket: str, key: str, *, expires_s: int, filename: str | None = None) -> str:
        return f"https://s3.test/{bucket}/{key}?expires={expires_s}"

    def download(self, bucket: str, key: str, path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(self.objects[(bucket, key)])

    def upload(self, path: str, bucket: str, key: str, *, content_type: str) -> None:
        with open(path, "rb") as handle:
            self.objects[(bucket, key)] = handle.read()


def job(job_id: str = "job_a1", user_id: str = "usr_a", *, status: str = "succeeded", result_key: str | None = "h1#dsp") -> Job:
    return Job(
        job_id=job_id, user_id=user_id, status=status, bucket="uploads", key=f"uploads/{user_id}/{job_id}/a.mp3",
        content_hash=(result_key or "#").split("#")[0] or None, result_key=result_key if status == "succeeded" else None,
        created_at=1.0, updated_at=1.0,
    )  # fmt: skip


ANALYSIS = {
    "duration_s": 120.0,
    "sample_rate": 44100,
    "channels": 2,
    "tempo": {"bpm": 100.0, "confidence": 0.9, "beats": [0.6, 1.2, 1.8, 2.4], "downbeats": [0.6, 2.4], "time_signature": "4/4"},
    "key": {"tonic": "A", "mode": "minor", "confidence": 0.7, "camelot": "8A", "open_key": "1m", "tuning_hz": 440.0,
            "runner_up": {"tonic": "C", "mode": "major", "camelot": "8B", "open_key": "1d", "probability": 0.2}},
    "loudness": {"integrated_lufs": -14.0},
    "energy": 0.6,
}


def result(result_key: str = "h1#dsp") -> AudioResult:
    digest, _, engine = result_key.partition("#")
    return AudioResult(
        result_key=result_key, content_hash=digest, engine=engine, engine_version="1",
        instrumental_key=f"stems/{digest}/{engine}/instrumental.m4a", vocals_key=f"stems/{digest}/{engine}/vocals.m4a",
        waveform_key="w", analysis_key="a", analysis=ANALYSIS, created_at=1.0,
    )  # fmt: skip
