"""``MelodyData``: the DynamoDB tables and S3 buckets, built from ``melody.core.resources`` specs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.core.resources import BUCKETS, TABLES, BucketSpec, KeySpec, TableSpec
from melody_infra.config import MelodyConfig
from melody_infra.nag import LAMBDA_BASIC_EXECUTION, acknowledge

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

UPLOADS_PREFIX = "uploads/"


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class DataStack(Stack):
    """Tables keyed by their ``settings_field`` (``users_table``...), buckets likewise (``uploads_bucket``)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: MelodyConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.tables: dict[str, dynamodb.Table] = {spec.settings_field: self._table(spec) for spec in TABLES}
        self.access_logs = self._access_log_bucket()
        self.buckets: dict[str, s3.Bucket] = {spec.settings_field: self._bucket(spec) for spec in BUCKETS}
        self._acknowledge_cdk_helpers()

    def _acknowledge_cdk_helpers(self) -> None:
        """Functions aws-cdk-lib adds for bucket features (EventBridge notifications, auto-delete)."""
        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    {
                        "AwsSolutions-IAM4[" + LAMBDA_BASIC_EXECUTION + "]": (
                            "aws-cdk-lib's bucket-notifications helper (it turns on EventBridge delivery for the "
                            "uploads bucket at deploy time) uses the basic execution managed policy, logs only; "
                            "its role is not configurable."
                        ),
                    },
                )

    # -- DynamoDB ---------------------------------------------------------------------------

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.construct_id,
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=self.config.removal_policy,
            deletion_protection=self.config.is_prod,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.partition_key),
                sort_key=_attribute(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    # -- S3 ---------------------------------------------------------------------------------

    def _secure_bucket_props(self) -> dict:
        destroy = self.config.removal_policy == RemovalPolicy.DESTROY
        return {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": self.config.removal_policy,
            "auto_delete_objects": destroy,
        }

    def _access_log_bucket(self) -> s3.Bucket:
        props = self._secure_bucket_props()
        props["object_ownership"] = s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
        bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))],
            **props,
        )
        acknowledge(
            bucket,
            {
                "AwsSolutions-S1": (
                    "This is the server-access-log destination of the other buckets; logging it into itself "
                    "would loop, and it is private, SSL-only and write-only for the logging service."
                ),
            },
        )
        return bucket

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        props = self._secure_bucket_props()
        extra: dict = {}
        if spec.settings_field == "uploads_bucket":
            extra = {
                # uploads/ ObjectCreated -> EventBridge -> the audio pipeline (pipeline stack)
                "event_bridge_enabled": True,
                "lifecycle_rules": [
                    s3.LifecycleRule(
                        id="expire-uploads",
                        prefix=UPLOADS_PREFIX,
                        expiration=Duration.days(self.config.uploads_expire_days),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    )
                ],
            }
            if self.config.upload_cors_origins:
                # Browsers POST presigned uploads straight to the bucket's own domain (cross-origin
                # even when the PWA and the API share the CloudFront origin). Origins come from
                # context (web_origin, cors_allowed_origins), not from the web stack: the web stack
                # depends on the API, which depends on this stack, so a reference back is a cycle.
                extra["cors"] = [
                    s3.CorsRule(
                        id="browser-presigned-post",
                        allowed_methods=[s3.HttpMethods.POST],
                        allowed_origins=list(self.config.upload_cors_origins),
                        allowed_headers=["*"],
                        exposed_headers=["ETag", "Location"],
                        max_age=3000,
                    )
                ]
        else:
            extra = {
                "lifecycle_rules": [
                    s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=Duration.days(1))
                ]
            }
            if spec.settings_field == "media_bucket" and self.config.upload_cors_origins:
                # The player fetch()es waveform.json (and may read analysis) from presigned GET URLs
                # on the bucket's own domain: cross-origin for the PWA, so S3 must answer CORS.
                # <audio> needs no CORS, but a GET rule costs nothing and covers Range requests.
                extra["cors"] = [
                    s3.CorsRule(
                        id="browser-presigned-get",
                        allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                        allowed_origins=list(self.config.upload_cors_origins),
                        allowed_headers=["Range"],
                        exposed_headers=["Content-Length", "Content-Range", "ETag"],
                        max_age=3000,
                    )
                ]
        return s3.Bucket(
            self,
            spec.construct_id,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{spec.settings_field}/",
            **props,
            **extra,
        )

    @property
    def uploads_bucket(self) -> s3.Bucket:
        return self.buckets["uploads_bucket"]

    @property
    def media_bucket(self) -> s3.Bucket:
        return self.buckets["media_bucket"]
