"""``MelodyCatalog``: the song catalog on Aurora PostgreSQL Serverless v2 (issue 5).

* a VPC with isolated subnets only (no NAT, no internet gateway): nothing in the VPC needs to
  leave it, since the functions reach the database through the RDS Data API (HTTPS, IAM + secret);
* the cluster: aurora-postgresql 16, one Serverless v2 writer (``catalog_min_acu``..``catalog_max_acu``),
  Data API on, storage encrypted, IAM auth, generated credentials in Secrets Manager, backups,
  deletion protection in prod, a security group without ingress rules;
* ``Custom::MelodyCatalogMigrations``: applies ``melody/catalog/postgres/migrations/*.sql`` through
  the Data API on every deployment whose migration set changed (the hash is a property);
* the provider-credentials secret (created as ``{}``; operators fill it in).

The search and library API routes live in ``MelodyApi`` (:func:`add_catalog_routes`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aws_cdk import CfnOutput, CustomResource, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.catalog.track_audio import CATALOG_AUDIO_PREFIX
from melody_infra.bundling import ASSET_EXCLUDE
from melody_infra.config import MelodyConfig
from melody_infra.constructs import MelodyFunction, MelodyLayers, env_name
from melody_infra.nag import LAMBDA_BASIC_EXECUTION, acknowledge, nag_ref
from melody_infra.paths import SHARED_LAYER_DIR
from melody_infra.stacks.data import DataStack

MIGRATIONS_DIR = SHARED_LAYER_DIR / "python" / "melody" / "catalog" / "postgres" / "migrations"
HANDLERS_DIR = Path(__file__).resolve().parents[1] / "handlers"
DATABASE_NAME = "melody"
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_6


def migrations_hash(folder: Path = MIGRATIONS_DIR) -> str:
    """sha256 over the migration files' names and contents: changes exactly when the set changes."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class CatalogStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: MelodyConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.database_name = DATABASE_NAME
        self.vpc = self._vpc()
        self.cluster = self._cluster()
        self.provider_secret = self._provider_secret()
        self.migrations = self._migrations()
        for child in self.node.children:
            if child.node.id.startswith("LogRetention"):
                acknowledge(
                    child,
                    {
                        "AwsSolutions-IAM4[" + LAMBDA_BASIC_EXECUTION + "]": (
                            "aws-cdk-lib's log-retention helper (it sets the retention of the cluster's "
                            "postgresql log group, which RDS creates) uses the basic execution managed policy."
                        ),
                        "AwsSolutions-IAM5[Resource::*]": (
                            "aws-cdk-lib's log-retention helper must set retention on a log group RDS names at "
                            "run time (logs:PutRetentionPolicy/DeleteRetentionPolicy on '*'); not configurable."
                        ),
                    },
                )
        CfnOutput(self, "ClusterArn", value=self.cluster.cluster_arn)
        CfnOutput(self, "ProviderSecretArn", value=self.provider_secret.secret_arn)

    @property
    def cluster_secret(self) -> secretsmanager.ISecret:
        assert self.cluster.secret is not None
        return self.cluster.secret

    def _vpc(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,  # an Aurora subnet group needs two AZs
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
        )
        flow_logs = logs.LogGroup(
            self, "VpcFlowLogs", retention=self.config.log_retention, removal_policy=self.config.removal_policy
        )
        vpc.add_flow_log("FlowLogs", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        return vpc

    def _cluster(self) -> rds.DatabaseCluster:
        c = self.config
        security_group = ec2.SecurityGroup(
            self,
            "ClusterSecurityGroup",
            vpc=self.vpc,
            description="Melody catalog cluster: no ingress (clients use the RDS Data API)",
            allow_all_outbound=False,
        )
        # generated master credentials; they outlive the cluster where its data does (snapshot restores)
        self.admin_secret = rds.DatabaseSecret(self, "AdminSecret", username="melody_admin")
        self.admin_secret.apply_removal_policy(c.removal_policy)
        acknowledge(
            self.admin_secret,
            {
                "AwsSolutions-SMG4": (
                    "Single-user rotation needs a rotation Lambda inside the isolated VPC plus a Secrets Manager "
                    "interface endpoint (no NAT here); the credentials are only used by the Data API on behalf of "
                    "IAM-authorised functions, and rotation is an operator runbook step for now."
                ),
            },
        )
        removal = RemovalPolicy.SNAPSHOT if c.removal_policy == RemovalPolicy.RETAIN else RemovalPolicy.DESTROY
        cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2(
                "Writer", auto_minor_version_upgrade=True, enable_performance_insights=False
            ),
            serverless_v2_min_capacity=c.catalog_min_acu,
            serverless_v2_max_capacity=c.catalog_max_acu,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[security_group],
            credentials=rds.Credentials.from_secret(self.admin_secret),
            default_database_name=DATABASE_NAME,
            enable_data_api=True,
            iam_authentication=True,
            storage_encrypted=True,
            deletion_protection=c.is_prod,
            backup=rds.BackupProps(retention=Duration.days(c.catalog_backup_days), preferred_window="20:00-21:00"),
            preferred_maintenance_window="Sun:21:30-Sun:22:30",
            cloudwatch_logs_exports=["postgresql"],
            cloudwatch_logs_retention=c.log_retention,
            removal_policy=removal,
            copy_tags_to_snapshot=True,
        )
        reasons = {
            "AwsSolutions-RDS11": (
                "The default port is kept on purpose: the security group has no ingress at all and the "
                "subnets are isolated; every client uses the RDS Data API over HTTPS with IAM, never the port."
            ),
        }
        if not c.is_prod:
            reasons["AwsSolutions-RDS10"] = (
                "Deletion protection is on in prod only; dev/test catalogs are disposable and rebuilt from "
                "migrations and the seed catalogue."
            )
        acknowledge(cluster, reasons)
        return cluster

    def _provider_secret(self) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "ProviderSecret",
            description=(
                'Melody search providers\' credentials: {"spotify": {"client_id", "client_secret"}, '
                '"youtube": {"api_key"}, "lastfm": {"api_key"}} (created empty; fill in by hand)'
            ),
            secret_string_value=SecretValue.unsafe_plain_text(json.dumps({})),
            removal_policy=self.config.removal_policy,
        )
        acknowledge(
            secret,
            {
                "AwsSolutions-SMG4": (
                    "Third-party API keys issued by the providers' consoles; they cannot be rotated by a Lambda, "
                    "the operator replaces them there and here."
                ),
            },
        )
        return secret

    def _migrations(self) -> CustomResource:
        c = self.config
        layers = MelodyLayers(self, "Layers")
        fn = MelodyFunction(
            self,
            "MigrateFunction",
            area="catalog-migrate",
            config=c,
            layers=layers,
            handler="catalog_migrate.handler",
            code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=ASSET_EXCLUDE),
            memory_size=256,
            timeout=Duration.minutes(10),
            description="melody: applies the catalog SQL migrations through the RDS Data API (custom resource)",
        )
        self.cluster.grant_data_api_access(fn.role)
        provider_logs = logs.LogGroup(
            self, "MigrateProviderLogs", retention=c.log_retention, removal_policy=c.removal_policy
        )
        provider = cr.Provider(
            self,
            "MigrateProvider",
            on_event_handler=fn.function,
            log_group=provider_logs,
        )
        fn_logical_id = self.resolve(self.get_logical_id(fn.function.node.default_child))
        acknowledge(
            provider,
            {
                "AwsSolutions-IAM4[" + LAMBDA_BASIC_EXECUTION + "]": (
                    "The custom-resource provider framework function is built by aws-cdk-lib with the basic "
                    "execution managed policy (CloudWatch Logs only); it is not configurable there."
                ),
                f"AwsSolutions-IAM5[Resource::<{fn_logical_id}.Arn>:*]": (
                    "The provider framework may invoke any version/alias of the migration function it fronts; "
                    "the wildcard is limited to that single function's ARN."
                ),
                "AwsSolutions-L1": (
                    "The provider framework functions' Node.js runtime is chosen by aws-cdk-lib and moves with "
                    "aws-cdk-lib upgrades."
                ),
            },
        )
        resource = CustomResource(
            self,
            "Migrations",
            service_token=provider.service_token,
            resource_type="Custom::MelodyCatalogMigrations",
            properties={
                "ClusterArn": self.cluster.cluster_arn,
                "SecretArn": self.cluster_secret.secret_arn,
                "Database": DATABASE_NAME,
                "MigrationsHash": migrations_hash(),
            },
        )
        resource.node.add_dependency(self.cluster)
        return resource


