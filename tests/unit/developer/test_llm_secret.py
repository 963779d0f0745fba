"""The LLM interpreter's key from Secrets Manager (issue 11): read once, on first use, through a fake
reader or a fake boto3 client (no network); a failed read falls back to the rules and is retried."""

from __future__ import annotations

import json
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
