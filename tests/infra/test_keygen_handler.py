"""functions/keygen: writes key material only when the secret holds none; never returns it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from melody.auth.keys import KeyMaterial, generate_key_material_json
from tests.support.keys import ec_key_document

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "keygen" / "handler.py"


@pytest.fixture(scope="module")
def keygen():
    spec = importlib.util.spec_from_file_location("keygen_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeSecrets:
    class exceptions:  # noqa: N801 - mirrors the boto3 client attribute
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, value: str | None) -> None:
        self.value = value
        self.puts = 0

    def get_secret_value(self, SecretId: str) -> dict:  # noqa: N803
        if self.value is None:
            raise self.exceptions.ResourceNotFoundException()
        return {"SecretString": self.value}

    def put_secret_value(self, SecretId: str, SecretString: str) -> dict:  # noqa: N803
        self.value = SecretString
        self.puts += 1
        return {}


def _event(kind: str) -> dict:
    return {"RequestType": kind, "ResourceProperties": {"SecretId": "arn:secret"}, "PhysicalResourceId": "arn:secret"}


@pytest.mark.parametrize("initial", [json.dumps({"keys": [], "bootstrap": "abc"}), None, ""])
def test_create_writes_key_material_once(keygen, initial):
    client = FakeSecrets(initial)
    result = keygen.handler(_event("Create"), None, client=client)
    assert client.puts == 1
    material = KeyMaterial.from_json(client.value)
    assert material.current.kid.startswith("k-")
    assert result["Data"] == {"Created": "true"}
    assert client.value not in json.dumps(result)  # nothing secret goes back to CloudFormation
    keygen.handler(_event("Update"), None, client=client)
    assert client.puts == 1  # idempotent: the key is kept on updates


def test_existing_key_is_never_replaced(keygen):
    document = generate_key_material_json()
    client = FakeSecrets(document)
    assert keygen.handler(_event("Update"), None, client=client)["Data"] == {"Created": "false"}
    assert client.value == document


def test_broken_key_material_fails_instead_of_being_overwritten(keygen):
    client = FakeSecrets(json.dumps({"keys": [{"kid": "k", "private_key_pem": "nope"}], "hmac_key": ""}))
    with pytest.raises(ValueError):  # the unreadable PEM
        keygen.handler(_event("Create"), None, client=client)
    assert client.puts == 0


def test_delete_touches_nothing(keygen):
    client = FakeSecrets(None)
    assert keygen.handler(_event("Delete"), None, client=client) == {"PhysicalResourceId": "arn:secret"}
    assert client.puts == 0



def test_an_ec_only_secret_gets_an_rsa_key_in_front_and_keeps_the_rest(keygen):
    old = ec_key_document()
    client = FakeSecrets(old)
    result = keygen.handler(_event("Update"), None, client=client)
    assert client.puts == 1 and result["Data"] == {"Created": "false"}
    before, after = KeyMaterial.from_json(old), KeyMaterial.from_json(client.value)
    assert after.current.algorithm == "RS256"
    assert [k.kid for k in after.signing_keys[1:]] == ["k-old"]  # still published until its tokens expire
    assert after.hmac_key == before.hmac_key  # user ids are keyed hashes: the HMAC key never changes
    keygen.handler(_event("Update"), None, client=client)
    assert client.puts == 1  # upgraded once