# -- the catalog and library API routes (in MelodyApi) ----------------------------------------------

CATALOG_ROUTES = [
    "GET /api/v1/music/search",
    "GET /api/v1/music/track/{track_id}",
    "GET /api/v1/music/trending",
    "GET /api/v1/music/home",
    # operators (AdminUser: the admin role in the access token; the JWT authorizer first)
    "POST /api/v1/music/admin/tracks/{track_id}/audio",
    "POST /api/v1/music/admin/tracks/{track_id}/audio/attach",
]
LIBRARY_ROUTES = [
    "GET /api/v1/library",
    "PUT /api/v1/library/{track_id}",
    "DELETE /api/v1/library/{track_id}",
    "POST /api/v1/library/{track_id}/plays",
    "PATCH /api/v1/library/uploads/{job_id}",
    # Synced lyrics for the player (melody.lyrics, served by the library function)
    "GET /api/v1/lyrics/{track_id}",
    "PUT /api/v1/lyrics/{track_id}",
    "DELETE /api/v1/lyrics/{track_id}",
]


def add_catalog_routes(api, catalog: CatalogStack, data: DataStack, pipeline=None) -> dict[str, MelodyFunction]:  # noqa: ANN001
    """``functions/catalog`` and ``functions/library`` behind the JWT authorizer (``CatalogSettings``)."""
    env = {
        "MELODY_CATALOG_CLUSTER_ARN": catalog.cluster.cluster_arn,
        "MELODY_CATALOG_SECRET_ARN": catalog.cluster_secret.secret_arn,
        "MELODY_CATALOG_DATABASE": catalog.database_name,
        "MELODY_LIBRARY_TABLE": data.tables["library_table"].table_name,
        "MELODY_SEARCH_CACHE_TABLE": data.tables["search_cache_table"].table_name,
        # Read-only: the caller's instrumental status per track comes from their conversion jobs.
        "MELODY_JOBS_TABLE": data.tables["jobs_table"].table_name,
    }
    search = api.add_lambda_route_group(
        "catalog",
        routes=CATALOG_ROUTES,
        protected=True,
        environment={
            **env,
            "MELODY_PROVIDER_SECRET_ID": catalog.provider_secret.secret_arn,
            # GET /music/track presigns the track's original audio (audio_assets → the media bucket).
            env_name("media_bucket"): data.media_bucket.bucket_name,
        },
    )
    library = api.add_lambda_route_group("library", routes=LIBRARY_ROUTES, protected=True, environment=env)
    for fn in (search, library):
        catalog.cluster.grant_data_api_access(fn.role)  # rds-data:* on the cluster + read its secret
    # search: the provider fan-out and its cache; it reads the library only through the catalog
    data.tables["search_cache_table"].grant_read_write_data(search.role)
    catalog.provider_secret.grant_read(search.role)
    # search: the presigned GET of a catalog track's original is signed with this role, so it holds
    # s3:GetObject itself, on the catalog audio prefix only (never stems, uploads or bucket actions).
    search.add_to_policy(
        [
            iam.PolicyStatement(
                sid="PresignCatalogAudio",
                # GetObject: the player's presigned GET and the attach's HeadObject; PutObject: the
                # operators' presigned upload form for a track's licensed audio (catalog/ only).
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[data.media_bucket.arn_for_objects(f"{CATALOG_AUDIO_PREFIX}*")],
            )
        ]
    )
    # home: the caller's preferred languages (users table, read-only)
    data.tables["users_table"].grant_read_data(search.role)
    search.add_environment(env_name("users_table"), data.tables["users_table"].table_name)
    # operators' attach: a catalog conversion job (jobs table) and the pipeline's execution
    data.tables["jobs_table"].grant_read_write_data(search.role)
    if pipeline is not None:
        search.add_environment("MELODY_STATE_MACHINE_ARN", pipeline.state_machine.state_machine_arn)
        pipeline.state_machine.grant_start_execution(search.role)
    media_ref = nag_ref(data.media_bucket.bucket_arn, producer=data, consumer=search)
    acknowledge(
        search.role,
        {
            f"AwsSolutions-IAM5[Resource::{media_ref}/{CATALOG_AUDIO_PREFIX}*]": (
                "Catalog audio keys are catalog/<track id>/<file>, registered in audio_assets by operators; "
                "read-only and limited to the catalog/ prefix of the media bucket (keys outside it are never "
                "presigned: melody.catalog.track_audio)."
            ),
        },
    )
    # library: the user's saved songs (the catalog gives track details)
    data.tables["library_table"].grant_read_write_data(library.role)
    # library: synced lyrics (LRCLIB answers cached, users' own LRC), one table without indexes
    data.tables["lyrics_table"].grant_read_write_data(library.role)
    library.add_environment(env_name("lyrics_table"), data.tables["lyrics_table"].table_name)
    library_table_ref = nag_ref(data.tables["library_table"].table_arn, producer=data, consumer=library)
    acknowledge(
        library.role,
        {
            f"AwsSolutions-IAM5[Resource::{library_table_ref}/index/*]": (
                "The library table's GSIs (by_added, by_updated) serve the listing and sync; DynamoDB index "
                "ARNs are table/index/<name>, the wildcard stays inside this one table."
            ),
        },
    )
    for fn in (search, library):
        data.tables["jobs_table"].grant_read_data(fn.role)
        jobs_ref = nag_ref(data.tables["jobs_table"].table_arn, producer=data, consumer=fn)
        acknowledge(
            fn.role,
            {
                f"AwsSolutions-IAM5[Resource::{jobs_ref}/index/*]": (
                    "Read-only on the jobs table's by_user_track GSI (and by_user), to show the caller's instrumental status per "
                    "track; the wildcard stays inside this one table."
                ),
            },
        )
    return {"catalog": search, "library": library}


def allow_catalog_reads(fn: MelodyFunction, catalog: CatalogStack) -> None:
    """Data API access for a function outside the catalog routes: the audio function finds a catalog
    track's audio (convert-to-instrumental); the system function's health check runs ``SELECT 1``."""
    fn.add_environment("MELODY_CATALOG_CLUSTER_ARN", catalog.cluster.cluster_arn)
    fn.add_environment("MELODY_CATALOG_SECRET_ARN", catalog.cluster_secret.secret_arn)
    fn.add_environment("MELODY_CATALOG_DATABASE", catalog.database_name)
    catalog.cluster.grant_data_api_access(fn.role)
