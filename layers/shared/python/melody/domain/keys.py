"""Key material: the ES256 signing key(s) for access tokens and the HMAC key for OTP codes.

The material travels as one JSON document (a Secrets Manager secret in AWS, a file in the local
data folder) so that rotation is one write: ``{"keys": [{"kid", "private_key_pem"}...], "hmac_key"}``
with the first key current and the others still published in the JWKS until their tokens expire.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def public_jwk(self) -> dict:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}


@dataclass(frozen=True)
class KeyMaterial:
    signing_keys: tuple[SigningKey, ...]
    hmac_key: bytes

    @property
    def current(self) -> SigningKey:
        return self.signing_keys[0]

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self.signing_keys if k.kid == kid), None)

    def jwks(self) -> dict:
        return {"keys": [k.public_jwk() for k in self.signing_keys]}

    @classmethod
    def from_json(cls, document: str) -> KeyMaterial:
        data = json.loads(document)
        keys = tuple(
            SigningKey(
                kid=item["kid"],
                private_key=serialization.load_pem_private_key(item["private_key_pem"].encode(), None),
            )
            for item in data["keys"]
        )
        if not keys:
            raise ValueError("key material holds no signing key")
        return cls(signing_keys=keys, hmac_key=base64.b64decode(data["hmac_key"]))


def generate_key_material_json() -> str:
    """A fresh document: one P-256 key and a 256-bit HMAC key (used by ``melody dev`` and CDK docs)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "keys": [{"kid": "k-" + secrets.token_hex(6), "private_key_pem": pem}],
            "hmac_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
