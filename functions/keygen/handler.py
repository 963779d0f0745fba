"""Custom resource (via ``aws_cdk.custom_resources.Provider``): put signing-key material into the
Secrets Manager secret named by ``SecretId`` when it holds no key yet.

Idempotent: Create and Update leave a secret that already holds key material untouched (stack
updates must not rotate keys and invalidate live tokens); Delete does nothing (the secret's own
removal policy decides). A value that claims keys but cannot be parsed is an error, never
overwritten. Secret values are never logged or returned.
"""

from __future__ import annotations

import json
import logging

import boto3

from melody.domain.keys import KeyMaterial, generate_key_material_json

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def _holds_key(client, secret_id: str) -> bool:
    try:
        document = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return False  # no AWSCURRENT version yet
    try:
        data = json.loads(document)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("keys"):
        return False  # the bootstrap placeholder ({"keys": [], "bootstrap": ...}) or an empty value
    KeyMaterial.from_json(document)  # raises if the keys present are unusable: do not overwrite them
    return True


def handler(event: dict, context: object, *, client=None) -> dict:
    request_type = event["RequestType"]
    secret_id = event["ResourceProperties"]["SecretId"]
    physical_id = event.get("PhysicalResourceId") or secret_id
    if request_type == "Delete":
        logger.info("delete: leaving the secret to its removal policy")
        return {"PhysicalResourceId": physical_id}

    client = client or boto3.client("secretsmanager")
    if _holds_key(client, secret_id):
        logger.info("%s: the secret already holds key material; unchanged", request_type)
        created = False
    else:
        client.put_secret_value(SecretId=secret_id, SecretString=generate_key_material_json())
        logger.info("%s: wrote new key material into the secret", request_type)
        created = True
    return {"PhysicalResourceId": secret_id, "Data": {"Created": "true" if created else "false"}}
