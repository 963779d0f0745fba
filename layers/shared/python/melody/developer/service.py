"""Developer keys, their plans' limits, usage metering and the analyze jobs' bookkeeping."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from melody.core.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from melody.developer import keys as keylib
from melody.developer.models import AnalyzeJob, ApiKeyRecord
from melody.developer.rate_limit import (
    Admission,
    day_of,
    month_of,
    rate_headers,
    second_window,
    seconds_to_month_end,
    seconds_to_next_second,
)
from melody.developer.security import api_key_event
from melody.developer.usage import day_range, fill_days

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from melody.core.clock import Clock
    from melody.developer.plans import Plan
    from melody.developer.ports import ApiKeyStore, UsageMeter

__all__ = ["API_KEY_CHALLENGE", "DeveloperService", "KeyUsage"]

# The WWW-Authenticate challenge of a refused key (the 401 must not offer Bearer for these routes).
API_KEY_CHALLENGE = 'ApiKey realm="melody-b2b"'
_JOB_ID = re.compile(r"^job_[a-z0-9]{1,40}$")
# last_used_at is a convenience for the key list: written at most once a minute per key.
TOUCH_EVERY_S = 60


class KeyUsage:
    """One key's days in a usage report."""

    def __init__(self, record: ApiKeyRecord, days: list[tuple[str, int, int]]) -> None:
        self.record = record
        self.days = days

    @property
    def calls(self) -> int:
        return sum(calls for _, calls, _ in self.days)

    @property
    def analyses(self) -> int:
        return sum(analyses for _, _, analyses in self.days)


