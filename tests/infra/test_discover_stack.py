"""Discover in the synthesised app: its routes behind the JWT authorizer, the crawler function (own
timeout, concurrency limit, no retries, catalog access) and the EventBridge Scheduler schedule that
invokes it (cdk-nag itself runs in the shared synth: tests/infra/test_nag.py)."""

from __future__ import annotations

import pytest

from melody_infra.stacks.discover import (
    CRAWL_SCHEDULE_MINUTES,
    CRAWLER_RESERVED_CONCURRENCY,
    CRAWLER_TIMEOUT,
    DISCOVER_ROUTES,
)
from tests.infra.helpers import as_list, dump, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra


def test_every_discover_route_uses_the_jwt_authorizer(synth):
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources(synth.api, "AWS::ApiGatewayV2::Route").values()}
    assert "GET /api/v1/discover/feed" in DISCOVER_ROUTES and "POST /api/v1/admin/sources/{source_id}/crawl" in DISCOVER_ROUTES
    for key in DISCOVER_ROUTES:
        assert routes[key]["AuthorizationType"] == "JWT", key


def test_the_api_function_reaches_the_catalog_and_reads_users_only(synth):
    _, fn = function_by_service(synth.api, "melody-discover")
    env = fn["Properties"]["Environment"]["Variables"]
    for name in ("MELODY_CATALOG_CLUSTER_ARN", "MELODY_CATALOG_SECRET_ARN", "MELODY_CATALOG_DATABASE", "MELODY_USERS_TABLE",
                 "MELODY_JWKS_URL"):  # fmt: skip
        assert name in env, name
    assert "MELODY_DISCOVER_ALLOW_LOOPBACK" not in env  # the SSRF guard keeps loopback closed in AWS
    statements = role_policy_statements(synth.api, fn)
    assert any("rds-data:ExecuteStatement" in as_list(s["Action"]) for s in statements)
    dynamo = {a for s in statements for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert dynamo and not dynamo & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}  # read-only


def test_the_crawler_has_its_own_timeout_concurrency_limit_and_no_retries(synth):
    logical_id, fn = function_by_service(synth.api, "melody-discover_crawler")
    props = fn["Properties"]
    assert props["Timeout"] == CRAWLER_TIMEOUT.to_seconds() == 600
    assert props["ReservedConcurrentExecutions"] == CRAWLER_RESERVED_CONCURRENCY == 1
    assert "SnapStart" not in props  # nothing waits on its cold start; the schedule invokes it directly
    assert props["Handler"] == "handler.handler"
    env = props["Environment"]["Variables"]
    assert {"MELODY_CATALOG_CLUSTER_ARN", "MELODY_CATALOG_SECRET_ARN", "MELODY_CATALOG_DATABASE"} <= set(env)
    assert "MELODY_DISCOVER_ALLOW_LOOPBACK" not in env
    (invoke_config,) = [
        c["Properties"] for c in resources(synth.api, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": logical_id}
    ]  # fmt: skip
    assert invoke_config["MaximumRetryAttempts"] == 0
    statements = role_policy_statements(synth.api, fn)
    assert any("rds-data:ExecuteStatement" in as_list(s["Action"]) for s in statements)
    # it touches no DynamoDB table and no bucket
    assert not [a for s in statements for a in as_list(s["Action"]) if a.startswith(("dynamodb:", "s3:"))]


def test_the_api_routes_never_reach_the_crawler(synth):
    logical_id, _ = function_by_service(synth.api, "melody-discover_crawler")
    for integration in resources(synth.api, "AWS::ApiGatewayV2::Integration").values():
        assert logical_id not in dump(integration["Properties"]["IntegrationUri"])


def test_an_eventbridge_schedule_invokes_the_crawler(synth):
    logical_id, _ = function_by_service(synth.api, "melody-discover_crawler")
    (schedule,) = [
        s["Properties"] for s in resources(synth.api, "AWS::Scheduler::Schedule").values()
        if dump(s["Properties"]["Target"]["Arn"]) == dump({"Fn::GetAtt": [logical_id, "Arn"]})
    ]  # fmt: skip
    assert schedule["ScheduleExpression"] == f"rate({CRAWL_SCHEDULE_MINUTES} minutes)"
    assert schedule.get("State", "ENABLED") == "ENABLED"
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    # the scheduler's role may invoke this function and nothing else
    role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in resources(synth.api, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements and all(as_list(s["Action"]) == ["lambda:InvokeFunction"] for s in statements)
    assert all(logical_id in dump(s["Resource"]) for s in statements)


def test_the_discover_tables_ship_with_the_catalog_migrations(synth):
    """Sources, posts, post songs and follows live in the catalog database: the migration custom
    resource applies 0006_discover.sql (its hash covers the file, so adding it triggers a run)."""
    from melody_infra.stacks.catalog import MIGRATIONS_DIR, migrations_hash

    sql = (MIGRATIONS_DIR / "0006_discover.sql").read_text()
    for table in ("discover_sources", "discover_posts", "discover_post_songs", "discover_follows", "discovered_tracks"):
        assert f"CREATE TABLE IF NOT EXISTS {table}" in sql, table
    (migrations,) = resources(synth.catalog, "Custom::MelodyCatalogMigrations").values()
    assert migrations["Properties"]["MigrationsHash"] == migrations_hash()
