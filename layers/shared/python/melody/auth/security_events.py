"""Security events of the login flow: one structured log line and one metric an alarm can use.

Each event is

- a WARNING log line from the shared powertools logger, ``message`` = ``"security event"``, with
  ``event`` = the kind and ``reason`` = which rule fired, plus identifiers that are safe to keep
  (a masked phone number, a user id, a refresh-token family id, the per-IP limit's address bucket);
  never a code, a token or a secret;
- one EMF record flushed at once (``single_metric``, so its dimension set is its own and no other
  metric of the request changes it): ``SecurityEvent`` = 1 in the functions' namespace with the
  dimensions ``service`` and ``kind``. CloudWatch alarms select one kind by its dimensions
  (``melody_infra.stacks.api``: any refresh-token reuse; OTP lockouts and rate-limit refusals above a
  threshold per 5 minutes).

Domain code calls :func:`security_event`; powertools is imported on first use.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "OTP_LOCKOUT",
    "RATE_LIMITED",
    "REFRESH_TOKEN_REUSE",
    "SECURITY_EVENT_KINDS",
    "SECURITY_EVENT_METRIC",
    "SecurityEventKind",
    "security_event",
]

SecurityEventKind = Literal["refresh_token_reuse", "otp_lockout", "rate_limited"]

SECURITY_EVENT_METRIC = "SecurityEvent"
REFRESH_TOKEN_REUSE: Final[SecurityEventKind] = "refresh_token_reuse"
OTP_LOCKOUT: Final[SecurityEventKind] = "otp_lockout"
RATE_LIMITED: Final[SecurityEventKind] = "rate_limited"
SECURITY_EVENT_KINDS: tuple[SecurityEventKind, ...] = (REFRESH_TOKEN_REUSE, OTP_LOCKOUT, RATE_LIMITED)

# Fields a security event may carry: identifiers, never a code, a token or a secret.
_ALLOWED_FIELDS = frozenset({"phone", "user_id", "family_id", "source", "retry_after_s"})


def security_event(kind: SecurityEventKind, reason: str, **fields: str | int | None) -> None:
    """Log ``kind`` (``reason``: which rule fired) and count it in ``SecurityEvent{service, kind}``.

    ``fields`` are restricted to :data:`_ALLOWED_FIELDS`; pass phone numbers masked
    (:func:`melody.auth.phone.mask_phone`). An event is never allowed to fail the request it
    describes: a failure to emit is logged and swallowed.
    """
    if kind not in SECURITY_EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    unknown = set(fields) - _ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"security events carry no {sorted(unknown)}")
    from melody.core.observability import logger, metrics

    extra = {"event": kind, "reason": reason, **{k: v for k, v in fields.items() if v is not None}}
    logger.warning("security event", extra=extra)
    try:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=SECURITY_EVENT_METRIC,
            unit=MetricUnit.Count,
            value=1,
            namespace=metrics.namespace,
            default_dimensions={"service": metrics.service or "melody-studio", "kind": kind},
        ) as metric:
            metric.add_metadata(key="reason", value=reason)
    except Exception:  # pragma: no cover - a metrics failure must not turn a 401/429 into a 500
        logger.exception("could not emit the security event metric", extra={"event": kind})
