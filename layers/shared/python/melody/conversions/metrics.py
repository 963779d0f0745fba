"""The pipeline's metrics: one per step outcome and duration, and the failed-job metric operators alarm on."""

from __future__ import annotations

from typing import Any

__all__ = ["FAILURE_METRIC", "REPLAY_METRIC", "emit_failure_metric", "emit_step_metric", "emit_upload_replay_ignored"]


def emit_step_metric(step: str, outcome: str, seconds: float) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from melody.core.observability import metrics

    metrics.add_metric(name=f"Step_{step}_{outcome}", unit=MetricUnit.Count, value=1)
    if seconds:
        metrics.add_metric(name=f"Step_{step}_Duration", unit=MetricUnit.Seconds, value=seconds)


# The failed-job metric operators alarm on: ``PipelineFailures`` with ``kind=input|system``
# (plus the function's ``service``), so a bad upload is counted without paging anyone.
FAILURE_METRIC = "PipelineFailures"


def emit_failure_metric(kind: str, code: str) -> None:
    """One EMF record per failed job, flushed at once (its own dimension set: ``service`` and ``kind``)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from melody.core.observability import logger, metrics

    with single_metric(
        name=FAILURE_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service, "kind": kind},
    ) as metric:
        metric.add_metadata(key="code", value=code)
    logger.info("job failed", extra={"failure_kind": kind, "failure_code": code})


REPLAY_METRIC = "UploadReplayIgnored"


def emit_upload_replay_ignored(job: Any, details: dict[str, Any]) -> None:
    """A later object at an accepted job's upload key (a replayed form): logged and counted, never processed."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from melody.core.observability import logger, metrics

    with single_metric(
        name=REPLAY_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service},
    ):
        pass
    logger.warning(
        "upload replay ignored",
        extra={
            "job_id": job.job_id,
            "user_id": job.user_id,
            "job_status": job.status,
            "upload_key": job.key,
            "accepted_etag": details.get("accepted_etag"),
            "replayed_etag": details.get("etag"),
        },
    )
