"""Security events of the developer API: keys refused (unknown, malformed or revoked).

The same shape as the login flow's events (:mod:`melody.auth.security_events`): one WARNING line
``"security event"`` with ``event`` and ``reason``, and ``SecurityEvent{service, kind}`` = 1, so
the same log queries and alarms work. Never the key itself: at most its public prefix.
"""

from __future__ import annotations

from typing import Final

__all__ = ["API_KEY_REJECTED", "api_key_event"]

API_KEY_REJECTED: Final = "api_key_rejected"
_ALLOWED_FIELDS = frozenset({"user_id", "key_id", "key_prefix"})


def api_key_event(reason: str, **fields: str | None) -> None:
    """Log and count one refused key (``reason``: ``missing``, ``malformed``, ``unknown``, ``revoked``)."""
    unknown = set(fields) - _ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"security events carry no {sorted(unknown)}")
    from melody.auth.security_events import SECURITY_EVENT_METRIC
    from melody.core.observability import logger, metrics

    extra = {"event": API_KEY_REJECTED, "reason": reason, **{k: v for k, v in fields.items() if v is not None}}
    logger.warning("security event", extra=extra)
    try:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=SECURITY_EVENT_METRIC,
            unit=MetricUnit.Count,
            value=1,
            namespace=metrics.namespace,
            default_dimensions={"service": metrics.service or "melody-studio", "kind": API_KEY_REJECTED},
        ) as metric:
            metric.add_metadata(key="reason", value=reason)
    except Exception:  # pragma: no cover - a metrics failure must not turn a 401 into a 500
        logger.exception("could not emit the security event metric", extra={"event": API_KEY_REJECTED})
