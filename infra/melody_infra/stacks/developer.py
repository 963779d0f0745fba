"""The developer API in AWS: ``functions/developer`` serves ``/developer/*`` (behind the JWT
authorizer: a signed-in user's keys and usage) and ``/b2b/*`` (API keys).

How API keys are enforced, and why here. API Gateway's own API keys and usage plans exist only for
REST APIs; this is an HTTP API. An HTTP API could put a Lambda (REQUEST) authorizer on ``/b2b/*``
with ``X-API-Key`` as identity source and cached results, but (1) the cache means a revoked key keeps
working until its TTL ends, and the issue asks revocation to be effective at once; (2) the plan's
per-second rate, monthly quota and daily usage must be counted for every call anyway, and a cached
authorizer is not invoked for cached calls, so the function has to count them itself; (3) it would be
a second Lambda invocation per uncached call. So the B2B routes have no API Gateway authorizer and
``melody.developer.deps.api_key_caller`` checks the key in the function before any route code runs:
one strongly consistent GetItem by the key's HMAC (revocation is seen by the very next call) and
conditional ADDs on the usage table (the plan's limits, atomically). The stage's throttling still
bounds the whole API, and the WAF/stage limits apply before the function.

The key pepper is a generated Secrets Manager secret read by this function only.

The optional LLM interpreter of ``POST /b2b/query`` (off by default) is configured by context:
``-c nl_llm_base_url=https://…/v1 -c nl_llm_model=… -c nl_llm_secret_arn=arn:aws:secretsmanager:…``.
The settings reach this function as environment variables; the API key stays in the operator's
secret (never in the environment or the template), which this function alone may read
(``secretsmanager:GetSecretValue`` on that secret only), once, on the LLM's first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from melody.auth.security_events import SECURITY_EVENT_METRIC
from melody.developer.security import API_KEY_REJECTED
from melody_infra.constructs import MelodyFunction, env_name
from melody_infra.constructs.function import METRICS_NAMESPACE
from melody_infra.nag import acknowledge, nag_ref
from melody_infra.stacks.catalog import CatalogStack, allow_catalog_reads
from melody_infra.stacks.data import UPLOADS_PREFIX, DataStack
from melody_infra.stacks.pipeline import PipelineStack, acknowledge_data_wildcards

__all__ = [
    "API_KEY_REJECTED_THRESHOLD",
    "B2B_ROUTES",
    "DEVELOPER_ROUTES",
    "NlLlmConfig",
    "add_developer_routes",
    "nl_llm_config",
]

# Refused keys per 5 minutes that page the operators: a client with a stale key retries a few times,
# key guessing or a leaked-and-revoked key in the wild does far more.
API_KEY_REJECTED_THRESHOLD = 100

DEVELOPER_ROUTES = [
    "POST /api/v1/developer/keys",
    "GET /api/v1/developer/keys",
    "DELETE /api/v1/developer/keys/{key_id}",
    "GET /api/v1/developer/usage",
]
B2B_ROUTES = [
    "POST /api/v1/b2b/query",
    "GET /api/v1/b2b/tracks",
    "GET /api/v1/b2b/tracks/{track_id}/next",
    "POST /api/v1/b2b/analyze",
    "GET /api/v1/b2b/analyze/{job_id}",
]
B2B_ROUTE_REASON = (
    "Called with a developer API key, not a user's access token: the function checks the key (by its "
    "HMAC, strongly consistent, so revocation is immediate) and counts the plan's limits before any "
    "route code runs (melody.developer.deps); a cached Lambda authorizer would delay revocation."
)


def add_developer_routes(api, pipeline: PipelineStack, catalog: CatalogStack, data: DataStack) -> MelodyFunction:  # noqa: ANN001
    fn = api.add_function(
        "developer",
        verifies_tokens=True,
        environment={"MELODY_STATE_MACHINE_ARN": pipeline.state_machine.state_machine_arn},
        description="Developer API: keys, usage (JWT) and the B2B routes (API key)",
    )
    api.add_route_group("developer", function=fn.invocable, routes=DEVELOPER_ROUTES, protected=True)
    group = api.add_route_group("b2b", function=fn.invocable, routes=B2B_ROUTES, protected=False)
    for route in group.routes:
        acknowledge(route, {"AwsSolutions-APIG4": B2B_ROUTE_REASON})

    pepper = secretsmanager.Secret(
        api,
        "ApiKeyPepperSecret",
        description="Melody Studio: the pepper of the developer API keys' HMAC",
        generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        removal_policy=api.config.removal_policy,
    )
    acknowledge(
        pepper,
        {
            "AwsSolutions-SMG4": (
                "Every stored key is an HMAC under this pepper: rotating it would revoke every developer key "
                "at once. Rotation is a planned operator step (keys re-issued), never an automatic one."
            ),
        },
    )
    fn.read_secret(pepper, "MELODY_API_KEY_PEPPER_SECRET_ID")

    fn.use_tables(
        {
            "api_keys_table": data.tables["api_keys_table"],
            "api_usage_table": data.tables["api_usage_table"],
            # analyze: the consumer upload flow (jobs, shared results, per-user upload limits, library)
            "jobs_table": data.tables["jobs_table"],
            "results_table": data.tables["results_table"],
            "rate_limit_table": data.tables["rate_limit_table"],
            "library_table": data.tables["library_table"],
        }
    )
    fn.add_environment(env_name("uploads_bucket"), data.uploads_bucket.bucket_name)
    fn.add_environment(env_name("media_bucket"), data.media_bucket.bucket_name)
    fn.add_to_policy(
        [
            # presigned POST/GET are signed with this role: it must hold the permission itself
            iam.PolicyStatement(
                sid="PresignAnalyzeUploads",
                actions=["s3:PutObject"],
                resources=[data.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="PresignAnalyzeResults",
                actions=["s3:GetObject"],
                resources=[data.media_bucket.arn_for_objects("*")],
            ),
        ]
    )
    allow_catalog_reads(fn, catalog)  # query, tracks, next: the catalog's analysed attributes
    acknowledge_data_wildcards(fn, data, uploads=True, media=True, library=True)
    keys_ref = nag_ref(data.tables["api_keys_table"].table_arn, producer=data, consumer=fn)
    acknowledge(
        fn.role,
        {
            f"AwsSolutions-IAM5[Resource::{keys_ref}/index/*]": (
                "The API keys table's GSI (by_user: a user's keys) comes with its read/write grant; the "
                "wildcard stays inside this one table."
            ),
        },
    )
    _configure_nl_llm(fn, nl_llm_config(api.node))
    _rejected_keys_alarm(api)
    return fn


# A complete secret ARN ends with "-" and six characters Secrets Manager adds to the name.
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_COMPLETE_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class NlLlmConfig:
    """The LLM interpreter's context: ``nl_llm_base_url``, ``nl_llm_model``, ``nl_llm_secret_arn``."""

    base_url: str | None = None
    model: str | None = None
    secret_arn: str | None = None

    @property
    def secret_resource(self) -> str | None:
        """The ARN to grant on: a partial ARN (the secret's name only) matches its suffix with ``??????``."""
        if not self.secret_arn:
            return None
        return self.secret_arn if _COMPLETE_SUFFIX.search(self.secret_arn) else f"{self.secret_arn}-??????"


