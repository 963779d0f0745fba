"""Deployment configuration, read once from CDK context (``cdk.json`` or ``-c key=value``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

STAGES = ("dev", "test", "staging", "prod")
# What a deployed stage may send codes with. The console sender (``otp phone=… code=…`` on stderr, so
# in CloudWatch Logs once deployed) is for the local stack only, which CDK never deploys.
SMS_SENDERS = ("sns", "msg91")

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def _get(node: Node, key: str, default: Any) -> Any:
    value = node.try_get_context(key)
    return default if value is None else value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_list(value: Any) -> list[str]:
    """A context list: a JSON list, a JSON-list string or a comma-separated string."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip().startswith("[") else value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _as_int(value: Any) -> int | None:
    if value is None or value == "" or (isinstance(value, str) and value.lower() in ("none", "null")):
        return None
    return int(value)


@dataclass(frozen=True)
class MelodyConfig:
    stage: str  # required: a deployment names its stage (``-c stage=…``); there is no default
    uploads_expire_days: int = 7
    sms_sender: str = "sns"
    sns_sender_id: str | None = None
    sns_entity_id: str | None = None
    sns_template_id: str | None = None
    jwt_audience: str = "melody-api"
    jwt_issuer: str | None = None  # override (custom domain); default: the HTTP API's own endpoint
    log_retention_days: int = 30
    log_level: str = "INFO"
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    reserved_concurrency: int | None = None  # None: the account's unreserved pool
    function_memory_mb: int = 512
    function_timeout_s: int = 10
    # X-Ray active tracing; off, the functions also skip loading the X-Ray SDK (cold start)
    tracing: bool = True
    cors_allowed_origins: tuple[str, ...] = ()
    # the PWA's origin(s) allowed to POST presigned uploads to the uploads bucket (S3 CORS)
    web_origins: tuple[str, ...] = ()
    # pipeline
    separate_memory_mb: int = 6144
    analyse_memory_mb: int = 4096
    alarm_email: str | None = None
    # security alarms (MelodyApi): SecurityEvent per kind, summed over 5 minutes, alarm at >= threshold
    alarm_refresh_token_reuse_threshold: int = 1
    alarm_otp_lockout_threshold: int = 20
    alarm_rate_limited_threshold: int = 100
    # catalog
    catalog_min_acu: float = 0.5
    catalog_max_acu: float = 4.0
    catalog_backup_days: int = 7
    # web
    web_domain_names: tuple[str, ...] = ()
    web_certificate_arn: str | None = None
    web_acl_arn: str | None = None

    @classmethod
    def from_node(cls, node: Node) -> MelodyConfig:
        stage = node.try_get_context("stage")
        if stage is None or str(stage).strip() == "":
            raise ValueError(
                f"context 'stage' is required: name the stage to deploy, e.g. cdk deploy --all -c stage=prod "
                f"(one of {STAGES}); there is no default"
            )
        stage = str(stage)
        if stage not in STAGES:
            raise ValueError(f"context 'stage' must be one of {STAGES}, got {stage!r}")
        sms_sender = str(_get(node, "sms_sender", "sns"))
        if sms_sender == "console":
            raise ValueError(
                "sms_sender=console is for the local stack only (it writes every code to the logs); "
                f"a deployed stage, dev and test included, uses one of {SMS_SENDERS}"
            )
        if sms_sender not in SMS_SENDERS:
            raise ValueError(f"context 'sms_sender' must be one of {SMS_SENDERS}, got {sms_sender!r}")
        thresholds = {
            key: int(_get(node, key, default))
            for key, default in (
                ("alarm_refresh_token_reuse_threshold", 1),
                ("alarm_otp_lockout_threshold", 20),
                ("alarm_rate_limited_threshold", 100),
            )
        }
        for key, value in thresholds.items():
            if value < 1:
                raise ValueError(f"context {key!r} must be at least 1, got {value}")
        retention = int(_get(node, "log_retention_days", 365 if stage == "prod" else 30))
        if retention not in _RETENTION:
            raise ValueError(f"context 'log_retention_days' must be one of {sorted(_RETENTION)}")
        origins = _as_list(_get(node, "cors_allowed_origins", []))
        web_origins = _as_list(_get(node, "web_origin", []))
        min_acu = float(_get(node, "catalog_min_acu", 0.5))
        max_acu = float(_get(node, "catalog_max_acu", 4))
        if not 0 <= min_acu <= max_acu <= 256:
            raise ValueError("context catalog_min_acu/catalog_max_acu must satisfy 0 <= min <= max <= 256")
        separate_mb = int(_get(node, "separate_memory_mb", 6144))
        analyse_mb = int(_get(node, "analyse_memory_mb", 4096))
        for key, mb in (("separate_memory_mb", separate_mb), ("analyse_memory_mb", analyse_mb)):
            if not 3008 <= mb <= 10240:
                raise ValueError(f"context {key!r} must be 3008..10240 MB, got {mb}")
        return cls(
            stage=stage,
            uploads_expire_days=int(_get(node, "uploads_expire_days", 7)),
            sms_sender=sms_sender,
            sns_sender_id=node.try_get_context("sns_sender_id"),
            sns_entity_id=node.try_get_context("sns_entity_id"),
            sns_template_id=node.try_get_context("sns_template_id"),
            jwt_audience=str(_get(node, "jwt_audience", "melody-api")),
            jwt_issuer=node.try_get_context("jwt_issuer"),
            log_retention_days=retention,
            log_level=str(_get(node, "log_level", "INFO")),
            throttle_rate_limit=int(_get(node, "throttle_rate_limit", 50)),
            throttle_burst_limit=int(_get(node, "throttle_burst_limit", 100)),
            reserved_concurrency=_as_int(node.try_get_context("reserved_concurrency")),
            function_memory_mb=int(_get(node, "function_memory_mb", 512)),
            function_timeout_s=int(_get(node, "function_timeout_s", 10)),
            tracing=_as_bool(_get(node, "tracing", True)),
            cors_allowed_origins=tuple(origins),
            web_origins=tuple(web_origins),
            separate_memory_mb=separate_mb,
            analyse_memory_mb=analyse_mb,
            alarm_email=node.try_get_context("alarm_email") or None,
            **thresholds,
            catalog_min_acu=min_acu,
            catalog_max_acu=max_acu,
            catalog_backup_days=int(_get(node, "catalog_backup_days", 14 if stage == "prod" else 7)),
            web_domain_names=tuple(_as_list(_get(node, "web_domain_names", []))),
            web_certificate_arn=node.try_get_context("web_certificate_arn") or None,
            web_acl_arn=node.try_get_context("web_acl_arn") or None,
        )

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def upload_cors_origins(self) -> tuple[str, ...]:
        """Origins whose browsers may POST presigned uploads straight to the uploads bucket."""
        return tuple(dict.fromkeys((*self.web_origins, *self.cors_allowed_origins)))

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Data survives ``cdk destroy`` in prod; dev/test stacks clean up after themselves."""
        return removal_policy_for(self.stage)

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def function_timeout(self) -> Duration:
        return Duration.seconds(self.function_timeout_s)

    def name(self, suffix: str) -> str:
        """A stage-qualified CloudFormation stack name: ``melody-prod-data``."""
        return f"melody-{self.stage}-{suffix}"


def removal_policy_for(stage: str) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if stage in ("prod", "staging") else RemovalPolicy.DESTROY


__all__ = ["MelodyConfig", "removal_policy_for", "_as_bool"]
