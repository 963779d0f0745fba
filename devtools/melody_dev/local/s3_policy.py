"""Checks an S3 browser-based POST the way S3 does (moto accepts any, so the dev stack must).

Reference: "Authenticating Requests in Browser-Based Uploads Using POST (AWS Signature Version 4)"
and "Creating a POST Policy" in the Amazon S3 API reference.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

# Form fields that the policy need not mention (S3's own list).
_EXEMPT = {"policy", "x-amz-signature", "file", "x-ignore-"}


class PolicyViolation(Exception):
    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(
    bucket: str, form: dict[str, str], size: int, *, secret_key: str, now: datetime | None = None
) -> dict[str, Any]:
    """Raise :class:`PolicyViolation` unless the form is signed and meets every condition."""
    now = now or datetime.now(UTC)
    fields = {k.lower(): v for k, v in form.items()}
    policy_b64 = fields.get("policy")
    signature = fields.get("x-amz-signature")
    credential = fields.get("x-amz-credential", "")
    if not policy_b64 or not signature or fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise PolicyViolation("AccessDenied", "The upload is not signed.")
    try:
        _, date, region, service, terminal = credential.split("/")
    except ValueError:
        raise PolicyViolation("AccessDenied", "The credential is malformed.") from None
    if service != "s3" or terminal != "aws4_request":
        raise PolicyViolation("AccessDenied", "The credential is malformed.")
    expected = hmac.new(_signing_key(secret_key, date, region), policy_b64.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise PolicyViolation("SignatureDoesNotMatch", "The signature does not match.")
    try:
        policy = json.loads(base64.b64decode(policy_b64))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        raise PolicyViolation("InvalidPolicyDocument", "The policy is malformed.", 400) from None
    if expiration <= now:
        raise PolicyViolation("AccessDenied", "Invalid according to Policy: Policy expired.")

    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            name = name.lower()
            covered.add(name)
            if values.get(name) != value:
                raise PolicyViolation("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {name}")
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if not low <= size <= high:
                raise PolicyViolation(
                    "EntityTooLarge" if size > high else "EntityTooSmall",
                    "Your proposed upload exceeds the maximum allowed size."
                    if size > high
                    else "Your proposed upload is smaller than the minimum allowed size.",
                    400,
                )
        elif isinstance(condition, list) and len(condition) == 3 and condition[0] in ("eq", "starts-with"):
            name = str(condition[1]).lstrip("$").lower()
            covered.add(name)
            actual = values.get(name, "")
            ok = actual == condition[2] if condition[0] == "eq" else actual.startswith(condition[2])
            if not ok:
                raise PolicyViolation("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {name}")
        else:
            raise PolicyViolation("InvalidPolicyDocument", "The policy has an unknown condition.", 400)
    for name in fields:
        if name in _EXEMPT or name.startswith("x-ignore-") or name in covered:
            continue
        raise PolicyViolation("AccessDenied", f"Invalid according to Policy: Extra input fields: {name}")
    return policy
