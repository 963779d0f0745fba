"""The LLM interpreter's key from Secrets Manager (issue 11): read on first use through a fake reader or
a fake boto3 client (no network); a failed read falls back to the rules and is retried. The value is
re-read once older than its max age (a fake clock), a failed re-read keeps the old value, and a key
the provider rejects (401/403) is re-read and the request retried once."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from melody.developer.interpret.llm import LlmInterpreter
from melody.developer.interpret.rules import RulesInterpreter
from melody.developer.interpret.secret import (
    LazySecret,
    SecretsManagerReader,
    SecretUnavailable,
    api_key_from_secret,
)
from tests.unit.developer.test_llm_interpreter import ANSWER, completion

ARN = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody/nl-llm-AbCdEf"


class FakeReader:
    def __init__(self, *values: str | Exception) -> None:
        self.values = list(values)
        self.reads: list[str] = []

    def read(self, secret_id: str) -> str:
        self.reads.append(secret_id)
        value = self.values.pop(0) if len(self.values) > 1 else self.values[0]
        if isinstance(value, Exception):
            raise value
        return value


def interpreter(api_key: Any) -> tuple[LlmInterpreter, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion(ANSWER))

    client = httpx.Client(transport=httpx.MockTransport(respond))
    return LlmInterpreter(client, base_url="https://llm.example/v1", api_key=api_key, model="m",
                          fallback=RulesInterpreter()), seen  # fmt: skip


def test_the_key_is_read_once_on_first_use_and_sent_as_the_bearer():
    reader = FakeReader("sk-from-secret")
    secret = LazySecret(ARN, reader)
    llm, seen = interpreter(secret)
    assert reader.reads == []  # nothing read until a query needs the LLM
    llm.interpret("punjabi songs around 120 bpm")
    llm.interpret("chill songs in A minor")
    assert reader.reads == [ARN]
    assert [r.headers["authorization"] for r in seen] == ["Bearer sk-from-secret"] * 2


def test_a_failed_read_falls_back_to_the_rules_and_is_tried_again():
    reader = FakeReader(SecretUnavailable("AccessDeniedException"), "sk-later")
    llm, seen = interpreter(LazySecret(ARN, reader))
    first = llm.interpret("songs around 120 bpm")
    assert first.interpreter == "rules" and seen == []  # never called without its key
    assert llm.interpret("songs around 128 bpm").interpreter == "llm"
    assert reader.reads == [ARN, ARN] and seen[0].headers["authorization"] == "Bearer sk-later"


def test_the_secret_holds_the_key_or_a_json_object_with_it():
    assert api_key_from_secret(" sk-plain\n") == "sk-plain"
    assert api_key_from_secret(json.dumps({"api_key": "sk-json", "note": "x"})) == "sk-json"
    with pytest.raises(SecretUnavailable):
        api_key_from_secret(json.dumps({"other": 1}))


class FakeSecretsClient:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_secrets_manager_reader_builds_its_client_lazily_once():
    built: list[FakeSecretsClient] = []

    def factory() -> FakeSecretsClient:
        built.append(FakeSecretsClient({"SecretString": "sk-1", "ARN": ARN}))
        return built[-1]

    reader = SecretsManagerReader(client_factory=factory)
    assert built == []
    assert reader.read(ARN) == "sk-1" and reader.read(ARN) == "sk-1"
    assert len(built) == 1 and built[0].calls == [{"SecretId": ARN}] * 2


@pytest.mark.parametrize("answer", [RuntimeError("ResourceNotFoundException"), {"SecretBinary": b"x"}])
def test_the_reader_reports_a_missing_or_binary_secret_as_unavailable(answer):
    reader = SecretsManagerReader(client_factory=lambda: FakeSecretsClient(answer))
    with pytest.raises(SecretUnavailable):
        reader.read(ARN)


def test_services_use_the_secret_when_its_arn_is_set(monkeypatch):
    """``nl_llm_api_key_secret_arn`` wins over the plain key and is not read when the finder is built."""
    from melody.core.services import Services
    from melody.core.settings import DeveloperApiSettings

    reads: list[str] = []
    monkeypatch.setattr(SecretsManagerReader, "read", lambda self, secret_id: reads.append(secret_id) or "sk-x")
    settings = DeveloperApiSettings(nl_llm_base_url="https://llm.example/v1", nl_llm_api_key="sk-plain",
                                    nl_llm_api_key_secret_arn=ARN)  # fmt: skip
    services = Services(settings)
    services.__dict__["executor"] = object()  # no catalog database here: the interpreter is what is checked
    llm = services.track_finder.interpreter
    assert isinstance(llm, LlmInterpreter) and isinstance(llm._api_key, LazySecret)
    assert reads == [] and llm._headers() == {"authorization": "Bearer sk-x"} and reads == [ARN]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_value_is_cached_within_its_max_age_and_re_read_after():
    reader, clock = FakeReader("sk-1", "sk-2"), Clock()
    secret = LazySecret(ARN, reader, max_age_s=300, clock=clock)
    assert secret() == "sk-1"
    clock.now = 299.9
    assert secret() == "sk-1" and reader.reads == [ARN]
    clock.now = 300.0
    assert secret() == "sk-2" and reader.reads == [ARN, ARN]  # the rotated key reaches a warm process
    clock.now = 599.9
    assert secret() == "sk-2" and len(reader.reads) == 2  # the new value has its own max age


def test_a_failed_re_read_keeps_the_old_value_and_backs_off(caplog):
    blip = SecretUnavailable("ThrottlingException")
    blip.__cause__ = TimeoutError("read timed out")
    reader, clock = FakeReader("sk-old-0123", blip, blip, "sk-new-4567"), Clock()
    secret = LazySecret(ARN, reader, max_age_s=300, retry_after_s=30, clock=clock)
    caplog.set_level(logging.WARNING)
    assert secret() == "sk-old-0123"
    clock.now = 300.0
    assert secret() == "sk-old-0123" and len(reader.reads) == 2  # Secrets Manager's blip does not stop the LLM
    clock.now = 329.9
    assert secret() == "sk-old-0123" and len(reader.reads) == 2  # backing off: no read on every call
    clock.now = 330.0
    assert secret() == "sk-old-0123" and len(reader.reads) == 3
    clock.now = 360.0
    assert secret() == "sk-new-4567" and len(reader.reads) == 4
    clock.now = 659.9
    assert secret() == "sk-new-4567" and len(reader.reads) == 4  # a good read restores the full max age
    warnings = [r for r in caplog.records if r.getMessage().startswith("secret re-read failed")]
    assert [r.__dict__.get("error") for r in warnings] == ["TimeoutError", "TimeoutError"]
    assert_no_key_logged(caplog, "sk-old-0123", "sk-new-4567")


def test_invalidate_drops_the_value_and_the_next_call_re_reads():
    reader, clock = FakeReader("sk-1", "sk-2"), Clock()
    secret = LazySecret(ARN, reader, clock=clock)
    assert secret() == "sk-1"
    secret.invalidate()
    assert reader.reads == [ARN]  # invalidating reads nothing by itself
    assert secret() == "sk-2" and secret() == "sk-2" and reader.reads == [ARN, ARN]


def test_a_failed_read_after_invalidate_does_not_serve_the_rejected_key():
    reader = FakeReader("sk-rejected", SecretUnavailable("AccessDeniedException"))
    secret = LazySecret(ARN, reader, clock=Clock())
    secret()
    secret.invalidate()
    with pytest.raises(SecretUnavailable):
        secret()


def test_a_negative_max_age_is_refused():
    with pytest.raises(ValueError):
        LazySecret(ARN, FakeReader("sk"), max_age_s=-1)


def assert_no_key_logged(caplog: pytest.LogCaptureFixture, *keys: str) -> None:
    assert caplog.records, "nothing was captured: the check below would prove nothing"
    logged = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    for key in keys:
        assert key not in logged


def rotating_provider(accepts: str) -> tuple[httpx.Client, list[str]]:
    """A provider that takes only ``accepts`` and, like OpenAI, names the key it refuses in its 401 body."""
    sent: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") == f"Bearer {accepts}":
            return httpx.Response(200, json=completion(ANSWER))
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}})

    return httpx.Client(transport=httpx.MockTransport(respond)), sent


def test_a_rejected_key_is_re_read_and_the_request_retried_once_with_the_new_one(caplog):
    reader = FakeReader("sk-old-0123", "sk-new-4567")  # rotated after the first read, within its max age
    client, sent = rotating_provider(accepts="sk-new-4567")
    llm = LlmInterpreter(client, base_url="https://llm.example/v1", api_key=LazySecret(ARN, reader, clock=Clock()),
                         model="m", fallback=RulesInterpreter())  # fmt: skip
    caplog.set_level(logging.INFO)
    assert llm.interpret("punjabi songs around 120 bpm").interpreter == "llm"
    assert sent == ["Bearer sk-old-0123", "Bearer sk-new-4567"] and reader.reads == [ARN, ARN]
    assert llm.interpret("chill songs in A minor").interpreter == "llm"
    assert sent[2:] == ["Bearer sk-new-4567"] and len(reader.reads) == 2  # the new key is kept
    assert_no_key_logged(caplog, "sk-old-0123", "sk-new-4567")


@pytest.mark.parametrize("status", [401, 403])
def test_a_key_rejected_twice_falls_back_after_exactly_two_calls(caplog, status):
    reader = FakeReader("sk-old-0123", "sk-still-bad-89")
    sent: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return httpx.Response(status, json={"error": {"message": f"Bad key {request.headers['authorization']}"}})

    llm = LlmInterpreter(httpx.Client(transport=httpx.MockTransport(respond)), base_url="https://llm.example/v1",
                         api_key=LazySecret(ARN, reader, clock=Clock()), model="m", fallback=RulesInterpreter())  # fmt: skip
    caplog.set_level(logging.INFO)
    got = llm.interpret("dard bhare gaane")
    assert got.interpreter == "rules" and got.interpretation.mood == "sad"
    assert sent == ["Bearer sk-old-0123", "Bearer sk-still-bad-89"] and len(reader.reads) == 2  # no loop
    assert any(r.__dict__.get("error") == "HTTPStatusError" for r in caplog.records)
    assert_no_key_logged(caplog, "sk-old-0123", "sk-still-bad-89")
    with pytest.raises(httpx.HTTPStatusError) as failure:  # what the fallback catches does not carry the key either
        llm._ask("dard bhare gaane")
    assert "sk-" not in str(failure.value)


def test_a_failed_re_read_after_a_rejection_falls_back_without_a_second_call():
    reader = FakeReader("sk-old-0123", SecretUnavailable("AccessDeniedException"), "sk-new-4567")
    client, sent = rotating_provider(accepts="sk-new-4567")
    llm = LlmInterpreter(client, base_url="https://llm.example/v1", api_key=LazySecret(ARN, reader, clock=Clock()),
                         model="m", fallback=RulesInterpreter())  # fmt: skip
    assert llm.interpret("songs around 120 bpm").interpreter == "rules"
    assert sent == ["Bearer sk-old-0123"]  # never sent without a key, nor with the rejected one again
    assert llm.interpret("songs around 128 bpm").interpreter == "llm"  # the next query reads it again
    assert sent[1:] == ["Bearer sk-new-4567"] and len(reader.reads) == 3
