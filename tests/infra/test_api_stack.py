"""MelodyApi: routes, JWT authorizer, function settings and least-privilege grants."""

from __future__ import annotations

import json

import pytest

from melody.core.resources import TABLES

from .helpers import as_list, function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra

PUBLIC = {
    "GET /api/v1/system/health",
    "POST /api/v1/auth/request-otp",
    "POST /api/v1/auth/verify-otp",
    "POST /api/v1/auth/refresh-token",
    "POST /api/v1/auth/logout",
    "GET /.well-known/openid-configuration",
    "GET /.well-known/jwks.json",
    # developer API (issue 11): API key checked in the function (melody_infra.stacks.developer)
    "POST /api/v1/b2b/query",
    "GET /api/v1/b2b/tracks",
    "GET /api/v1/b2b/tracks/{track_id}/next",
    "POST /api/v1/b2b/analyze",
    "GET /api/v1/b2b/analyze/{job_id}",
}
PROTECTED = {
    "GET /api/v1/users/me",
    "PATCH /api/v1/users/me",
    # pipeline (issue 4)
    "POST /api/v1/audio/uploads",
    "POST /api/v1/audio/convert-to-instrumental",
    "GET /api/v1/audio/conversion-status/{job_id}",
    "GET /api/v1/audio/jobs",
    "POST /api/v1/audio/jobs/{job_id}/link",
    "GET /api/v1/audio/jobs/{job_id}/download/{stem}",
    "POST /api/v1/audio/jobs/{job_id}/retry",
    "DELETE /api/v1/audio/jobs/{job_id}",
    "GET /api/v1/audio/jobs/{job_id}/melody",  # issue 12
    # catalog (issue 5)
    "GET /api/v1/music/search",
    "GET /api/v1/music/track/{track_id}",
    "GET /api/v1/music/trending",
    "GET /api/v1/music/home",
    "POST /api/v1/music/admin/tracks/{track_id}/audio",
    "POST /api/v1/music/admin/tracks/{track_id}/audio/attach",
    "GET /api/v1/library",
    "PUT /api/v1/library/{track_id}",
    "DELETE /api/v1/library/{track_id}",
    "POST /api/v1/library/{track_id}/plays",
    "PATCH /api/v1/library/uploads/{job_id}",
    # developer API (issue 11): a signed-in user's keys and usage
    "POST /api/v1/developer/keys",
    "GET /api/v1/developer/keys",
    "DELETE /api/v1/developer/keys/{key_id}",
    "GET /api/v1/developer/usage",
    # scores (issue 12)
    "POST /api/v1/scores/uploads",
    "GET /api/v1/scores",
    "GET /api/v1/scores/{score_id}",
    "DELETE /api/v1/scores/{score_id}",
    "GET /api/v1/scores/{score_id}/download/{what}",
    # sing along (issue 13): renditions and lyrics
    "POST /api/v1/audio/jobs/{job_id}/renditions",
    "GET /api/v1/audio/jobs/{job_id}/renditions/{rendition_id}",
    "GET /api/v1/lyrics/{track_id}",
    "PUT /api/v1/lyrics/{track_id}",
    "DELETE /api/v1/lyrics/{track_id}",
    # discover (issue 17): the feed, follows, suggestions, and the sources admins manage
    "GET /api/v1/discover/feed",
    "GET /api/v1/discover/follows",
    "PUT /api/v1/discover/follows/{kind}/{target_id}",
    "DELETE /api/v1/discover/follows/{kind}/{target_id}",
    "GET /api/v1/discover/sources",
    "POST /api/v1/discover/sources",
    "GET /api/v1/admin/sources",
    "POST /api/v1/admin/sources",
    "GET /api/v1/admin/sources/{source_id}",
    "PATCH /api/v1/admin/sources/{source_id}",
    "DELETE /api/v1/admin/sources/{source_id}",
    "POST /api/v1/admin/sources/{source_id}/crawl",
}


def _routes(synth) -> dict[str, dict]:
    return {r["Properties"]["RouteKey"]: r["Properties"] for r in resources(synth.api, "AWS::ApiGatewayV2::Route").values()}


