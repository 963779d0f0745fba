"""Wires the jobs service and the pipeline steps from settings (AWS or the local stack)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from melody.domain.ports import Clock, SystemClock


class JobsServices:
    def __init__(self, settings: Any, clock: Clock | None = None, *, workflow: Any = None, track_audio: Any = None) -> None:
        from melody.adapters.dynamodb.jobs import bind_job_models

        self.settings = settings
        self.clock = clock or SystemClock()
        self._workflow = workflow
        self._track_audio = track_audio
        bind_job_models(settings)

    @cached_property
    def storage(self):
        from melody.adapters.s3 import storage_for

        return storage_for(self.settings)

    @cached_property
    def workflow(self):
        if self._workflow is not None:
            return self._workflow
        import boto3

        from melody.adapters.workflow import StepFunctionsStarter

        arn = getattr(self.settings, "state_machine_arn", None)
        if not arn:
            raise RuntimeError("MELODY_STATE_MACHINE_ARN is not set")
        return StepFunctionsStarter(boto3.client("stepfunctions", region_name=self.settings.aws_region), arn)

    @cached_property
    def jobs(self):
        from melody.adapters.dynamodb.jobs import DynamoJobStore, DynamoResultStore
        from melody.jobs.service import JobService

        s = self.settings
        return JobService(
            DynamoJobStore(),
            DynamoResultStore(),
            self.storage,
            self.workflow,
            self.clock,
            uploads_bucket=s.uploads_bucket,
            media_bucket=s.media_bucket,
            max_upload_bytes=s.max_upload_bytes,
            upload_url_expires_s=s.upload_url_expires_s,
            media_url_expires_s=s.media_url_expires_s,
            default_engine=s.default_engine,
            track_audio=self.track_audio,
        )

    @cached_property
    def track_audio(self):
        if self._track_audio is not None:
            return self._track_audio
        from melody.adapters.catalog.track_audio import CatalogTrackAudio

        def executor():
            from melody.wiring import MusicServices

            return MusicServices(self.settings, self.clock).executor

        return CatalogTrackAudio(executor, self.settings.media_bucket)

    @cached_property
    def steps(self):
        from melody.adapters.dynamodb.jobs import DynamoJobStore, DynamoResultStore
        from melody.jobs.steps import PipelineSteps

        s = self.settings
        engine_options: dict[str, dict[str, Any]] = {}
        if getattr(s, "lalal_api_key", None):
            engine_options["lalal"] = {"license_key": s.lalal_api_key.get_secret_value()}
        if getattr(s, "demucs_weights_path", None):
            engine_options["demucs"] = {"weights_path": str(s.demucs_weights_path)}
        return PipelineSteps(
            DynamoJobStore(),
            DynamoResultStore(),
            self.storage,
            self.clock,
            media_bucket=s.media_bucket,
            work_dir=s.work_dir,
            max_upload_bytes=s.max_upload_bytes,
            max_duration_s=s.max_duration_s,
            engine_options=engine_options,
            on_step=_emit_step_metric,
            on_failure=_emit_failure_metric,
        )


def _emit_step_metric(step: str, outcome: str, seconds: float) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from melody.observability import metrics

    metrics.add_metric(name=f"Step_{step}_{outcome}", unit=MetricUnit.Count, value=1)
    if seconds:
        metrics.add_metric(name=f"Step_{step}_Duration", unit=MetricUnit.Seconds, value=seconds)


# The failed-job metric operators alarm on: ``PipelineFailures`` with ``kind=input|system``
# (plus the function's ``service``), so a bad upload is counted without paging anyone.
FAILURE_METRIC = "PipelineFailures"


def _emit_failure_metric(kind: str, code: str) -> None:
    """One EMF record per failed job, flushed at once (its own dimension set: ``service`` and ``kind``)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from melody.observability import logger, metrics

    with single_metric(
        name=FAILURE_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service, "kind": kind},
    ) as metric:
        metric.add_metadata(key="code", value=code)
    logger.info("job failed", extra={"failure_kind": kind, "failure_code": code})
