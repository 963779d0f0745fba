"""The optional LLM interpreter over httpx (OpenAI-compatible chat completions), with a mock transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from melody.developer.interpret.llm import SYSTEM_PROMPT, LlmInterpreter
from melody.developer.interpret.rules import RulesInterpreter


def completion(content: str) -> dict[str, Any]:
    """The shape of an OpenAI ``/v1/chat/completions`` response (as recorded from the API)."""
    return {
        "id": "chatcmpl-9xYz", "object": "chat.completion", "created": 1733450000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 212, "completion_tokens": 41, "total_tokens": 253},
        "system_fingerprint": "fp_0ba0d124f1",
    }


class Recorder:
    def __init__(self, respond: Any) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result = self.respond(request)
        if isinstance(result, Exception):
            raise result
        assert isinstance(result, httpx.Response)
        return result


def make(respond: Any, **kwargs: Any) -> tuple[LlmInterpreter, Recorder]:
    recorder = Recorder(respond)
    client = httpx.Client(transport=httpx.MockTransport(recorder))
    llm = LlmInterpreter(client, base_url="https://llm.example/v1/", api_key="sk-test", model="m-1",
                         fallback=RulesInterpreter(), **kwargs)
    return llm, recorder


ANSWER = json.dumps({"language": "pa", "bpm": {"min": 114, "max": 126}, "key": "a minor", "energy": {"min": 0.6, "max": 1},
                     "mood": "Happy", "artists": "Diljit Dosanjh", "confidence": 0.93, "unknown": "ignored"})


def test_asks_the_endpoint_and_validates_the_answer() -> None:
    llm, rec = make(lambda r: httpx.Response(200, json=completion(ANSWER)))
    got = llm.interpret("upbeat punjabi diljit songs around 120 in A minor")
    assert got.interpreter == "llm" and got.confidence == 0.93
    it = got.interpretation
    assert (it.language, it.key, it.camelot, it.mood, it.artists) == ("pa", "A minor", "8A", "happy", ["Diljit Dosanjh"])
    assert it.bpm is not None and (it.bpm.min, it.bpm.max) == (114, 126)
    request = rec.requests[0]
    assert str(request.url) == "https://llm.example/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "m-1" and body["temperature"] == 0
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert body["messages"][1] == {"role": "user", "content": "upbeat punjabi diljit songs around 120 in A minor"}


def test_answers_are_cached_by_normalised_text() -> None:
    llm, rec = make(lambda r: httpx.Response(200, json=completion('{"mood": "sad"}')))
    assert llm.interpret("Dard bhare  gaane").interpretation.mood == "sad"
    assert llm.interpret("dard bhare gaane").interpretation.mood == "sad"
    assert len(rec.requests) == 1


def test_the_cache_expires() -> None:
    now = [0.0]
    llm, rec = make(lambda r: httpx.Response(200, json=completion('{"mood": "sad"}')), cache_ttl_s=10, clock=lambda: now[0])
    llm.interpret("sad songs")
    now[0] = 11.0
    llm.interpret("sad songs")
    assert len(rec.requests) == 2


@pytest.mark.parametrize(
    "respond",
    [
        lambda r: httpx.ReadTimeout("timed out", request=r),
        lambda r: httpx.ConnectError("refused", request=r),
        lambda r: httpx.Response(500, json={"error": {"message": "server error"}}),
        lambda r: httpx.Response(429, json={"error": {"message": "Rate limit reached"}}),
        lambda r: httpx.Response(401, json={"error": {"message": "Incorrect API key provided"}}),
        lambda r: httpx.Response(403, json={"error": {"message": "Forbidden"}}),
        lambda r: httpx.Response(200, json=completion("Sure! Here are some songs")),
        lambda r: httpx.Response(200, json=completion('["not", "an", "object"]')),
        lambda r: httpx.Response(200, json=completion('{"energy": {"min": 3, "max": 9}}')),
        lambda r: httpx.Response(200, json={"choices": []}),
        lambda r: httpx.Response(200, text="<html>gateway</html>"),
    ],
    ids=["timeout", "connect", "500", "429", "401", "403", "prose", "array", "invalid", "no-choices", "html"],
)
def test_any_failure_returns_the_rules_reading(respond: Any) -> None:
    llm, rec = make(respond)
    got = llm.interpret("dard bhare gaane")
    assert got.interpreter == "rules"
    assert got.interpretation.mood == "sad" and got.confidence == 1.0
    llm.interpret("dard bhare gaane")
    assert len(rec.requests) == 2  # failures are not cached; a fixed key rejected (401/403) is not retried


def test_a_bad_key_from_the_model_is_dropped_not_fatal() -> None:
    llm, _ = make(lambda r: httpx.Response(200, json=completion('{"key": "H dorian", "camelot": "9a", "genre": "EDM"}')))
    it = llm.interpret("edm in 9a").interpretation
    assert (it.key, it.camelot, it.genre) == ("E minor", "9A", "edm")


def test_empty_ranges_from_the_model_are_dropped() -> None:
    llm, _ = make(lambda r: httpx.Response(200, json=completion('{"bpm": {"min": null, "max": null}, "mood": "sad"}')))
    it = llm.interpret("sad songs").interpretation
    assert it.bpm is None and it.fields() == ["mood"]


def test_the_timeout_is_passed_to_the_request() -> None:
    seen: dict[str, Any] = {}

    def respond(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return httpx.Response(200, json=completion("{}"))

    llm, _ = make(respond, timeout_s=1.5)
    llm.interpret("anything")
    assert seen["read"] == 1.5
