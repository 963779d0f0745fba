"""API keys: ``mk_live_<secret>``, shown once; only an HMAC-SHA256 under a server pepper is stored.

A key is looked up by its HMAC, so the table never holds anything a caller could present, and a
leaked table without the pepper (Secrets Manager in AWS) does not let anyone test guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = [
    "KEY_PREFIX",
    "KEY_SHAPE",
    "display_prefix",
    "hash_key",
    "is_key_id",
    "looks_like_key",
    "new_key",
    "new_key_id",
    "parse_authorization",
]

KEY_PREFIX = "mk_live_"
# 32 random bytes, base64url without padding: 43 characters.
KEY_SHAPE = re.compile(r"^mk_live_[A-Za-z0-9_-]{43}$")
KEY_ID = re.compile(r"^key_[a-f0-9]{16}$")
# What the key list shows: enough to tell keys apart, far too little to guess the rest.
_SHOWN = len(KEY_PREFIX) + 6


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def hash_key(pepper: bytes, key: str) -> str:
    """The stored form of ``key``: hex HMAC-SHA256 under the server's pepper."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """``mk_live_AbC123…``: the part of a key its owner sees in the list."""
    return key[:_SHOWN] + "…"


def parse_authorization(value: str | None) -> str | None:
    """The key in ``Authorization: ApiKey <key>`` (any case of the scheme), else None."""
    if not value:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() != "apikey":
        return None
    return credentials.strip() or None


def looks_like_key(value: str) -> bool:
    """Whether ``value`` has a key's shape (cheap refusal before any table read)."""
    return bool(KEY_SHAPE.match(value))


def is_key_id(value: str) -> bool:
    return bool(KEY_ID.match(value))
