"""An optional interpreter backed by any OpenAI-compatible chat-completions endpoint.

The model is asked for one JSON object with the interpretation's fields; its answer is validated with
pydantic (keys and Camelot codes normalised, anything else invalid dropped to the rule-based
reading). Answers are cached in-process by normalised text. A 401/403 from the provider drops a
refreshable key (a :class:`~melody.developer.interpret.secret.LazySecret`) and retries once with a
fresh read, so a rotated key is picked up at once. Any failure — timeout, HTTP error, a
non-JSON or invalid answer — returns the rule-based interpretation instead, so the LLM can only
add to the rules, never take the endpoint down.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from melody.core.observability import logger
from melody.developer.harmonic import camelot_of, key_of, normalize_camelot, normalize_key
from melody.developer.interpret.rules import Interpreted
from melody.developer.interpret.secret import SecretUnavailable
from melody.developer.search_schemas import Interpretation

if TYPE_CHECKING:
    from collections.abc import Callable

    from melody.developer.interpret.rules import RulesInterpreter

__all__ = ["LlmInterpreter", "SYSTEM_PROMPT"]

# The provider refused the key (revoked or rotated): worth one retry with a freshly read key.
_KEY_REJECTED = frozenset({401, 403})

SYSTEM_PROMPT = (
    "You turn a music search request (English, Hindi/Hinglish or any Indian language, any script) into "
    "one JSON object with only these optional keys: language (ISO 639-1 code of the songs' language), "
    'bpm ({"min": int|null, "max": int|null}; "around N" means N±5%), key (e.g. "A minor", "F# major"), '
    'camelot (e.g. "8A"), energy ({"min": 0-1, "max": 0-1}), mood (one word: sad, romantic, happy, chill, '
    "party, workout, wedding, devotional, patriotic, motivational), era (\"1990s\", \"classic\" for before "
    '2000, "recent" for 2020 on), artists (list of names), similar_to (a song title the user names), '
    "genre (one lowercase word or phrase), confidence (0-1). Leave out what the request does not say. "
    "Answer with the JSON object only."
)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    interpretation: Interpretation
    confidence: float = Field(default=0.8, ge=0, le=1)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise what the model wrote: key and Camelot spellings (both set from either), blanks dropped."""
    out = {k: v for k, v in data.items() if v not in (None, "", [], {})}
    for name in ("bpm", "energy"):
        if isinstance(out.get(name), dict) and all(v is None for v in out[name].values()):
            del out[name]  # {"min": null, "max": null} says nothing
    key = normalize_key(str(out["key"])) if "key" in out else None
    camelot = normalize_camelot(str(out["camelot"])) if "camelot" in out else None
    out.pop("key", None), out.pop("camelot", None)
    if key or camelot:
        out["key"] = key or key_of(camelot or "")
        out["camelot"] = camelot or camelot_of(key or "")
    if isinstance(out.get("artists"), str):
        out["artists"] = [out["artists"]]
    for name in ("mood", "genre", "similar_to", "language"):
        if isinstance(out.get(name), str):
            out[name] = out[name].strip().lower()
    return out


class LlmInterpreter:
    name = "llm"

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        api_key: str | Callable[[], str | None] | None,
        model: str,
        fallback: RulesInterpreter,
        timeout_s: float = 2.0,
        cache_size: int = 1024,
        cache_ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/chat/completions"
        # A value, or a callable read on each request (Secrets Manager in AWS: LazySecret, which caches it
        # and has invalidate() for when the provider rejects it).
        self._api_key = api_key
        self._model = model
        self._fallback = fallback
        self._timeout = timeout_s
        self._cache: OrderedDict[str, tuple[float, Interpreted]] = OrderedDict()
        self._cache_size = cache_size
        self._ttl = cache_ttl_s
        self._clock = clock
        self._lock = threading.Lock()

    def interpret(self, text: str) -> Interpreted:
        cache_key = " ".join(text.lower().split())
        now = self._clock()
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(cache_key)
                return hit[1]
        try:
            result = self._ask(text)
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError, ValidationError, SecretUnavailable) as exc:
            # The reason only (never the request's headers): the rule-based reading answers instead.
            logger.warning("llm interpreter failed; using rules", extra={"error": type(exc).__name__})
            return self._fallback.interpret(text)
        with self._lock:
            self._cache[cache_key] = (now + self._ttl, result)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _headers(self) -> dict[str, str]:
        key = self._api_key() if callable(self._api_key) else self._api_key
        return {"authorization": f"Bearer {key}"} if key else {}

    def _refresh_key(self) -> bool:
        """Drop a cached key so the next request reads it again; False for a fixed key (no point retrying)."""
        invalidate = getattr(self._api_key, "invalidate", None)
        if not callable(invalidate):
            return False
        invalidate()
        return True

    def _post(self, text: str) -> httpx.Response:
        return self._client.post(
            self._url,
            headers=self._headers(),
            json={
                "model": self._model,
                "temperature": 0,
                "response_format": {"type": "json_object"},
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}],
            },
            timeout=self._timeout,
        )

    def _ask(self, text: str) -> Interpreted:
        response = self._post(text)
        if response.status_code in _KEY_REJECTED and self._refresh_key():
            # The key may have been rotated since it was read: one retry with a fresh read, never more
            # (a second rejection raises below and the rules answer). Only the status is logged.
            logger.info("llm key rejected; re-reading it and retrying once", extra={"status": response.status_code})
            response = self._post(text)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        data = json.loads(content)
        if not isinstance(data, dict):
            raise ValueError("the model's answer is not a JSON object")
        confidence = data.pop("confidence", 0.8)
        answer = _Answer.model_validate({"interpretation": _clean(data), "confidence": confidence})
        if not answer.interpretation.fields():
            raise ValueError("the model found nothing in the query")  # the rules may still find something
        return Interpreted(answer.interpretation, round(answer.confidence, 3), interpreter="llm")
