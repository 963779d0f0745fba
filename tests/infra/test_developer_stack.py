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


# -- the optional LLM interpreter (issue 11): off by default, on with context -----------------------------

LLM_SECRET_ARN = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody/nl-llm-AbCdEf"
LLM_CONTEXT = {
    "nl_llm_base_url": "https://llm.example.com/v1",
    "nl_llm_model": "gpt-4o-mini",
    "nl_llm_secret_arn": LLM_SECRET_ARN,
}


def _llm_statements(template, function: dict) -> list[dict]:
    from tests.infra.helpers import role_policy_statements

    return [s for s in role_policy_statements(template, function) if s.get("Sid") == "ReadNlLlmApiKey"]


def test_the_llm_interpreter_is_off_by_default(synth):
    _, fn = _developer_function(synth)
    env = fn["Properties"]["Environment"]["Variables"]
    assert not [name for name in env if name.startswith("MELODY_NL_LLM")]
    assert _llm_statements(synth.api, fn) == []


@pytest.fixture(scope="module")
def llm_synth(tmp_path_factory):
    """A second synth of the app with the LLM context (cdk-nag on: a finding fails it)."""
    from aws_cdk.assertions import Template

    from melody_infra.app import build_app
    from tests.infra.conftest import PROD_CONTEXT

    melody = build_app(context={**PROD_CONTEXT, **LLM_CONTEXT}, outdir=str(tmp_path_factory.mktemp("cdkout-llm")))
    assembly = melody.app.synth()
    api = Template.from_json(assembly.get_stack_by_name(melody.api.stack_name).template)
    fn = melody.api.functions["developer"]
    return api, resources(api, "AWS::Lambda::Function")[melody.api.get_logical_id(fn.function.node.default_child)]


def test_with_context_the_function_gets_the_settings_and_may_read_that_secret_only(llm_synth):
    api, fn = llm_synth
    env = fn["Properties"]["Environment"]["Variables"]
    assert env["MELODY_NL_LLM_BASE_URL"] == "https://llm.example.com/v1"
    assert env["MELODY_NL_LLM_MODEL"] == "gpt-4o-mini"
    assert env["MELODY_NL_LLM_API_KEY_SECRET_ARN"] == LLM_SECRET_ARN
    assert "MELODY_NL_LLM_API_KEY" not in env  # never the key itself
    (statement,) = _llm_statements(api, fn)
    assert statement["Action"] == "secretsmanager:GetSecretValue" and statement["Resource"] == LLM_SECRET_ARN
    assert statement["Effect"] == "Allow"


def test_the_llm_context_is_checked():
    from types import SimpleNamespace

    from melody_infra.stacks.developer import nl_llm_config

    def config(**context):
        return nl_llm_config(SimpleNamespace(try_get_context=context.get))

    assert config().base_url is None
    partial = config(nl_llm_base_url="https://llm.example.com/v1",
                     nl_llm_secret_arn="arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody/nl-llm")  # fmt: skip
    assert partial.secret_resource == "arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody/nl-llm-??????"
    assert config(**LLM_CONTEXT).secret_resource == LLM_SECRET_ARN
    for bad in ({"nl_llm_secret_arn": LLM_SECRET_ARN},  # no endpoint
                {"nl_llm_base_url": "http://llm.example.com/v1"},  # not https
                {"nl_llm_base_url": "https://llm.example.com/v1", "nl_llm_secret_arn": "melody/nl-llm"}):  # fmt: skip
        with pytest.raises(ValueError, match="nl_llm"):
            config(**bad)
