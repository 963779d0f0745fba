"""The LLM interpreter's API key from AWS Secrets Manager, read once on first use.

In AWS the key is never in the function's environment: ``nl_llm_api_key_secret_arn`` names a secret
and :class:`LazySecret` reads it the first time a query needs the LLM (not at cold start, and not at
all while only the rule-based parser answers), then keeps it for the life of the process. A rotated
key is picked up by new execution environments. The plain ``nl_llm_api_key`` setting stays for
local use. The secret holds the key itself, or a JSON object with an ``api_key`` field.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["LazySecret", "SecretReader", "SecretUnavailable", "SecretsManagerReader", "api_key_from_secret"]


class SecretUnavailable(Exception):
    """The secret could not be read (missing, not allowed, or the service failed)."""


class SecretReader(Protocol):
    def read(self, secret_id: str) -> str:
        """The secret's current string value; raises :class:`SecretUnavailable`."""
        ...


class SecretsManagerReader:
    """``GetSecretValue`` through a boto3 client built on first use (the SDK loads only when needed)."""

    def __init__(self, region: str | None = None, *, client_factory: Callable[[], Any] | None = None) -> None:
        self._region = region
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                if self._factory is not None:
                    self._client = self._factory()
                else:
                    import boto3

                    self._client = boto3.client("secretsmanager", region_name=self._region)
            return self._client

    def read(self, secret_id: str) -> str:
        try:
            answer = self._get_client().get_secret_value(SecretId=secret_id)
        except Exception as exc:  # botocore's errors: the caller falls back, whatever the reason
            raise SecretUnavailable(type(exc).__name__) from exc
        value = answer.get("SecretString")
        if not isinstance(value, str) or not value:
            raise SecretUnavailable("the secret has no string value")
        return value


def api_key_from_secret(value: str) -> str:
    """The key from a secret's value: the value itself, or the ``api_key`` of a JSON object."""
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        key = data.get("api_key") if isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            raise SecretUnavailable("the secret's JSON has no api_key")
        return key
    return text


class LazySecret:
    """A secret's value, read through ``reader`` on the first call and cached (thread-safe).

    A failed read is not cached: the next call tries again (the caller answers without it meanwhile).
    """

    def __init__(self, secret_id: str, reader: SecretReader, *, parse: Callable[[str], str] = api_key_from_secret) -> None:
        self._secret_id = secret_id
        self._reader = reader
        self._parse = parse
        self._value: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._value is None:
                self._value = self._parse(self._reader.read(self._secret_id))
            return self._value