class DeveloperService:
    def __init__(
        self,
        keys: ApiKeyStore,
        meter: UsageMeter,
        clock: Clock,
        *,
        pepper: Callable[[], bytes],
        plans: dict[str, Plan],
        self_serve_plans: Collection[str] = ("free",),
        max_keys_per_user: int = 10,
    ) -> None:
        self._keys = keys
        self._meter = meter
        self._clock = clock
        self._pepper = pepper  # read on first use: Secrets Manager in AWS (cached there)
        self._plans = plans
        self._self_serve = frozenset(self_serve_plans)
        self._max_keys = max_keys_per_user

    def plan(self, name: str) -> Plan:
        return self._plans[name]

    # -- keys (the signed-in owner) ------------------------------------------------------------

    def create_key(self, user_id: str, *, name: str, plan: str) -> tuple[ApiKeyRecord, str]:
        """A new key for ``user_id``; the key itself is returned this once and never stored."""
        if plan not in self._plans:
            raise NotFound("No such plan.", code="plan_not_found", details={"plans": sorted(self._plans)})
        if plan not in self._self_serve:
            raise Forbidden(
                "That plan is granted by the operators; create a key on a self-serve plan.",
                code="plan_not_available",
                details={"self_serve_plans": sorted(self._self_serve)},
            )
        active = [k for k in self._keys.list_for_user(user_id) if k.active]
        if len(active) >= self._max_keys:
            raise Conflict(
                "You have as many active keys as allowed; revoke one first.",
                code="too_many_api_keys",
                details={"max_keys": self._max_keys},
            )
        key = keylib.new_key()
        record = ApiKeyRecord(
            key_id=keylib.new_key_id(),
            key_hash=keylib.hash_key(self._pepper(), key),
            user_id=user_id,
            name=name,
            plan=plan,  # checked against the plans above
            prefix=keylib.display_prefix(key),
            created_at=self._clock.now(),
        )
        self._keys.create(record)
        return record, key

    def list_keys(self, user_id: str) -> list[ApiKeyRecord]:
        return self._keys.list_for_user(user_id)

    def _owned(self, user_id: str, key_id: str) -> ApiKeyRecord:
        if keylib.is_key_id(key_id):
            for record in self._keys.list_for_user(user_id):
                if record.key_id == key_id:
                    return record
        # another user's key is "not found" too: ids must not be probeable
        raise NotFound("No such key of yours.", code="api_key_not_found")

    def revoke_key(self, user_id: str, key_id: str) -> ApiKeyRecord:
        """Revoke at once: the next call with the key is refused (reads are strongly consistent)."""
        record = self._owned(user_id, key_id)
        if record.active:
            self._keys.revoke(record, now=self._clock.now())
        return self._owned(user_id, key_id)

    # -- calls with a key ------------------------------------------------------------------------

    def authenticate(self, presented: str | None) -> ApiKeyRecord:
        """The active key ``presented`` is, else 401 (``missing_api_key`` / ``invalid_api_key``).

        A revoked key reads exactly like an unknown one to the caller; the security event tells
        the operators which it was.
        """
        headers = {"WWW-Authenticate": API_KEY_CHALLENGE}
        if not presented:
            raise Unauthorized(
                "Send your API key in `X-API-Key` (or `Authorization: ApiKey <key>`).",
                code="missing_api_key",
                headers=headers,
            )
        invalid = Unauthorized("The API key is not valid.", code="invalid_api_key", headers=headers)
        if not keylib.looks_like_key(presented):
            api_key_event("malformed")
            raise invalid
        record = self._keys.get_by_hash(keylib.hash_key(self._pepper(), presented))
        if record is None:
            api_key_event("unknown")
            raise invalid
        if not record.active:
            api_key_event("revoked", user_id=record.user_id, key_id=record.key_id, key_prefix=record.prefix)
            raise invalid
        now = self._clock.now()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY_S:
            self._keys.touch(record.key_hash, now=now)
        return record

    def admit(self, record: ApiKeyRecord) -> Admission:
        """Count one call against the key's plan; raise 429 (with the headers) when it does not fit."""
        plan = self._plans[record.plan]
        now = self._clock.now()
        per_second = self._meter.hit_second(record.key_id, second_window(now), limit=plan.rate_per_s)
        if per_second is None:
            refused = Admission(False, plan.rate_per_s, 0, seconds_to_next_second(now), "rate")
            raise _limited(refused, f"More than {plan.rate_per_s} requests per second on the {plan.name} plan.", "rate_limited")
        month = month_of(now)
        used = self._meter.hit_month(record.key_id, month, quota=plan.monthly_quota, user_id=record.user_id)
        if used is None:
            refused = Admission(
                False, plan.rate_per_s, 0, seconds_to_month_end(now), "quota", plan.monthly_quota, plan.monthly_quota
            )
            raise _limited(refused, f"The {plan.name} plan's monthly quota is used up.", "quota_exceeded")
        self._meter.add_day(record.key_id, day_of(now), user_id=record.user_id, calls=1)
        return Admission(
            True,
            plan.rate_per_s,
            plan.rate_per_s - per_second,
            seconds_to_next_second(now),
            quota=plan.monthly_quota,
            quota_used=used,
        )

    # -- usage (the signed-in owner, their keys only) ---------------------------------------------

    def usage(
        self, user_id: str, first: date | None, last: date | None, *, key_id: str | None = None
    ) -> tuple[date, date, list[KeyUsage]]:
        today = datetime.fromtimestamp(self._clock.now(), tz=UTC).date()
        first, last = day_range(first, last, today=today)
        records = [self._owned(user_id, key_id)] if key_id else self._keys.list_for_user(user_id)
        out = []
        for record in records:
            rows = self._meter.days(record.key_id, first.isoformat(), last.isoformat())
            out.append(KeyUsage(record, fill_days(rows, first, last)))
        return first, last, out

    # -- analyze jobs -----------------------------------------------------------------------------

    def record_analyze_job(self, record: ApiKeyRecord, job_id: str, *, stems: bool) -> AnalyzeJob:
        job = AnalyzeJob(job_id=job_id, key_id=record.key_id, user_id=record.user_id, stems=stems, created_at=self._clock.now())
        self._meter.put_job(job)
        return job

    def analyze_job(self, record: ApiKeyRecord, job_id: str) -> AnalyzeJob:
        """An analyze job of the key's owner (any of their keys), else 404 ``job_not_found``."""
        job = self._meter.get_job(job_id) if _JOB_ID.match(job_id) else None
        if job is None or job.user_id != record.user_id:
            raise NotFound("No such analyze job of yours.", code="job_not_found")
        return job

    def bill_analysis(self, job: AnalyzeJob, content_hash: str) -> bool:
        """Bill the job's key once per content hash (the same audio again is free); True when billed now."""
        if not self._meter.bill_once(job.key_id, content_hash, now=self._clock.now()):
            return False
        self._meter.add_day(job.key_id, day_of(self._clock.now()), user_id=job.user_id, analyses=1)
        return True


def _limited(refused: Admission, message: str, code: str) -> RateLimited:
    error = RateLimited(message, retry_after_s=refused.retry_after_s, code=code)
    error.headers.update(rate_headers(refused))
    return error
