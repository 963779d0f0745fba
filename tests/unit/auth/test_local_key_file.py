"""The dev key file: created once (0600), reused, and moved to RSA without losing the HMAC key."""

from __future__ import annotations

import stat

from melody.auth.key_file import ensure_local_key_file
from melody.auth.keys import KeyMaterial
from tests.support.keys import ec_key_document


def test_created_once_private_and_reused(tmp_path):
    path = ensure_local_key_file(tmp_path / "keys" / "signing-key.json")
    first = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyMaterial.from_json(first).current.algorithm == "RS256"
    assert ensure_local_key_file(path).read_text() == first


def test_an_ec_key_file_gets_an_rsa_key_and_keeps_its_hmac_key(tmp_path):
    path = tmp_path / "signing-key.json"
    path.write_text(ec_key_document())
    before = KeyMaterial.from_json(path.read_text())
    after = KeyMaterial.from_json(ensure_local_key_file(path).read_text())
    assert after.current.algorithm == "RS256"
    assert after.hmac_key == before.hmac_key
    assert after.by_kid("k-old") is not None
