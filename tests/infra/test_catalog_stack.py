"""MelodyCatalog: Aurora Serverless v2 with the Data API, the migration custom resource; search/library routes."""

from __future__ import annotations

import json

import pytest

from .helpers import as_list, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

DATA_API_ACTIONS = {
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
}


def _cluster(synth) -> tuple[str, dict]:
    ((logical_id, cluster),) = resources(synth.catalog, "AWS::RDS::DBCluster").items()
    return logical_id, cluster


def test_cluster_is_serverless_v2_postgres_16_with_data_api(synth):
    _, cluster = _cluster(synth)
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql" and props["EngineVersion"].startswith("16.")
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 8}
    assert props["EnableHttpEndpoint"] is True  # the Data API
    assert props["StorageEncrypted"] is True
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["DeletionProtection"] is True  # prod
    assert props["BackupRetentionPeriod"] >= 7
    assert props["DatabaseName"] == "melody"
    assert "secretsmanager" in json.dumps(props["MasterUserPassword"])  # generated, never a literal
    assert cluster["DeletionPolicy"] == "Snapshot"
    (instance,) = resources(synth.catalog, "AWS::RDS::DBInstance").values()
    assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
    assert instance["Properties"]["PubliclyAccessible"] is False
    secrets = resources(synth.catalog, "AWS::SecretsManager::Secret")
    assert all(s["DeletionPolicy"] == "Retain" for s in secrets.values())


def test_vpc_is_isolated_and_the_cluster_takes_no_ingress(synth):
    assert resources(synth.catalog, "AWS::EC2::NatGateway") == {}
    assert resources(synth.catalog, "AWS::EC2::InternetGateway") == {}
    assert resources(synth.catalog, "AWS::EC2::SecurityGroupIngress") == {}
    for group in resources(synth.catalog, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]
    assert resources(synth.catalog, "AWS::EC2::FlowLog")


def test_migrations_custom_resource(synth):
    from melody_infra.stacks.catalog import migrations_hash

    cluster_id, _ = _cluster(synth)
    ((_, migration),) = resources(synth.catalog, "Custom::MelodyCatalogMigrations").items()
    props = migration["Properties"]
    assert props["MigrationsHash"] == migrations_hash() and len(props["MigrationsHash"]) == 64
    assert props["Database"] == "melody"
    assert cluster_id in json.dumps(props["ClusterArn"])
    assert "AdminSecretAttachment" in json.dumps(props["SecretArn"])  # the secret attached to the cluster
    # it runs after the writer exists
    assert any(d.startswith("ClusterWriter") for d in migration["DependsOn"])
    _, fn = function_by_service(synth.catalog, "melody-catalog-migrate")
    assert fn["Properties"]["Handler"] == "catalog_migrate.handler"
    assert "VpcConfig" not in fn["Properties"]  # the Data API is an AWS endpoint: no VPC, no NAT
    actions = {a for s in role_policy_statements(synth.catalog, fn) for a in as_list(s["Action"])}
    assert DATA_API_ACTIONS <= actions


def test_migrations_hash_follows_the_files(tmp_path):
    from melody_infra.stacks.catalog import migrations_hash

    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x int);")
    first = migrations_hash(tmp_path)
    assert migrations_hash(tmp_path) == first
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (x int);")
    assert migrations_hash(tmp_path) != first


def test_provider_secret_starts_empty(synth):
    synth.catalog.has_resource_properties("AWS::SecretsManager::Secret", {"SecretString": "{}"})


@pytest.mark.parametrize("service", ["melody-catalog", "melody-library"])
def test_catalog_functions_env_and_data_api_grants(synth, service):
    _, fn = function_by_service(synth.api, service)
    env = fn["Properties"]["Environment"]["Variables"]
    # the names CatalogSettings reads (melody/settings.py)
    from melody.core.settings import CatalogSettings

    for field in ("catalog_cluster_arn", "catalog_secret_arn", "catalog_database", "library_table", "search_cache_table"):
        assert field in CatalogSettings.model_fields
        assert f"MELODY_{field.upper()}" in env, field
    assert env["MELODY_CATALOG_DATABASE"] == "melody"
    statements = role_policy_statements(synth.api, fn)
    data_api = [s for s in statements if DATA_API_ACTIONS & set(as_list(s["Action"]))]
    assert {a for s in data_api for a in as_list(s["Action"])} == DATA_API_ACTIONS
    assert all("ExportsOutputRefCluster" in json.dumps(s["Resource"]) for s in data_api)  # the catalog cluster
    secret_reads = {
        json.dumps(s["Resource"]) for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])
    }
    assert json.dumps(env["MELODY_CATALOG_SECRET_ARN"]) in secret_reads
    if service == "melody-catalog":
        assert "provider_secret_id" in CatalogSettings.model_fields
        assert json.dumps(env["MELODY_PROVIDER_SECRET_ID"]) in secret_reads
    else:
        assert "MELODY_PROVIDER_SECRET_ID" not in env


