"""Key material: the RS256 signing key(s) for access tokens and the HMAC key for OTP codes and user ids.

The material travels as one JSON document (a Secrets Manager secret in AWS, a file in the local
data folder) so that rotation is one write: ``{"keys": [{"kid", "private_key_pem"}...], "hmac_key"}``
with the first key current and the others still published in the JWKS until their tokens expire.

Why RSA: API Gateway's HTTP API JWT authorizer, which checks every protected route before a
function runs, supports only RSA-based signatures. Documents written before that choice hold a
P-256 key; :func:`upgrade_key_material_json` puts a new RSA key in front of it and keeps the HMAC
key, because user ids are keyed hashes of phone numbers and must not change. Each key's algorithm
follows from its own type, never from a token's header (no algorithm confusion).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

RSA_KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def algorithm(self) -> str:
        return "RS256" if isinstance(self.private_key, rsa.RSAPrivateKey) else "ES256"

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        public_key = self.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            jwk = json.loads(RSAAlgorithm.to_jwk(public_key))
        else:
            jwk = json.loads(ECAlgorithm.to_jwk(public_key))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}


@dataclass(frozen=True)
class KeyMaterial:
    signing_keys: tuple[SigningKey, ...]
    hmac_key: bytes

    @property
    def current(self) -> SigningKey:
        return self.signing_keys[0]

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self.signing_keys if k.kid == kid), None)

    def algorithms(self) -> list[str]:
        return sorted({k.algorithm for k in self.signing_keys})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.signing_keys]}

    @classmethod
    def from_json(cls, document: str) -> KeyMaterial:
        data = json.loads(document)
        keys: list[SigningKey] = []
        for item in data["keys"]:
            private_key = serialization.load_pem_private_key(item["private_key_pem"].encode(), None)
            if not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
                raise ValueError(f"signing key {item['kid']} is neither RSA nor EC")
            keys.append(SigningKey(kid=item["kid"], private_key=private_key))
        if not keys:
            raise ValueError("key material holds no signing key")
        return cls(signing_keys=tuple(keys), hmac_key=base64.b64decode(data["hmac_key"]))


def _new_signing_key_entry() -> dict[str, str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"kid": "k-" + secrets.token_hex(6), "private_key_pem": pem}


def generate_key_material_json() -> str:
    """A fresh document: one RSA key and a 256-bit HMAC key (``melody dev`` and the CDK key generator)."""
    return json.dumps(
        {"keys": [_new_signing_key_entry()], "hmac_key": base64.b64encode(secrets.token_bytes(32)).decode()}
    )


def upgrade_key_material_json(document: str) -> str | None:
    """A document whose current key is RSA, or None when ``document`` already has one.

    The older keys stay (still published, so tokens they signed verify until they expire) and the
    HMAC key is kept as it is.
    """
    material = KeyMaterial.from_json(document)  # raises on unusable material: never overwrite it
    if material.current.algorithm == "RS256":
        return None
    data = json.loads(document)
    data["keys"] = [_new_signing_key_entry(), *data["keys"]]
    return json.dumps(data)
