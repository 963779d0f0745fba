"""In-memory stand-ins of the developer ports (the DynamoDB adapters are tested on moto)."""

from __future__ import annotations

import threading

from melody.developer.models import AnalyzeJob, ApiKeyRecord, DayUsage


class MovableClock:
    def __init__(self, now: float = 1_780_000_000.25) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


class MemoryKeyStore:
    def __init__(self) -> None:
        self.items: dict[str, ApiKeyRecord] = {}
        self.touched = 0

    def create(self, record: ApiKeyRecord) -> None:
        assert record.key_hash not in self.items
        self.items[record.key_hash] = record

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        return self.items.get(key_hash)

    def list_for_user(self, user_id: str) -> list[ApiKeyRecord]:
        return sorted((r for r in self.items.values() if r.user_id == user_id), key=lambda r: -r.created_at)

    def revoke(self, record: ApiKeyRecord, *, now: float) -> bool:
        current = self.items[record.key_hash]
        if current.revoked_at is not None or current.user_id != record.user_id:
            return False
        self.items[record.key_hash] = current.model_copy(update={"revoked_at": now})
        return True

    def touch(self, key_hash: str, *, now: float) -> None:
        self.touched += 1
        self.items[key_hash] = self.items[key_hash].model_copy(update={"last_used_at": now})


class MemoryMeter:
    def __init__(self) -> None:
        self.counters: dict[tuple[str, str], int] = {}
        self.days_: dict[tuple[str, str], DayUsage] = {}
        self.billed: set[tuple[str, str]] = set()
        self.jobs: dict[str, AnalyzeJob] = {}
        self._lock = threading.Lock()

    def _hit(self, key: tuple[str, str], limit: int) -> int | None:
        with self._lock:
            count = self.counters.get(key, 0)
            if count >= limit:
                return None
            self.counters[key] = count + 1
            return count + 1

    def hit_second(self, key_id: str, window: int, *, limit: int) -> int | None:
        return self._hit((f"rate#{key_id}", str(window)), limit)

    def hit_month(self, key_id: str, month: str, *, quota: int, user_id: str) -> int | None:
        return self._hit((key_id, f"month#{month}"), quota)

    def count_month(self, key_id: str, month: str) -> int:
        return self.counters.get((key_id, f"month#{month}"), 0)

    def add_day(self, key_id: str, day: str, *, user_id: str, calls: int = 0, analyses: int = 0) -> None:
        row = self.days_.get((key_id, day), DayUsage(day=day))
        self.days_[(key_id, day)] = DayUsage(day=day, calls=row.calls + calls, analyses=row.analyses + analyses)

    def days(self, key_id: str, first: str, last: str) -> list[DayUsage]:
        return [row for (k, day), row in sorted(self.days_.items()) if k == key_id and first <= day <= last]

    def bill_once(self, key_id: str, content_hash: str, *, now: float) -> bool:
        if (key_id, content_hash) in self.billed:
            return False
        self.billed.add((key_id, content_hash))
        return True

    def put_job(self, job: AnalyzeJob) -> None:
        self.jobs[job.job_id] = job

    def get_job(self, job_id: str) -> AnalyzeJob | None:
        return self.jobs.get(job_id)


def developer_service(*, clock: MovableClock | None = None, free_rate: int = 3, free_quota: int = 100, **kwargs):
    from melody.developer.plans import Plan
    from melody.developer.service import DeveloperService

    plans = {
        "free": Plan("free", free_rate, free_quota),
        "pro": Plan("pro", 50, 10_000),
        "enterprise": Plan("enterprise", 500, 1_000_000),
    }
    keys, meter = MemoryKeyStore(), MemoryMeter()
    service = DeveloperService(
        keys, meter, clock or MovableClock(), pepper=lambda: b"test-pepper", plans=plans, **kwargs
    )
    return service, keys, meter
