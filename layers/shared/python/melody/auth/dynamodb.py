"""DynamoDB implementations of the auth ports (challenges, refresh tokens, rate limits).

Every check-then-act is one conditional write. Throttling is retried by botocore and, when it
outlasts the retries, answered 503 ``temporarily_unavailable`` (every method is wrapped in
:func:`melody.core.dynamodb.unavailable_when_throttled`), never a 500.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pynamodb.exceptions import DeleteError, UpdateError

from melody.auth import rate_limit
from melody.auth.dynamodb_models import OtpChallengeModel, RateLimitModel, RefreshTokenModel
from melody.auth.models import OtpChallenge, RefreshTokenRecord
from melody.core.dynamodb import conditional_failed as _conditional_failed
from melody.core.dynamodb import unavailable_when_throttled

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class DynamoChallengeStore:
    @unavailable_when_throttled
    def create(self, challenge: OtpChallenge) -> None:
        OtpChallengeModel(
            challenge.challenge_id,
            phone_e164=challenge.phone_e164,
            code_mac=challenge.code_mac,
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            attempts=0,
            consumed=False,
            ttl=_ts(challenge.expires_at + 3600),
        ).save(condition=OtpChallengeModel.challenge_id.does_not_exist())

    @unavailable_when_throttled
    def get(self, challenge_id: str) -> OtpChallenge | None:
        try:
            item = OtpChallengeModel.get(challenge_id, consistent_read=True)
        except OtpChallengeModel.DoesNotExist:
            return None
        return OtpChallenge(
            challenge_id=item.challenge_id,
            phone_e164=item.phone_e164,
            code_mac=item.code_mac,
            created_at=item.created_at,
            expires_at=item.expires_at,
            attempts=int(item.attempts or 0),
            consumed=bool(item.consumed),
        )

    @unavailable_when_throttled
    def register_attempt(self, challenge_id: str, *, max_attempts: int) -> int | None:
        item = OtpChallengeModel(challenge_id)
        try:
            item.update(
                actions=[OtpChallengeModel.attempts.add(1)],
                condition=OtpChallengeModel.challenge_id.exists()
                & (OtpChallengeModel.attempts < max_attempts)
                & (OtpChallengeModel.consumed == False),  # noqa: E712 - a DynamoDB condition, not a bool
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return int(item.attempts)

    @unavailable_when_throttled
    def consume(self, challenge_id: str) -> bool:
        try:
            OtpChallengeModel(challenge_id).update(
                actions=[OtpChallengeModel.consumed.set(True)],
                condition=OtpChallengeModel.challenge_id.exists() & (OtpChallengeModel.consumed == False),  # noqa: E712
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


class DynamoRefreshTokenStore:
    @unavailable_when_throttled
    def put(self, record: RefreshTokenRecord) -> None:
        RefreshTokenModel(
            record.token_hash,
            family_id=record.family_id,
            user_id=record.user_id,
            issued_at=record.issued_at,
            expires_at=record.expires_at,
            ttl=_ts(record.expires_at + 86400),
        ).save(condition=RefreshTokenModel.token_hash.does_not_exist())

    @unavailable_when_throttled
    def get(self, token_hash: str) -> RefreshTokenRecord | None:
        try:
            item = RefreshTokenModel.get(token_hash, consistent_read=True)
        except RefreshTokenModel.DoesNotExist:
            return None
        if item.user_id is None:  # a family marker, never a token
            return None
        return RefreshTokenRecord(
            token_hash=item.token_hash,
            family_id=item.family_id,
            user_id=item.user_id,
            issued_at=item.issued_at,
            expires_at=item.expires_at,
            used_at=item.used_at,
            successor=item.successor,
            grace_until=item.grace_until,
            grace_used_at=item.grace_used_at,
        )

    @unavailable_when_throttled
    def mark_used(self, token_hash: str, *, now: float) -> bool:
        try:
            RefreshTokenModel(token_hash).update(
                actions=[RefreshTokenModel.used_at.set(now)],
                condition=RefreshTokenModel.token_hash.exists() & RefreshTokenModel.used_at.does_not_exist(),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def spend(self, token_hash: str, *, now: float, successor: str | None, grace_until: float | None) -> bool:
        actions: list[Action] = [RefreshTokenModel.used_at.set(now)]
        if successor is not None and grace_until is not None:
            actions += [RefreshTokenModel.successor.set(successor), RefreshTokenModel.grace_until.set(grace_until)]
        try:
            RefreshTokenModel(token_hash).update(
                actions=actions,
                condition=RefreshTokenModel.token_hash.exists() & RefreshTokenModel.used_at.does_not_exist(),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def use_grace(self, token_hash: str, *, now: float) -> bool:
        try:
            RefreshTokenModel(token_hash).update(
                actions=[RefreshTokenModel.grace_used_at.set(now)],
                condition=RefreshTokenModel.used_at.exists()
                & RefreshTokenModel.successor.exists()
                & (RefreshTokenModel.grace_until >= now)
                & RefreshTokenModel.grace_used_at.does_not_exist(),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    @unavailable_when_throttled
    def discard(self, token_hash: str) -> None:
        try:
            RefreshTokenModel(token_hash).delete(condition=RefreshTokenModel.used_at.does_not_exist())
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise

    @unavailable_when_throttled
    def revoke_family(self, family_id: str, *, now: float, expires_at: int) -> None:
        RefreshTokenModel(
            f"family#{family_id}", family_id=family_id, revoked_at=now, ttl=_ts(expires_at + 86400)
        ).save()

    @unavailable_when_throttled
    def is_family_revoked(self, family_id: str) -> bool:
        try:
            RefreshTokenModel.get(f"family#{family_id}", consistent_read=True)
        except RefreshTokenModel.DoesNotExist:
            return False
        return True


def _counter_key(key: str, window_s: int, window: int) -> str:
    return hashlib.sha256(f"{key}#{window_s}#{window}".encode()).hexdigest()


def _cooldown_key(key: str) -> str:
    return hashlib.sha256(f"cooldown#{key}".encode()).hexdigest()


class DynamoRateLimiter:
    """Sliding-window limits over per-window counters, and exact cooldowns.

    Counters: one item per key and fixed window, incremented by a conditional ADD whose bound
    carries the previous window's share (``melody.auth.rate_limit``). Cooldowns: one item per key
    holding the time it frees up, claimed by a conditional write. Keys are hashed: a rate-limit
    table must not become a list of phone numbers and addresses.
    """

    @unavailable_when_throttled
    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        window = rate_limit.window_index(now, window_s)
        previous = self._count(_counter_key(key, window_s, window - 1), consistent=False)  # closed window
        cap = rate_limit.current_cap(limit, previous, now, window_s)
        item = RateLimitModel(_counter_key(key, window_s, window))
        try:
            item.update(
                actions=[RateLimitModel.hits.add(1), RateLimitModel.ttl.set(_ts((window + 3) * window_s))],
                condition=RateLimitModel.hits.does_not_exist() | (RateLimitModel.hits < cap)
                if cap > 0
                else RateLimitModel.hits < 0,  # nothing fits in this window yet
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                current = self._count(_counter_key(key, window_s, window), consistent=True)
                return rate_limit.retry_after(limit, previous, current, now, window_s)
            raise
        return None

    @unavailable_when_throttled
    def blocked(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        window = rate_limit.window_index(now, window_s)
        previous = self._count(_counter_key(key, window_s, window - 1), consistent=False)
        current = self._count(_counter_key(key, window_s, window), consistent=True)
        if rate_limit.over_limit(limit, previous, current, now, window_s):
            return rate_limit.retry_after(limit, previous, current, now, window_s)
        return None

    @unavailable_when_throttled
    def cooldown_wait(self, key: str, *, now: float) -> int | None:
        try:
            until = RateLimitModel.get(_cooldown_key(key), consistent_read=True).until
        except RateLimitModel.DoesNotExist:
            return None
        if until is None or float(until) <= now:
            return None
        return max(1, math.ceil(float(until) - now))

    @unavailable_when_throttled
    def cooldown(self, key: str, *, seconds: int, now: float) -> int | None:
        item = RateLimitModel(_cooldown_key(key))
        try:
            item.update(
                actions=[RateLimitModel.until.set(now + seconds), RateLimitModel.ttl.set(_ts(now + seconds + 60))],
                condition=RateLimitModel.until.does_not_exist() | (RateLimitModel.until <= now),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                try:
                    until = float(RateLimitModel.get(item.counter_key, consistent_read=True).until or now)
                except RateLimitModel.DoesNotExist:
                    until = now
                return max(1, math.ceil(until - now))
            raise
        return None

    @unavailable_when_throttled
    def release(self, key: str, *, window_s: int, now: float) -> None:
        """Give back one event ``hit`` counted at ``now``: an atomic decrement of that window's counter."""
        window = rate_limit.window_index(now, window_s)
        try:
            RateLimitModel(_counter_key(key, window_s, window)).update(
                actions=[RateLimitModel.hits.add(-1)],
                condition=RateLimitModel.hits > 0,  # never below zero, never an item made up
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise

    @unavailable_when_throttled
    def release_cooldown(self, key: str, *, seconds: int, now: float) -> None:
        """Free the cooldown claimed at ``now``: delete it only while it still holds that claim's end."""
        try:
            RateLimitModel(_cooldown_key(key)).delete(condition=RateLimitModel.until == now + seconds)
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise

    @staticmethod
    def _count(counter_key: str, *, consistent: bool) -> int:
        try:
            return int(RateLimitModel.get(counter_key, consistent_read=consistent).hits or 0)
        except RateLimitModel.DoesNotExist:
            return 0
