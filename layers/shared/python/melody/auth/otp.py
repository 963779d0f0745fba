"""Phone login with one-time codes, to the OWASP ASVS L2 bar.

- 6-digit codes from the OS CSPRNG (``secrets.randbelow``: uniform, no modulo bias);
- only an HMAC of the code, bound to its challenge id, is stored; comparison is constant-time;
- a challenge lives at most 10 minutes, is single-use, and allows ``max_attempts`` guesses counted
  by an atomic conditional update in the store (parallel guesses cannot exceed it);
- sends are limited per number (one per resend interval, N an hour) and per client IP; failed
  verifies are limited per number; a code that could not be sent (the SMS provider is down) uses
  up none of these limits: each is claimed atomically and handed back when the send fails;
- refusals and lockouts are security events (:mod:`melody.auth.security_events`): a log line
  and a ``SecurityEvent`` metric that alarms watch;
- the answer to a request is the same whether or not the number has an account.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from melody.auth import rate_limit
from melody.auth.models import OtpChallenge
from melody.auth.phone import mask_phone, normalise_phone
from melody.auth.security_events import OTP_LOCKOUT, RATE_LIMITED, security_event
from melody.core.errors import Gone, NotFound, RateLimited, ServiceUnavailable, Unauthorized

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.auth.ports import ChallengeStore, RateLimiter, SmsSender
    from melody.core.clock import Clock

CODE_DIGITS = 6
SMS_UNAVAILABLE = "sms_unavailable"
SMS_UNAVAILABLE_MESSAGE = "The code could not be sent; try again shortly."


@dataclass(frozen=True)
class OtpPolicy:
    ttl_s: int = 300
    max_attempts: int = 5
    resend_after_s: int = 30
    per_number_per_hour: int = 5
    per_ip_per_minute: int = 5
    per_ip_per_hour: int = 20
    failed_verifies_per_hour: int = 10
    default_region: str = "IN"

    def __post_init__(self) -> None:
        if not 0 < self.ttl_s <= 600:
            raise ValueError("an OTP may live at most 10 minutes")


@dataclass(frozen=True)
class ChallengeIssued:
    challenge_id: str
    phone_e164: str
    expires_at: float
    resend_at: float


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_mac(hmac_key: bytes, challenge_id: str, code: str) -> str:
    return hmac.new(hmac_key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


class OtpService:
    def __init__(
        self,
        store: ChallengeStore,
        limiter: RateLimiter,
        sender: SmsSender,
        clock: Clock,
        *,
        hmac_key: bytes,
        policy: OtpPolicy,
    ) -> None:
        self._store = store
        self._limiter = limiter
        self._sender = sender
        self._clock = clock
        self._hmac_key = hmac_key
        self._policy = policy

    def request(self, phone_number: str, country_code: str | None, client_ip: str) -> ChallengeIssued:
        p = self._policy
        phone = normalise_phone(phone_number, country_code, default_region=p.default_region)
        now = self._clock.now()
        resend_key = f"otp-resend:{phone}"
        source = rate_limit.address_bucket(client_ip)
        masked = mask_phone(phone)
        if p.resend_after_s:
            # Looked at first, claimed last: tapping "resend" too soon uses up neither the hour's codes
            # nor the per-IP allowance people behind one carrier NAT share, and a request another limit
            # refuses does not start the resend clock.
            self._resend_too_soon(self._limiter.cooldown_wait(resend_key, now=now), masked, source)
        # Claim, then give back if no code goes out: every claim below is an atomic conditional write,
        # so parallel requests never exceed a limit; when the send fails (or the store is down) each
        # claim is handed back with an atomic decrement, so the failure uses up none of the limits.
        claims: list[Callable[[], None]] = []
        try:
            for reason, key, limit, window_s in (
                ("ip_per_minute", f"otp-ip-min:{source}", p.per_ip_per_minute, 60),
                ("ip_per_hour", f"otp-ip-hour:{source}", p.per_ip_per_hour, 3600),
                ("number_per_hour", f"otp-phone-hour:{phone}", p.per_number_per_hour, 3600),
            ):
                self._limit(key, limit, window_s, now, reason=reason, phone=masked, source=source)
                claims.append(functools.partial(self._limiter.release, key, window_s=window_s, now=now))
            if p.resend_after_s:  # the atomic claim: of two parallel requests, one wins
                wait = self._limiter.cooldown(resend_key, seconds=p.resend_after_s, now=now)
                self._resend_too_soon(wait, masked, source)
                claims.append(
                    functools.partial(self._limiter.release_cooldown, resend_key, seconds=p.resend_after_s, now=now)
                )

            challenge_id = "otp_" + secrets.token_urlsafe(18)
            code = generate_code()
            challenge = OtpChallenge(
                challenge_id=challenge_id,
                phone_e164=phone,
                code_mac=code_mac(self._hmac_key, challenge_id, code),
                created_at=now,
                expires_at=now + p.ttl_s,
            )
            self._store.create(challenge)
            self._send(phone, code, masked)
        except RateLimited:
            raise  # a refused request keeps what it passed: the per-IP counts slow down one spraying numbers
        except Exception:
            self._give_back(claims)
            raise
        return ChallengeIssued(challenge_id, phone, challenge.expires_at, now + p.resend_after_s)

    def _send(self, phone: str, code: str, masked: str) -> None:
        """Send the code; any failure is ``sms_unavailable`` (503), never the provider's words."""
        try:
            self._sender.send_otp(phone, code)
        except ServiceUnavailable:
            _log_send_failure(masked)
            raise
        except Exception as exc:
            _log_send_failure(masked)
            raise ServiceUnavailable(SMS_UNAVAILABLE_MESSAGE, code=SMS_UNAVAILABLE) from exc

    @staticmethod
    def _give_back(claims: list[Callable[[], None]]) -> None:
        for release in reversed(claims):
            try:
                release()
            except Exception:  # best effort: the request's own error is what the caller needs
                from melody.core.observability import logger

                logger.warning("could not give back a rate-limit claim", exc_info=True)

    def verify(self, challenge_id: str, code: str) -> str:
        """Check ``code``; on success the challenge is spent and the verified E.164 number returned."""
        p = self._policy
        now = self._clock.now()
        challenge = self._store.get(challenge_id)
        if challenge is None:
            raise NotFound("No such login challenge; request a new code.", code="otp_challenge_not_found")
        if challenge.consumed:
            raise Gone("This code was already used; request a new one.", code="otp_already_used")
        if challenge.expires_at <= now:
            raise Gone("This code has expired; request a new one.", code="otp_expired")
        fail_key = f"otp-verify-fail:{challenge.phone_e164}"
        wait = self._limiter.blocked(fail_key, limit=p.failed_verifies_per_hour, window_s=3600, now=now)
        if wait is not None:
            security_event(
                OTP_LOCKOUT, "failed_verifies_per_hour", phone=mask_phone(challenge.phone_e164), retry_after_s=wait
            )
            raise RateLimited("Too many wrong codes for this number; try later.", retry_after_s=wait)

        attempts = self._store.register_attempt(challenge_id, max_attempts=p.max_attempts)
        if attempts is None:
            security_event(OTP_LOCKOUT, "attempts_exhausted", phone=mask_phone(challenge.phone_e164))
            raise RateLimited(
                "Too many attempts for this code; request a new one.",
                retry_after_s=p.resend_after_s or 1,
                code="otp_attempts_exceeded",
            )
        expected = challenge.code_mac
        if not hmac.compare_digest(expected, code_mac(self._hmac_key, challenge_id, code)):
            self._limiter.hit(fail_key, limit=p.failed_verifies_per_hour, window_s=3600, now=now)
            raise Unauthorized(
                "That code is not right.",
                code="invalid_otp",
                details={"attempts_remaining": max(0, p.max_attempts - attempts)},
            )
        if not self._store.consume(challenge_id):
            raise Gone("This code was already used; request a new one.", code="otp_already_used")
        return challenge.phone_e164

    @staticmethod
    def _resend_too_soon(wait: int | None, phone: str, source: str) -> None:
        if wait is not None:
            security_event(RATE_LIMITED, "resend_too_soon", phone=phone, source=source, retry_after_s=wait)
            raise RateLimited(
                "A code was sent moments ago; wait before asking again.", retry_after_s=wait, code="otp_resend_too_soon"
            )

    def _limit(self, key: str, limit: int, window_s: int, now: float, *, reason: str, phone: str, source: str) -> None:
        wait = self._limiter.hit(key, limit=limit, window_s=window_s, now=now)
        if wait is not None:
            security_event(RATE_LIMITED, reason, phone=phone, source=source, retry_after_s=wait)
            raise RateLimited("Too many code requests; try again later.", retry_after_s=wait)


def _log_send_failure(masked_phone: str) -> None:
    from melody.core.observability import logger

    logger.warning("otp not sent: the SMS provider failed", extra={"phone": masked_phone}, exc_info=True)
