"""A Melody Lambda function: Python 3.13 on arm64, layers, powertools env, X-Ray, its own log group
and a role that starts empty (no managed policy) so every permission is a visible, scoped grant.

API functions run with SnapStart: each deploy publishes a version, Lambda snapshots its initialised
environment once, and the ``live`` alias that API Gateway invokes restores from that snapshot
instead of importing the code again (the hooks in ``melody.core.snapstart`` renew clients)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from melody_infra.bundling import ARCHITECTURE, RUNTIME, function_code
from melody_infra.config import MelodyConfig
from melody_infra.constructs.layers import MelodyLayers
from melody_infra.nag import acknowledge

METRICS_NAMESPACE = "MelodyStudio"


def env_name(settings_field: str) -> str:
    """The environment variable a ``melody.core.settings`` field is read from (prefix ``MELODY_``)."""
    return "MELODY_" + settings_field.upper()


class MelodyFunction(Construct):
    """``functions/<area>/handler.py`` (``handler``) deployed with the shared and dependency layers.

    ``handler``/``code`` pick another entry point or code folder (pipeline steps, the catalog
    migration); ``image_code`` deploys a container image instead (no layers, no runtime: the image
    carries them; the handler is the image's ``CMD``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        area: str,
        config: MelodyConfig,
        layers: MelodyLayers | None,
        environment: Mapping[str, str] | None = None,
        memory_size: int | None = None,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
        description: str | None = None,
        handler: str = "handler.handler",
        code: lambda_.Code | None = None,
        image_code: lambda_.DockerImageCode | None = None,
        ephemeral_storage_mb: int | None = None,
        service: str | None = None,
        snap_start: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.area = area
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"melody {area} function ({config.stage})",
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": f"melody-{service or area}",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            "MELODY_STAGE": config.stage,
            "MELODY_AWS_REGION": stack.region,
        }
        if not config.tracing:
            env["POWERTOOLS_TRACE_DISABLED"] = "true"
        env.update(environment or {})
        common = dict(
            architecture=ARCHITECTURE,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            environment=env,
            memory_size=memory_size or config.function_memory_mb,
            timeout=timeout or config.function_timeout,
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mb) if ephemeral_storage_mb else None,
            reserved_concurrent_executions=(
                reserved_concurrency if reserved_concurrency is not None else config.reserved_concurrency
            ),
            description=description or f"melody {service or area}",
        )
        self.function: lambda_.Function
        if snap_start and image_code is not None:
            raise ValueError("SnapStart needs a zip-packaged function on a managed runtime")
        if image_code is not None:
            self.function = lambda_.DockerImageFunction(self, "Function", code=image_code, **common)
        else:
            if layers is None:
                raise ValueError("a zip function needs the layers")
            self.function = lambda_.Function(
                self,
                "Function",
                runtime=RUNTIME,
                handler=handler,
                code=code or function_code(area),
                layers=layers.all,
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
                **common,
            )
        # What callers invoke: the ``live`` alias of the published version under SnapStart (the
        # snapshot belongs to a version; $LATEST would start cold every time), else the function.
        self.invocable: lambda_.IFunction = self.function
        if snap_start:
            self.alias = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
            self.invocable = self.alias
        # The log group is created by CloudFormation, so the role needs no logs:CreateLogGroup.
        self.log_group.grant_write(self.role)
        acknowledge(
            self.role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "X-Ray tracing (xray:PutTraceSegments/PutTelemetryRecords) supports no resource-level "
                    "permissions, so CDK grants it on '*'; every other statement of this role is scoped."
                ),
            },
        )
        if image_code is None:
            acknowledge(
                self.function,
                {
                    "AwsSolutions-L1": (
                        "The project pins Python 3.13 (SnapStart for Python needs 3.12+; the dependency layer "
                        "holds arm64 cp313 wheels); the runtime is upgraded with the layer, not silently."
                    ),
                },
            )

    # -- grants that also wire the setting the code reads ------------------------------------

    def add_environment(self, key: str, value: str) -> None:
        self.function.add_environment(key, value)

    def use_tables(self, tables: Mapping[str, dynamodb.ITable], *, write: bool = True) -> None:
        """Name each table in the env (``MELODY_<FIELD>``) and grant read (or read/write) on it only."""
        for field, table in tables.items():
            self.add_environment(env_name(field), table.table_name)
            (table.grant_read_write_data if write else table.grant_read_data)(self.role)

    def use_buckets(self, buckets: Mapping[str, s3.IBucket], *, write: bool = False) -> None:
        for field, bucket in buckets.items():
            self.add_environment(env_name(field), bucket.bucket_name)
            (bucket.grant_read_write if write else bucket.grant_read)(self.role)

    def probe_resources(self, tables: Mapping[str, dynamodb.ITable], buckets: Mapping[str, s3.IBucket]) -> None:
        """Health checks: ``dynamodb:DescribeTable`` and ``s3:ListBucket`` (HeadBucket) only, no data access."""
        for field, table in tables.items():
            self.add_environment(env_name(field), table.table_name)
        for field, bucket in buckets.items():
            self.add_environment(env_name(field), bucket.bucket_name)
        if tables:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:DescribeTable"], resources=[t.table_arn for t in tables.values()]
                )
            )
        if buckets:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[b.bucket_arn for b in buckets.values()])
            )

    def read_secret(self, secret: secretsmanager.ISecret, env_key: str) -> None:
        self.add_environment(env_key, secret.secret_arn)
        secret.grant_read(self.role)

    def add_to_policy(self, statements: Iterable[iam.PolicyStatement]) -> None:
        for statement in statements:
            self.role.add_to_principal_policy(statement)
