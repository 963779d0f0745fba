"""The developer API in the synthesised app: its routes and authorizers, its tables, the key pepper,
least-privilege grants (cdk-nag itself runs in the shared synth: tests/infra/test_nag.py)."""

from __future__ import annotations

import pytest

from tests.infra.helpers import resources

pytestmark = pytest.mark.infra


def _developer_function(synth) -> tuple[str, dict]:
    fn = synth.melody.api.functions["developer"]
    logical = synth.melody.api.get_logical_id(fn.function.node.default_child)
    return logical, resources(synth.api, "AWS::Lambda::Function")[logical]


def test_developer_routes_use_the_jwt_authorizer_and_b2b_routes_none(synth):
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources(synth.api, "AWS::ApiGatewayV2::Route").values()}
    for key in ("POST /api/v1/developer/keys", "GET /api/v1/developer/keys", "DELETE /api/v1/developer/keys/{key_id}",
                "GET /api/v1/developer/usage"):  # fmt: skip
        assert routes[key]["AuthorizationType"] == "JWT", key
    for key in ("POST /api/v1/b2b/query", "GET /api/v1/b2b/tracks", "GET /api/v1/b2b/tracks/{track_id}/next",
                "POST /api/v1/b2b/analyze", "GET /api/v1/b2b/analyze/{job_id}"):  # fmt: skip
        # the key is checked in the function (immediate revocation, exact counting), not by a cached authorizer
        assert routes[key]["AuthorizationType"] == "NONE", key


def test_the_function_reads_the_pepper_secret_and_names_its_tables(synth):
    _, fn = _developer_function(synth)
    env = fn["Properties"]["Environment"]["Variables"]
    for name in ("MELODY_API_KEYS_TABLE", "MELODY_API_USAGE_TABLE", "MELODY_JOBS_TABLE", "MELODY_RESULTS_TABLE",
                 "MELODY_API_KEY_PEPPER_SECRET_ID", "MELODY_STATE_MACHINE_ARN", "MELODY_JWKS_URL",
                 "MELODY_CATALOG_CLUSTER_ARN"):  # fmt: skip
        assert name in env, name
    assert "MELODY_API_KEY_PEPPER" not in env  # never the pepper's value
    secrets = resources(synth.api, "AWS::SecretsManager::Secret")
    assert any("developer API keys" in s["Properties"].get("Description", "") for s in secrets.values())


def test_the_keys_and_usage_tables_exist_with_their_keys(synth):
    tables = resources(synth.data, "AWS::DynamoDB::Table").values()
    by_keys = {tuple(k["AttributeName"] for k in t["Properties"]["KeySchema"]): t["Properties"] for t in tables}
    keys = by_keys[("key_hash",)]
    assert [i["IndexName"] for i in keys["GlobalSecondaryIndexes"]] == ["by_user"]
    usage = by_keys[("pk", "sk")]
    assert usage["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_the_function_may_presign_uploads_only_under_the_uploads_prefix(synth):
    policies = resources(synth.api, "AWS::IAM::Policy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "PresignAnalyzeUploads"]
    assert statements and all(s["Action"] == "s3:PutObject" for s in statements)
    assert "uploads/*" in str(statements[0]["Resource"])


def test_refused_keys_alarm_on_the_developer_functions_security_events(synth):
    from melody.developer.security import API_KEY_REJECTED
    from melody_infra.stacks.developer import API_KEY_REJECTED_THRESHOLD

    _, fn = _developer_function(synth)
    env = fn["Properties"]["Environment"]["Variables"]
    alarms = [
        a["Properties"] for a in resources(synth.api, "AWS::CloudWatch::Alarm").values()
        if {"Name": "kind", "Value": API_KEY_REJECTED} in a["Properties"].get("Dimensions", [])
    ]  # fmt: skip
    assert len(alarms) == 1
    (alarm,) = alarms
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"service": env["POWERTOOLS_SERVICE_NAME"], "kind": API_KEY_REJECTED}
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"] and alarm["Threshold"] == API_KEY_REJECTED_THRESHOLD
    assert alarm["AlarmActions"]