def _jobs_actions(synth, service: str) -> set[str]:
    _, function = function_by_service(synth.api, service)
    assert "MELODY_JOBS_TABLE" in function["Properties"]["Environment"]["Variables"]
    jobs_statements = [s for s in role_policy_statements(synth.api, function) if "JobsTable" in json.dumps(s["Resource"])]
    return {a for s in jobs_statements for a in as_list(s["Action"])}


def test_library_reads_jobs_for_instrumental_status_but_never_writes(synth):
    actions = _jobs_actions(synth, "melody-library")
    assert "dynamodb:Query" in actions
    assert not {a for a in actions if a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "dynamodb:BatchWrite"))}


def test_catalog_writes_jobs_and_starts_the_pipeline_for_the_operators_attach(synth):
    """POST /music/admin/tracks/{id}/audio/attach creates a catalog conversion job and starts it."""
    actions = _jobs_actions(synth, "melody-catalog")
    assert {"dynamodb:Query", "dynamodb:PutItem"} <= actions
    _, fn = function_by_service(synth.api, "melody-catalog")
    env = fn["Properties"]["Environment"]["Variables"]
    assert "AudioPipeline" in json.dumps(env["MELODY_STATE_MACHINE_ARN"])
    starts = [s for s in role_policy_statements(synth.api, fn) if "states:StartExecution" in as_list(s["Action"])]
    assert starts and all("AudioPipeline" in json.dumps(s["Resource"]) for s in starts)


def test_catalog_reads_users_for_the_home_screen_languages(synth):
    _, fn = function_by_service(synth.api, "melody-catalog")
    assert "MELODY_USERS_TABLE" in fn["Properties"]["Environment"]["Variables"]
    statements = [s for s in role_policy_statements(synth.api, fn) if "UsersTable" in json.dumps(s["Resource"])]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert "dynamodb:GetItem" in actions
    assert not {a for a in actions if a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete"))}


@pytest.mark.parametrize(
    ("service", "settings_name"),
    [
        ("melody-conversions", "AudioApiSettings"),  # finds a catalog track's audio (convert-to-instrumental)
        ("melody-system", "SystemSettings"),  # without these, /system/health in AWS says "not_configured"
    ],
)
def test_functions_outside_the_catalog_routes_reach_it_through_the_data_api(synth, service, settings_name):
    import melody.core.settings

    fields = getattr(melody.core.settings, settings_name).model_fields
    _, function = function_by_service(synth.api, service)
    env = function["Properties"]["Environment"]["Variables"]
    for field in ("catalog_cluster_arn", "catalog_secret_arn", "catalog_database"):
        assert field in fields
        assert f"MELODY_{field.upper()}" in env
    actions = {a for s in role_policy_statements(synth.api, function) for a in as_list(s["Action"])}
    assert "rds-data:ExecuteStatement" in actions


def _s3_statements(template, function) -> list[dict]:
    return [s for s in role_policy_statements(template, function) if any(a.startswith("s3:") for a in as_list(s["Action"]))]


def test_search_presigns_catalog_audio_with_a_grant_on_the_catalog_prefix_only(synth):
    """GET /music/track's ``audio_url`` (s3:GetObject) and the operators' upload form (s3:PutObject):
    the media bucket's name, and both on catalog/* alone."""
    from melody.catalog.track_audio import CATALOG_AUDIO_PREFIX
    from melody.core.settings import CatalogSettings

    assert CATALOG_AUDIO_PREFIX == "catalog/"
    _, fn = function_by_service(synth.api, "melody-catalog")
    env = fn["Properties"]["Environment"]["Variables"]
    assert {"media_bucket", "media_url_expires_s", "s3_public_endpoint_url"} <= set(CatalogSettings.model_fields)
    assert "MediaBucket" in json.dumps(env["MELODY_MEDIA_BUCKET"])  # the data stack's media bucket
    assert "MELODY_S3_PUBLIC_ENDPOINT_URL" not in env  # AWS: the real S3 endpoint

    (statement,) = _s3_statements(synth.api, fn)
    assert statement["Effect"] == "Allow" and sorted(as_list(statement["Action"])) == ["s3:GetObject", "s3:PutObject"]
    (resource,) = as_list(statement["Resource"])
    join = resource["Fn::Join"]
    assert join[1][-1] == f"/{CATALOG_AUDIO_PREFIX}*"  # <media bucket ARN>/catalog/*, nothing wider
    assert "MediaBucket" in json.dumps(join[1][:-1])


def test_library_gets_no_s3_access(synth):
    _, fn = function_by_service(synth.api, "melody-library")
    assert _s3_statements(synth.api, fn) == []
    assert "MELODY_MEDIA_BUCKET" not in fn["Properties"]["Environment"]["Variables"]


def test_the_migrations_hash_reads_the_files_the_catalog_applies():
    """The hash must cover the migrations the runtime applies: pointed at a folder that no longer
    exists (after a move), it hashes nothing and a new migration would never reach Aurora."""
    from melody.catalog.postgres.migrations import available_migrations
    from melody_infra.stacks.catalog import MIGRATIONS_DIR

    applied = {f"{m.version:04d}_{m.name}.sql" for m in available_migrations()}
    assert applied and {p.name for p in MIGRATIONS_DIR.glob("*.sql")} == applied
