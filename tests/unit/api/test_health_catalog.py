"""The health check reaches the catalog through the Data API when that is how the functions reach it."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from melody.core.settings import SystemSettings
from melody.core.sql.connect import catalog_executor
from melody.core.sql.executor import DataApiExecutor
from melody.system.health import check_catalog

ARN = "arn:aws:rds:ap-south-1:123456789012:cluster:melody-catalog"
SECRET = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody-catalog-abc123"


def _settings(**values) -> SystemSettings:
    return SystemSettings(_env_file=None, **values)


def test_the_settings_pick_the_data_api_and_health_runs_select_1():
    settings = _settings(catalog_cluster_arn=ARN, catalog_secret_arn=SECRET)
    assert isinstance(catalog_executor(settings), DataApiExecutor)
    client = boto3.client("rds-data", region_name="ap-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response(
            "execute_statement",
            {"columnMetadata": [{"name": "ok", "typeName": "int4"}], "records": [[{"longValue": 1}]]},
            {"resourceArn": ARN, "secretArn": SECRET, "database": "melody", "sql": "SELECT 1 AS ok",
             "includeResultMetadata": True},
        )
        state = check_catalog(settings, DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody"))
        stubber.assert_no_pending_responses()
    assert state.status == "ok" and state.latency_ms is not None


def test_a_failing_catalog_is_an_error_not_an_exception():
    settings = _settings(catalog_cluster_arn=ARN, catalog_secret_arn=SECRET)
    client = boto3.client("rds-data", region_name="ap-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("execute_statement", service_error_code="BadRequestException", http_status_code=400)
        state = check_catalog(settings, DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody"))
    assert state.status == "error"


def test_no_catalog_configured():
    assert check_catalog(_settings()).status == "not_configured"


def test_the_public_health_route_probes_at_most_once_per_interval(monkeypatch):
    from melody.system import health

    calls = []
    monkeypatch.setattr(health, "_probe", lambda settings: calls.append(1) or {"x": health.DependencyState(status="ok")})
    monkeypatch.setattr(health, "_cache", {})
    settings = _settings()
    for _ in range(20):
        assert health.check_dependencies(settings)["x"].status == "ok"
    assert len(calls) == 1
    health.check_dependencies(settings, max_age_s=0)
    assert len(calls) == 2
