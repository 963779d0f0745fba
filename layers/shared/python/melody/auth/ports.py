"""The interfaces the domain needs from the outside world; adapters implement them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from melody.auth.models import OtpChallenge, RefreshTokenRecord


class SmsSender(Protocol):
    def send_otp(self, phone_e164: str, code: str) -> None: ...


class RateLimiter(Protocol):
    """Limits over a sliding window of ``window_s`` seconds (``hit``, ``blocked``) and cooldowns."""

    def hit(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Count one event; return seconds to wait if the limit is exceeded, else None."""

    def blocked(self, key: str, *, limit: int, window_s: int, now: float) -> int | None:
        """Without counting, return seconds to wait if the limit is already reached."""

    def cooldown(self, key: str, *, seconds: int, now: float) -> int | None:
        """Claim ``key`` for ``seconds`` if it is free; else the whole seconds until it frees up."""

    def cooldown_wait(self, key: str, *, now: float) -> int | None:
        """Without claiming, the whole seconds until ``key`` frees up, or None when it is free."""

    def release(self, key: str, *, window_s: int, now: float) -> None:
        """Give back one event a ``hit`` at ``now`` counted (an atomic decrement, never below zero)."""

    def release_cooldown(self, key: str, *, seconds: int, now: float) -> None:
        """Free the cooldown a ``cooldown`` at ``now`` for ``seconds`` claimed; a later claim is left alone."""


class ChallengeStore(Protocol):
    def create(self, challenge: OtpChallenge) -> None: ...

    def get(self, challenge_id: str) -> OtpChallenge | None: ...

    def register_attempt(self, challenge_id: str, *, max_attempts: int) -> int | None:
        """Atomically count one attempt; the new count, or None when no attempt is left."""

    def consume(self, challenge_id: str) -> bool:
        """Mark used; False when it was used already (a lost race)."""


class RefreshTokenStore(Protocol):
    def put(self, record: RefreshTokenRecord) -> None: ...

    def get(self, token_hash: str) -> RefreshTokenRecord | None: ...

    def mark_used(self, token_hash: str, *, now: float) -> bool:
        """Atomically mark a token used; False when it was already used (reuse)."""

    def spend(self, token_hash: str, *, now: float, successor: str | None, grace_until: float | None) -> bool:
        """Atomically mark a token used and keep its sealed successor; False when it was already used."""

    def use_grace(self, token_hash: str, *, now: float) -> bool:
        """Atomically claim a spent token's one replay: False unless it is spent, ``now`` is within its grace
        and no replay was answered yet."""

    def discard(self, token_hash: str) -> None:
        """Delete a token record that was never handed out and never used (a rotation that lost its race)."""

    def revoke_family(self, family_id: str, *, now: float, expires_at: int) -> None: ...

    def is_family_revoked(self, family_id: str) -> bool: ...