def _api_id(synth) -> str:
    (api_id,) = resources(synth.api, "AWS::ApiGatewayV2::Api")
    return api_id


def test_routes_and_which_are_protected(synth):
    routes = _routes(synth)
    assert set(routes) == PUBLIC | PROTECTED
    (authorizer_id,) = resources(synth.api, "AWS::ApiGatewayV2::Authorizer")
    for key in PROTECTED:
        assert routes[key]["AuthorizationType"] == "JWT"
        assert routes[key]["AuthorizerId"] == {"Ref": authorizer_id}
    for key in PUBLIC:
        assert routes[key]["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in routes[key]


def test_jwt_authorizer_issuer_is_the_api_itself(synth):
    (authorizer,) = resources(synth.api, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["JwtConfiguration"] == {
        "Audience": ["melody-api"],
        "Issuer": {"Fn::GetAtt": [_api_id(synth), "ApiEndpoint"]},
    }


def test_default_stage_throttled_and_logged(synth):
    (stage,) = resources(synth.api, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    assert props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][1] == "Arn"


@pytest.mark.parametrize(
    "service", ["melody-auth", "melody-users", "melody-system", "melody-conversions", "melody-catalog", "melody-library"]
)
def test_function_runtime_tracing_logs_env(synth, service):
    _, fn = function_by_service(synth.api, service)
    props = fn["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert len(props["Layers"]) == 2
    assert "LogGroup" in props["LoggingConfig"]
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "MelodyStudio"
    assert env["POWERTOOLS_LOG_LEVEL"]
    assert env["MELODY_STAGE"] == "prod"
    assert env["MELODY_AWS_REGION"] == {"Ref": "AWS::Region"}
    assert props["Timeout"] <= 29  # under the HTTP API integration limit
    # no role has an AWS managed policy: every permission is a scoped statement
    role = synth.api.find_resources("AWS::IAM::Role")[props["Role"]["Fn::GetAtt"][0]]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_log_groups_have_retention(synth):
    for group in resources(synth.api, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 365  # prod default


def test_only_the_auth_function_reads_the_signing_secret(synth):
    api_id = _api_id(synth)
    _, auth = function_by_service(synth.api, "melody-auth")
    env = auth["Properties"]["Environment"]["Variables"]
    assert env["MELODY_JWT_ISSUER"] == {"Fn::GetAtt": [api_id, "ApiEndpoint"]}
    assert env["MELODY_JWT_AUDIENCE"] == "melody-api"
    assert "ImportValue" in json.dumps(env["MELODY_SIGNING_KEY_SECRET_ID"])  # from MelodyAuth
    statements = role_policy_statements(synth.api, auth)
    reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    # exactly the signing key and CloudFront's origin-verify value, nothing else
    assert sorted(json.dumps(s["Resource"]) for s in reads) == sorted(
        json.dumps(env[k]) for k in ("MELODY_SIGNING_KEY_SECRET_ID", "MELODY_ORIGIN_VERIFY_SECRET_ID")
    )
    assert not any("secretsmanager:PutSecretValue" in as_list(s["Action"]) for s in statements)


@pytest.mark.parametrize("service", ["melody-users", "melody-catalog", "melody-library", "melody-conversions"])
def test_verifying_functions_get_the_jwks_url_and_no_private_key(synth, service):
    """A function that only verifies tokens must not be able to mint them (or derive user ids)."""
    api_id = _api_id(synth)
    _, fn = function_by_service(synth.api, service)
    env = fn["Properties"]["Environment"]["Variables"]
    assert env["MELODY_JWT_ISSUER"] == {"Fn::GetAtt": [api_id, "ApiEndpoint"]}
    assert env["MELODY_JWKS_URL"] == {"Fn::Join": ["", [{"Fn::GetAtt": [api_id, "ApiEndpoint"]}, "/.well-known/jwks.json"]]}
    assert "MELODY_SIGNING_KEY_SECRET_ID" not in env
    auth_env = function_by_service(synth.api, "melody-auth")[1]["Properties"]["Environment"]["Variables"]
    signing_secret = json.dumps(auth_env["MELODY_SIGNING_KEY_SECRET_ID"])
    for statement in role_policy_statements(synth.api, fn):
        assert signing_secret not in json.dumps(statement.get("Resource"))


def test_the_system_function_verifies_nothing(synth):
    _, system = function_by_service(synth.api, "melody-system")
    env = system["Properties"]["Environment"]["Variables"]
    assert "MELODY_SIGNING_KEY_SECRET_ID" not in env and "MELODY_JWKS_URL" not in env


def _table_arns_with_action(statements, action) -> set[str]:
    return {
        json.dumps(r, sort_keys=True)
        for s in statements
        if s["Effect"] == "Allow" and action in as_list(s["Action"])
        for r in as_list(s["Resource"])
    }


def _table_arn_import(synth, construct_prefix: str) -> str:
    """The ImportValue of a MelodyData table ARN export, as it appears in MelodyApi."""
    text = json.dumps(synth.api.to_json())
    marker = f"ExportsOutputFnGetAtt{construct_prefix}"
    start = text.index(marker)
    name = text[text.rindex('"', 0, start) + 1 : text.index('"', start)]
    return json.dumps({"Fn::ImportValue": name}, sort_keys=True)


def test_least_privilege_tables(synth):
    users_arn = _table_arn_import(synth, "UsersTable")
    otp_arn = _table_arn_import(synth, "OtpChallengesTable")
    tokens_arn = _table_arn_import(synth, "RefreshTokensTable")
    rate_arn = _table_arn_import(synth, "RateLimitsTable")

    _, users_fn = function_by_service(synth.api, "melody-users")
    users = role_policy_statements(synth.api, users_fn)
    assert _table_arns_with_action(users, "dynamodb:PutItem") == {users_arn}
    assert _table_arns_with_action(users, "dynamodb:GetItem") == {users_arn}
    env = users_fn["Properties"]["Environment"]["Variables"]
    assert "MELODY_USERS_TABLE" in env and "MELODY_OTP_TABLE" not in env

    _, auth_fn = function_by_service(synth.api, "melody-auth")
    auth = role_policy_statements(synth.api, auth_fn)
    assert _table_arns_with_action(auth, "dynamodb:PutItem") == {users_arn, otp_arn, tokens_arn, rate_arn}

    _, system_fn = function_by_service(synth.api, "melody-system")
    system = role_policy_statements(synth.api, system_fn)
    assert _table_arns_with_action(system, "dynamodb:PutItem") == set()
    assert _table_arns_with_action(system, "dynamodb:GetItem") == set()
    every_table = {_table_arn_import(synth, spec.construct_id) for spec in TABLES}
    assert _table_arns_with_action(system, "dynamodb:DescribeTable") == every_table
    assert not any(a.startswith("s3:") and a != "s3:ListBucket" for s in system for a in as_list(s["Action"]))


def test_sms_publish_only_for_auth_and_region_scoped(synth):
    def publishes(service):
        _, fn = function_by_service(synth.api, service)
        return [s for s in role_policy_statements(synth.api, fn) if "sns:Publish" in as_list(s["Action"])]

    (statement,) = publishes("melody-auth")
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}}
    _, fn = function_by_service(synth.api, "melody-auth")
    assert fn["Properties"]["Environment"]["Variables"]["MELODY_SMS_SENDER"] == "sns"
    assert publishes("melody-users") == [] and publishes("melody-system") == []


def test_each_route_group_has_one_integration_and_permission_per_route(synth):
    integrations = resources(synth.api, "AWS::ApiGatewayV2::Integration")
    from melody.api.apps import FUNCTION_APPS

    # One per API function (the developer function serves its JWT and API-key routes through one).
    assert len(integrations) == len(FUNCTION_APPS)
    for integ in integrations.values():
        assert integ["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert integ["Properties"]["PayloadFormatVersion"] == "2.0"


def test_bundling_was_skipped(synth):
    """With aws:cdk:bundling-stacks=[] no dependency layer was built (no pip, no Docker)."""
    staged = [p for p in synth.outdir.iterdir() if p.name.startswith("asset.")]
    assert staged
    assert not any((p / "python" / "pydantic").exists() for p in staged)


def test_synth_time_is_reported(synth):
    print(f"\nsynth (6 stacks, cdk-nag on): {synth.seconds:.1f}s")
    assert synth.seconds < 600


# -- security alarms (SecurityEvent from melody.auth.security_events) ------------------------------


def _security_alarms(synth) -> dict[str, dict]:
    from melody.auth.security_events import SECURITY_EVENT_METRIC

    alarms = resources(synth.api, "AWS::CloudWatch::Alarm").values()
    by_kind = {}
    for alarm in alarms:
        props = alarm["Properties"]
        if props.get("MetricName") == SECURITY_EVENT_METRIC:
            dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            if dims.get("service") != "melody-auth":
                continue  # other functions' events (the developer API's refused keys: test_developer_stack.py)
            by_kind[dims["kind"]] = {**props, "dimensions": dims}
    return by_kind


def test_security_alarms_watch_each_kind_of_the_auth_functions_security_events(synth):
    from melody.auth.security_events import SECURITY_EVENT_KINDS

    alarms = _security_alarms(synth)
    assert set(alarms) == set(SECURITY_EVENT_KINDS) == {"refresh_token_reuse", "otp_lockout", "rate_limited"}
    _, auth_fn = function_by_service(synth.api, "melody-auth")
    env = auth_fn["Properties"]["Environment"]["Variables"]
    for alarm in alarms.values():
        # the EMF record's namespace and dimension set (service from powertools, kind) exactly
        assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"] == "MelodyStudio"
        assert alarm["dimensions"] == {"service": env["POWERTOOLS_SERVICE_NAME"], "kind": alarm["dimensions"]["kind"]}
        assert alarm["Statistic"] == "Sum" and alarm["Period"] == 300 and alarm["EvaluationPeriods"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"


def test_security_alarm_thresholds_come_from_the_config(synth):
    config = synth.melody.config
    alarms = _security_alarms(synth)
    assert alarms["refresh_token_reuse"]["Threshold"] == config.alarm_refresh_token_reuse_threshold == 1  # any reuse
    assert alarms["otp_lockout"]["Threshold"] == config.alarm_otp_lockout_threshold
    assert alarms["rate_limited"]["Threshold"] == config.alarm_rate_limited_threshold
    assert config.alarm_otp_lockout_threshold > 1 and config.alarm_rate_limited_threshold > 1


def test_security_alarms_notify_a_kms_encrypted_topic(synth):
    topics = resources(synth.api, "AWS::SNS::Topic")
    (topic_id,) = [k for k in topics if k.startswith("SecurityAlarmTopic")]
    (key_id,) = [k for k in resources(synth.api, "AWS::KMS::Key") if k.startswith("SecurityAlarmTopicKey")]
    assert topics[topic_id]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = resources(synth.api, "AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch and set(as_list(cloudwatch[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    for alarm in _security_alarms(synth).values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    # SSL only, as the pipeline's topic
    (policy,) = [
        p for p in resources(synth.api, "AWS::SNS::TopicPolicy").values() if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)


def test_deleting_a_song_may_delete_every_object_its_last_job_releases(synth):
    """``JobService.delete`` deletes the released result's analysis, stems and lead-sheet files
    (``melody/``), and its renditions (``renditions/``: files, and records found by id in the
    renditions table), with the job's upload and original; a prefix or action missing here is
    AccessDenied in AWS after the result's reference is already released (a 500 and orphaned objects)."""
    _, fn = function_by_service(synth.api, "melody-conversions")
    statements = role_policy_statements(synth.api, fn)
    deletes = [s for s in statements if "s3:DeleteObject" in as_list(s["Action"])]
    covered = json.dumps([r for s in deletes for r in as_list(s["Resource"])])
    for prefix in ("uploads/", "originals/", "stems/", "analysis/", "melody/", "renditions/"):
        assert f'"/{prefix}*"' in covered, prefix
    assert '"/*"' not in covered  # never the whole bucket
    renditions = _table_arn_import(synth, "RenditionsTable")
    for action in ("dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"):
        assert renditions in _table_arns_with_action(statements, action), action
