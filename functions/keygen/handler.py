"""Custom resource (via ``aws_cdk.custom_resources.Provider``): put signing-key material into the
Secrets Manager secret named by ``SecretId`` when it holds no key yet.

Idempotent: Create and Update leave a secret that already holds usable key material untouched
(stack updates must not rotate keys and invalidate live tokens). The one change they make: a secret
whose current key is not RSA (written before API Gateway's RSA-only JWT authorizer was accounted
for) gets a new RSA key in front; its older keys and its HMAC key are kept. Delete does nothing
(the secret's own removal policy decides). A value that claims keys but cannot be parsed is an
error, never overwritten. Secret values are never logged or returned.
"""

from __future__ import annotations

import json
import logging

import boto3

from melody.auth.keys import generate_key_material_json, upgrade_key_material_json

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def _current_document(client, secret_id: str) -> str | None:
    """The secret's key material, or None when it holds none yet."""
    try:
        document = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return None  # no AWSCURRENT version yet
    try:
        data = json.loads(document)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("keys"):
        return None  # the bootstrap placeholder ({"keys": [], "bootstrap": ...}) or an empty value
    return document


def handler(event: dict, context: object, *, client=None) -> dict:
    request_type = event["RequestType"]
    secret_id = event["ResourceProperties"]["SecretId"]
    physical_id = event.get("PhysicalResourceId") or secret_id
    if request_type == "Delete":
        logger.info("delete: leaving the secret to its removal policy")
        return {"PhysicalResourceId": physical_id}

    client = client or boto3.client("secretsmanager")
    document = _current_document(client, secret_id)
    created = False
    if document is None:
        client.put_secret_value(SecretId=secret_id, SecretString=generate_key_material_json())
        logger.info("%s: wrote new key material into the secret", request_type)
        created = True
    else:
        upgraded = upgrade_key_material_json(document)  # raises if the keys present are unusable
        if upgraded is None:
            logger.info("%s: the secret already holds key material; unchanged", request_type)
        else:
            client.put_secret_value(SecretId=secret_id, SecretString=upgraded)
            logger.info("%s: put a new RSA signing key in front of the existing keys", request_type)
    return {"PhysicalResourceId": secret_id, "Data": {"Created": "true" if created else "false"}}
