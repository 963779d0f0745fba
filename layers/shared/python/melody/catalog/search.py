"""Catalog search: query keys → recall (exact/prefix tokens, then fuzzy vocabulary) → re-rank.

The repository is any object with ``recall`` and ``vocab_fuzzy`` (see the catalog adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from melody.catalog.models import SearchHit, Track
from melody.catalog.ranking import Query, parse_query, score, word_similarity

RECALL_CAP = 150
STRONG = 0.65  # a re-rank score from exact, prefix or all-words matches
MIN_SCORE = 0.3
_EXACT_HI = "\x01"  # tokens are [a-z0-9]: [w, w\x01) holds exactly w
_PREFIX_HI = "~"  # '~' sorts after every token character in the C collation


class RecallRepository(Protocol):
    def recall(self, terms: list[tuple[int, str, str, float]], *, language: str | None, cap: int) -> list[dict[str, Any]]: ...

    def vocab_fuzzy(self, words: list[str], *, per_word: int = 40) -> dict[int, list[str]]: ...

    def known_tokens(self, tokens: list[str]) -> set[str]: ...


@dataclass
class RankedResult:
    hits: list[SearchHit]
    total: int


def exact_and_prefix_terms(q: Query) -> list[tuple[int, str, str, float]]:
    terms: list[tuple[int, str, str, float]] = []
    last = len(q.words) - 1
    for i, w in enumerate(q.words):
        terms.append((i, w, w + _EXACT_HI, 1.0))
        if i == last or len(w) >= 4:
            terms.append((i, w + "0", w + _PREFIX_HI, 0.8))  # longer tokens starting with w
    if len(q.words) >= 2:
        n = len(q.words)
        terms.append((n, q.compact, q.compact + _PREFIX_HI, 1.0))  # "hum safar" ↔ "humsafar"
    return terms


def fuzzy_terms(q: Query, vocab: dict[int, list[str]]) -> list[tuple[int, str, str, float]]:
    terms = []
    last = len(q.words) - 1
    for i, tokens in vocab.items():
        w = q.words[i]
        for token in tokens:
            sim = word_similarity(w, token, allow_prefix=i == last)
            if sim >= 0.7 and token != w:
                terms.append((i, token, token + _EXACT_HI, round(sim * 0.9, 4)))
    return terms


def rank(q: Query, candidates: list[dict[str, Any]]) -> list[SearchHit]:
    hits = []
    if candidates:
        # Candidates covering clearly fewer query words than the best cannot outrank it: skip them.
        best_cover = max(c.get("cover", 0.0) for c in candidates)
        candidates = [c for c in candidates if c.get("cover", 0.0) >= best_cover - 1.0]
    for c in candidates:
        track: Track = c["track"]
        s, matched = score(q, c["doc"], track.popularity)
        if s >= MIN_SCORE and matched:
            hits.append(SearchHit(track=track, score=s, matched=matched))
    hits.sort(key=lambda h: (-h.score, -h.track.popularity, h.track.id))
    return hits


def _unknown_words(q: Query, candidates: list[dict[str, Any]], repo: RecallRepository) -> set[str]:
    """Query words (3+ letters) that are not vocabulary tokens: typos, or the word being typed.

    The recall rows carry the known tokens (``known``), so this costs no extra round trip; a
    repository whose rows lack them is asked with ``known_tokens``. The last word also counts as
    known when its prefix expansion recalled a candidate that the re-rank scores as a prefix match
    (someone typing "khwa" wants "khwab", not a fuzzy correction of "khwa").
    """
    words = {w for w in q.words if len(w) >= 3}
    if not words:
        return set()
    if candidates and "known" in candidates[0]:
        known = candidates[0]["known"]
    else:
        known = repo.known_tokens(q.words)
    return words - known


def search_catalog(repo: RecallRepository, raw: str, *, language: str | None) -> RankedResult:
    """Every hit for ``raw`` (best first); the caller slices pages."""
    q = parse_query(raw)
    if not q.words:
        return RankedResult([], 0)
    base_terms = exact_and_prefix_terms(q)
    recalled = repo.recall(base_terms, language=language, cap=RECALL_CAP)
    candidates = {c["track"].id: c for c in recalled}
    hits = rank(q, list(candidates.values()))
    # Fuzzy recall only when a word is unknown to the vocabulary (a typo) or nothing matched well.
    strong = any(h.score >= STRONG for h in hits)
    unknown = _unknown_words(q, recalled, repo) if strong else set()  # not strong: fuzzy anyway
    if strong and unknown == {q.words[-1]} and _prefix_completed(q.words[-1], hits[0], candidates):
        unknown = set()  # the last word is being typed and completes to strong hits
    if unknown or not strong:
        terms = fuzzy_terms(q, repo.vocab_fuzzy(q.words))
        if terms:
            for c in repo.recall(terms + base_terms, language=language, cap=RECALL_CAP):
                candidates.setdefault(c["track"].id, c)
            hits = rank(q, list(candidates.values()))
    return RankedResult(hits, len(hits))


def _prefix_completed(word: str, top: SearchHit, candidates: dict[str, dict[str, Any]]) -> bool:
    """Whether the best hit holds a longer word starting with ``word`` (the word being typed)."""
    doc = candidates[top.track.id]["doc"]
    return any(w.startswith(word) and w != word for strings in doc.values() for s in strings for w in s.split())
