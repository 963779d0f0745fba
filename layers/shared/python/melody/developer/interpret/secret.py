"""The LLM interpreter's API key from AWS Secrets Manager, read on first use and re-read when stale.

In AWS the key is never in the function's environment: ``nl_llm_api_key_secret_arn`` names a secret
and :class:`LazySecret` reads it the first time a query needs the LLM (not at cold start, and not at
all while only the rule-based parser answers). The value is cached for ``max_age_s`` (5 minutes) and
then re-read, so a rotated key reaches warm execution environments too; if a re-read fails, the old
value keeps serving and the read is tried again after a short back-off, so a Secrets Manager blip
does not turn the LLM off. When the provider rejects the key (401/403), the LLM client calls
:meth:`LazySecret.invalidate` and retries once with a fresh read. The plain ``nl_llm_api_key``
setting stays for local use. The secret holds the key itself, or a JSON object with an ``api_key``
field.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from melody.core.observability import logger

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
    """A secret's value, read through ``reader`` on first use and cached for ``max_age_s`` (thread-safe).

    A value older than ``max_age_s`` is re-read on the next call. If that re-read fails, the cached
    value is still returned (the key is most likely still valid: rotations keep the previous version
    for a while) and the read is tried again after ``retry_after_s`` rather than on every call. With
    no cached value a failed read raises :class:`SecretUnavailable` and is not cached: the next call
    tries again (the caller answers without it meanwhile).
    """

    def __init__(
        self,
        secret_id: str,
        reader: SecretReader,
        *,
        parse: Callable[[str], str] = api_key_from_secret,
        max_age_s: float = 300.0,
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_s < 0 or retry_after_s < 0:
            raise ValueError("max_age_s and retry_after_s must not be negative")
        self._secret_id = secret_id
        self._reader = reader
        self._parse = parse
        self._max_age = max_age_s
        self._retry_after = retry_after_s
        self._clock = clock
        self._value: str | None = None
        self._next_read = 0.0  # the clock time from which the cached value is re-read
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if self._value is not None and now < self._next_read:
                return self._value
            try:
                value = self._parse(self._reader.read(self._secret_id))
            except SecretUnavailable as exc:
                if self._value is None:
                    raise
                # The type only (the reader's underlying error where there is one): never the value.
                cause = exc.__cause__ if exc.__cause__ is not None else exc
                logger.warning("secret re-read failed; keeping the cached value", extra={"error": type(cause).__name__})
                self._next_read = now + self._retry_after
                return self._value
            self._value = value
            self._next_read = now + self._max_age
            return value

    def invalidate(self) -> None:
        """Drop the cached value (the provider rejected it): the next call reads the secret again."""
        with self._lock:
            self._value = None
            self._next_read = 0.0
