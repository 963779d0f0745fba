"""In-memory implementations of the auth ports, for fast domain tests."""

from __future__ import annotations

import math
import threading

from melody.auth import rate_limit
from melody.auth.models import OtpChallenge, RefreshTokenRecord
from melody.users.models import User


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class MemoryChallenges:
    def __init__(self) -> None:
        self.items: dict[str, OtpChallenge] = {}
        self._lock = threading.Lock()

    def create(self, challenge: OtpChallenge) -> None:
        self.items[challenge.challenge_id] = challenge

    def get(self, challenge_id: str) -> OtpChallenge | None:
        return self.items.get(challenge_id)

    def register_attempt(self, challenge_id: str, *, max_attempts: int) -> int | None:
        with self._lock:
            ch = self.items.get(challenge_id)
            if ch is None or ch.consumed or ch.attempts >= max_attempts:
                return None
            self.items[challenge_id] = ch.model_copy(update={"attempts": ch.attempts + 1})
            return ch.attempts + 1

    def consume(self, challenge_id: str) -> bool:
        with self._lock:
            ch = self.items[challenge_id]
            if ch.consumed:
                return False
            self.items[challenge_id] = ch.model_copy(update={"consumed": True})
            return True


class MemoryLimiter:
    """The same sliding-window arithmetic as DynamoRateLimiter, over a dict."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.until: dict[str, float] = {}

    def _pair(self, key: str, window_s: int, now: float) -> tuple[int, int]:
        w = rate_limit.window_index(now, window_s)
        return self.counts.get(f"{key}#{window_s}#{w - 1}", 0), self.counts.get(f"{key}#{window_s}#{w}", 0)

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        previous, current = self._pair(key, window_s, now)
        if current >= rate_limit.current_cap(limit, previous, now, window_s):
            return rate_limit.retry_after(limit, previous, current, now, window_s)
        self.counts[f"{key}#{window_s}#{rate_limit.window_index(now, window_s)}"] = current + 1
        return None

    def blocked(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        previous, current = self._pair(key, window_s, now)
        if rate_limit.over_limit(limit, previous, current, now, window_s):
            return rate_limit.retry_after(limit, previous, current, now, window_s)
        return None

    def cooldown_wait(self, key: str, *, now: float) -> int | None:
        until = self.until.get(key, 0.0)
        return max(1, math.ceil(until - now)) if until > now else None

    def cooldown(self, key: str, *, seconds: int, now: float) -> int | None:
        until = self.until.get(key, 0.0)
        if until > now:
            return max(1, math.ceil(until - now))
        self.until[key] = now + seconds
        return None


    def release(self, key: str, *, window_s: int, now: float) -> None:
        counter = f"{key}#{window_s}#{rate_limit.window_index(now, window_s)}"
        if self.counts.get(counter, 0) > 0:
            self.counts[counter] -= 1

    def release_cooldown(self, key: str, *, seconds: int, now: float) -> None:
        if self.until.get(key) == now + seconds:
            del self.until[key]


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_otp(self, phone_e164: str, code: str) -> None:
        self.sent.append((phone_e164, code))


class FailingSender:
    """An SMS provider that is down: every send raises ``error`` (the real senders' SmsDeliveryFailed by default)."""

    def __init__(self, error: Exception | None = None) -> None:
        from melody.auth.sms import SmsDeliveryFailed

        self.error = error or SmsDeliveryFailed("The code could not be sent; try again shortly.")
        self.attempts: list[str] = []

    def send_otp(self, phone_e164: str, code: str) -> None:
        self.attempts.append(phone_e164)
        raise self.error


class MemoryUsers:
    def __init__(self) -> None:
        self.items: dict[str, User] = {}

    def get(self, user_id: str) -> User | None:
        return self.items.get(user_id)

    def create_if_absent(self, user: User) -> User:
        return self.items.setdefault(user.user_id, user)

    def save(self, user: User) -> None:
        self.items[user.user_id] = user


class MemoryTokens:
    """The refresh-token store over a dict; each conditional write of DynamoRefreshTokenStore is one locked step."""

    def __init__(self) -> None:
        self.items: dict[str, RefreshTokenRecord] = {}
        self.revoked: set[str] = set()
        self._lock = threading.Lock()

    def put(self, record: RefreshTokenRecord) -> None:
        self.items[record.token_hash] = record

    def get(self, token_hash: str) -> RefreshTokenRecord | None:
        return self.items.get(token_hash)

    def mark_used(self, token_hash: str, *, now: float) -> bool:
        rec = self.items.get(token_hash)
        if rec is None or rec.used_at is not None:
            return False
        self.items[token_hash] = rec.model_copy(update={"used_at": now})
        return True

    def spend(self, token_hash: str, *, now: float, successor: str | None, grace_until: float | None) -> bool:
        with self._lock:
            rec = self.items.get(token_hash)
            if rec is None or rec.used_at is not None:
                return False
            update: dict[str, object] = {"used_at": now}
            if successor is not None and grace_until is not None:
                update |= {"successor": successor, "grace_until": grace_until}
            self.items[token_hash] = rec.model_copy(update=update)
            return True

    def use_grace(self, token_hash: str, *, now: float) -> bool:
        with self._lock:
            rec = self.items.get(token_hash)
            if (
                rec is None
                or rec.used_at is None
                or rec.successor is None
                or rec.grace_until is None
                or rec.grace_until < now
                or rec.grace_used_at is not None
            ):
                return False
            self.items[token_hash] = rec.model_copy(update={"grace_used_at": now})
            return True

    def discard(self, token_hash: str) -> None:
        with self._lock:
            rec = self.items.get(token_hash)
            if rec is not None and rec.used_at is None:
                del self.items[token_hash]

    def revoke_family(self, family_id: str, *, now: float, expires_at: int) -> None:
        self.revoked.add(family_id)

    def is_family_revoked(self, family_id: str) -> bool:
        return family_id in self.revoked