def nl_llm_config(node: Any) -> NlLlmConfig:  # noqa: ANN401 - a CDK construct node
    def text(key: str) -> str | None:
        value = node.try_get_context(key)
        if value is None:
            return None
        return str(value).strip() or None

    config = NlLlmConfig(text("nl_llm_base_url"), text("nl_llm_model"), text("nl_llm_secret_arn"))
    if config.secret_arn and not _SECRET_ARN.match(config.secret_arn):
        raise ValueError(f"context 'nl_llm_secret_arn' must be a Secrets Manager secret ARN, got {config.secret_arn!r}")
    if (config.secret_arn or config.model) and not config.base_url:
        raise ValueError("context 'nl_llm_secret_arn'/'nl_llm_model' need 'nl_llm_base_url' (the LLM endpoint)")
    if config.base_url and not config.base_url.startswith("https://"):
        raise ValueError(f"context 'nl_llm_base_url' must be an https:// URL, got {config.base_url!r}")
    return config


def _configure_nl_llm(fn: MelodyFunction, config: NlLlmConfig) -> None:
    """Off unless ``nl_llm_base_url`` is given: then its settings, and a read of the key's secret only."""
    if not config.base_url:
        return
    fn.add_environment(env_name("nl_llm_base_url"), config.base_url)
    if config.model:
        fn.add_environment(env_name("nl_llm_model"), config.model)
    if config.secret_arn and config.secret_resource:
        fn.add_environment(env_name("nl_llm_api_key_secret_arn"), config.secret_arn)
        fn.add_to_policy(
            [
                iam.PolicyStatement(
                    sid="ReadNlLlmApiKey",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[config.secret_resource],
                )
            ]
        )


def _rejected_keys_alarm(api) -> None:  # noqa: ANN001
    """``SecurityEvent{service=melody-developer, kind=api_key_rejected}`` to the security alarm topic."""
    metric = cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=SECURITY_EVENT_METRIC,
        dimensions_map={"service": "melody-developer", "kind": API_KEY_REJECTED},
        statistic=cloudwatch.Stats.SUM,
        period=Duration.minutes(5),
    )
    alarm = cloudwatch.Alarm(
        api,
        "ApiKeyRejectedAlarm",
        metric=metric,
        threshold=API_KEY_REJECTED_THRESHOLD,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"Melody ({api.config.stage}): developer API keys refused (unknown, malformed or revoked): "
        f"key guessing or a leaked key? (>= {API_KEY_REJECTED_THRESHOLD} in 5 minutes)",
    )
    alarm.add_alarm_action(cw_actions.SnsAction(api.security_alarm_topic))
