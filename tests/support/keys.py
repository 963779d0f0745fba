"""Key material as the generator wrote it before the switch to RSA: one P-256 key and an HMAC key."""

from __future__ import annotations

import base64
import json
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def ec_key_document(kid: str = "k-old") -> str:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps({"keys": [{"kid": kid, "private_key_pem": pem}], "hmac_key": base64.b64encode(secrets.token_bytes(32)).decode()})
