"""MelodyAuth: the signing-key secret and the keygen custom resource."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from .helpers import function_by_service, resources, role_policy_statements

pytestmark = pytest.mark.infra


def _signing_secret(synth) -> tuple[str, dict]:
    ((logical_id, secret),) = [
        (k, v) for k, v in resources(synth.auth, "AWS::SecretsManager::Secret").items() if k.startswith("SigningKeySecret")
    ]
    return logical_id, secret


def test_secret_starts_as_placeholder_and_is_retained_in_prod(synth):
    _, secret = _signing_secret(synth)
    gen = secret["Properties"]["GenerateSecretString"]
    assert json.loads(gen["SecretStringTemplate"]) == {"keys": []}
    assert gen["GenerateStringKey"] == "bootstrap"
    assert secret["DeletionPolicy"] == "Retain"


def test_custom_resource_points_at_the_secret(synth):
    secret_id, _ = _signing_secret(synth)
    synth.auth.has_resource_properties(
        "Custom::MelodySigningKey",
        {
            "ServiceToken": {"Fn::GetAtt": [Match.string_like_regexp("KeygenProvider"), "Arn"]},
            "SecretId": {"Ref": secret_id},
            # a property that changed with the RS256 switch: CloudFormation only calls the handler
            # (which upgrades EC-only secrets) on Update when a property changes
            "KeyFormat": "rs256-v1",
        },
    )


def test_keygen_function_can_read_and_write_only_the_secret(synth):
    secret_id, _ = _signing_secret(synth)
    _, fn = function_by_service(synth.auth, "melody-keygen")
    assert fn["Properties"]["Runtime"] == "python3.13"
    assert fn["Properties"]["Architectures"] == ["arm64"]
    secret_statements = [s for s in role_policy_statements(synth.auth, fn) if "secretsmanager" in json.dumps(s)]
    actions = {a for s in secret_statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert "secretsmanager:PutSecretValue" in actions and "secretsmanager:GetSecretValue" in actions
    assert all(s["Resource"] == {"Ref": secret_id} for s in secret_statements)


def test_origin_verify_secret_is_generated_and_retained_in_prod(synth):
    ((_, secret),) = [
        (k, v) for k, v in resources(synth.auth, "AWS::SecretsManager::Secret").items() if k.startswith("OriginVerifySecret")
    ]
    gen = secret["Properties"]["GenerateSecretString"]
    assert gen["PasswordLength"] >= 32 and gen["ExcludePunctuation"] is True
    assert secret["DeletionPolicy"] == "Retain"
