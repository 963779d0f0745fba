"""DynamoDB implementations of the auth ports. Every check-then-act is one conditional write."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone

from pynamodb.exceptions import PutError, UpdateError

from melody.adapters.dynamodb.binding import conditional_failed as _conditional_failed
from melody.adapters.dynamodb.models import OtpChallengeModel, RateLimitModel, RefreshTokenModel, UserModel
from melody.domain import rate_limit
from melody.domain.models import OtpChallenge, Preferences, RefreshTokenRecord, User


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class DynamoChallengeStore:
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


def _user_from_item(item: UserModel) -> User:
    return User(
        user_id=item.user_id,
        phone_e164=item.phone_e164,
        name=item.name,
        avatar_url=item.avatar_url,
        preferences=Preferences.model_validate(item.preferences or {}),
        is_verified=bool(item.is_verified),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _item_from_user(user: User) -> UserModel:
    return UserModel(
        user.user_id,
        phone_e164=user.phone_e164,
        name=user.name,
        avatar_url=user.avatar_url,
        preferences=json.loads(user.preferences.model_dump_json()),
        is_verified=user.is_verified,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


class DynamoUserStore:
    def get(self, user_id: str) -> User | None:
        try:
            return _user_from_item(UserModel.get(user_id, consistent_read=True))
        except UserModel.DoesNotExist:
            return None

    def create_if_absent(self, user: User) -> User:
        try:
            _item_from_user(user).save(condition=UserModel.user_id.does_not_exist())
            return user
        except PutError as exc:
            if not _conditional_failed(exc):
                raise
        existing = self.get(user.user_id)
        assert existing is not None, "a conditional put failed but the user is absent"
        return existing

    def save(self, user: User) -> None:
        _item_from_user(user).save()


class DynamoRefreshTokenStore:
    def put(self, record: RefreshTokenRecord) -> None:
        RefreshTokenModel(
            record.token_hash,
            family_id=record.family_id,
            user_id=record.user_id,
            issued_at=record.issued_at,
            expires_at=record.expires_at,
            ttl=_ts(record.expires_at + 86400),
        ).save(condition=RefreshTokenModel.token_hash.does_not_exist())

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
        )

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

    def revoke_family(self, family_id: str, *, now: float, expires_at: int) -> None:
        RefreshTokenModel(
            f"family#{family_id}", family_id=family_id, revoked_at=now, ttl=_ts(expires_at + 86400)
        ).save()

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
    carries the previous window's share (``melody.domain.rate_limit``). Cooldowns: one item per key
    holding the time it frees up, claimed by a conditional write. Keys are hashed: a rate-limit
    table must not become a list of phone numbers and addresses.
    """

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        window = rate_limit.window_index(now, window_s)
        previous = self._count(_counter_key(key, window_s, window - 1), consistent=False)  # closed window
        cap = rate_limit.current_cap(limit, previous, now, window_s)
        item = RateLimitModel(_counter_key(key, window_s, window))
        try:
            item.update(
                actions=[RateLimitModel.count.add(1), RateLimitModel.ttl.set(_ts((window + 3) * window_s))],
                condition=RateLimitModel.count.does_not_exist() | (RateLimitModel.count < cap)
                if cap > 0
                else RateLimitModel.count < 0,  # nothing fits in this window yet
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                current = self._count(_counter_key(key, window_s, window), consistent=True)
                return rate_limit.retry_after(limit, previous, current, now, window_s)
            raise
        return None

    def blocked(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        window = rate_limit.window_index(now, window_s)
        previous = self._count(_counter_key(key, window_s, window - 1), consistent=False)
        current = self._count(_counter_key(key, window_s, window), consistent=True)
        if rate_limit.over_limit(limit, previous, current, now, window_s):
            return rate_limit.retry_after(limit, previous, current, now, window_s)
        return None

    def cooldown_wait(self, key: str, *, now: float) -> int | None:
        try:
            until = RateLimitModel.get(_cooldown_key(key), consistent_read=True).until
        except RateLimitModel.DoesNotExist:
            return None
        if until is None or float(until) <= now:
            return None
        return max(1, math.ceil(float(until) - now))

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

    @staticmethod
    def _count(counter_key: str, *, consistent: bool) -> int:
        try:
            return int(RateLimitModel.get(counter_key, consistent_read=consistent).count or 0)
        except RateLimitModel.DoesNotExist:
            return 0
