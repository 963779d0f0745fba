"""Catalog search: query keys → recall (exact/prefix tokens, then fuzzy vocabulary) → re-rank.

The repository is any object with ``recall`` and ``vocab_fuzzy`` (see the catalog adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from melody.catalog.models import SearchHit, Track
from melody.catalog.ranking import Query, parse_query, score, word_similarity

RECALL_CAP = 150  # candidates per recall for the first pages (the default cost of a search)
# The deepest recall a caller may ask for: the music router's MAX_OFFSET (500) + MAX_LIMIT (50), so every
# page a client can request has its candidates. Only paid when a page needs hits past the first window.
MAX_RECALL_CAP = 550
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
    complete: bool = True  # False: a recall stopped at its cap, so there may be further hits


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
        known: set[str] = candidates[0]["known"]
    else:
        known = repo.known_tokens(q.words)
    return words - known


def search_catalog(
    repo: RecallRepository, raw: str, *, language: str | None, cap: int = RECALL_CAP, need: int | None = None
) -> RankedResult:
    """Every hit for ``raw`` (best first) among the first ``cap`` recalled candidates; the caller slices pages.

    The first ``RECALL_CAP`` candidates (the first window) are recalled and ranked exactly as with the
    default ``cap``. Only when ``cap`` is larger, that window was cut at its cap, and it gave fewer than
    ``need`` hits (``None``: always), a second, deeper recall (``cap`` candidates) runs, and its further
    hits follow the first window's, ranked among themselves. So a page holds the same songs whatever
    ``cap`` or ``need`` served it, and pages past the first window neither repeat nor skip a song.
    """
    q = parse_query(raw)
    if not q.words:
        return RankedResult([], 0)
    window = min(cap, RECALL_CAP)
    hits, fuzzy, complete = _search_window(repo, q, language, window, fuzzy=None)
    if cap > window and not complete and (need is None or len(hits) < need):
        # The same fuzzy decision as the first window (its terms, or none), with the deeper cap.
        deeper, _, complete = _search_window(repo, q, language, cap, fuzzy=fuzzy)
        shown = {h.track.id for h in hits}
        hits = hits + [h for h in deeper if h.track.id not in shown]
    return RankedResult(hits, len(hits), complete)


def _search_window(
    repo: RecallRepository,
    q: Query,
    language: str | None,
    cap: int,
    *,
    fuzzy: list[tuple[int, str, str, float]] | None,
) -> tuple[list[SearchHit], list[tuple[int, str, str, float]], bool]:
    """(hits, the fuzzy terms used, whether no recall was cut at ``cap``) for one recall window.

    ``fuzzy`` None: decide on the fuzzy pass here; a list: use those terms (empty: no fuzzy pass).
    """
    base_terms = exact_and_prefix_terms(q)
    recalled = repo.recall(base_terms, language=language, cap=cap)
    complete = len(recalled) < cap
    candidates = {c["track"].id: c for c in recalled}
    hits = rank(q, list(candidates.values()))
    if fuzzy is None:
        fuzzy = []
        # Fuzzy recall only when a word is unknown to the vocabulary (a typo) or nothing matched well.
        strong = any(h.score >= STRONG for h in hits)
        unknown = _unknown_words(q, recalled, repo) if strong else set()  # not strong: fuzzy anyway
        if strong and unknown == {q.words[-1]} and _prefix_completed(q.words[-1], hits[0], candidates):
            unknown = set()  # the last word is being typed and completes to strong hits
        if unknown or not strong:
            fuzzy = fuzzy_terms(q, repo.vocab_fuzzy(q.words))
    if fuzzy:
        more = repo.recall(fuzzy + base_terms, language=language, cap=cap)
        complete = complete and len(more) < cap
        for c in more:
            candidates.setdefault(c["track"].id, c)
        hits = rank(q, list(candidates.values()))
    return hits, fuzzy, complete


def _prefix_completed(word: str, top: SearchHit, candidates: dict[str, dict[str, Any]]) -> bool:
    """Whether the best hit holds a longer word starting with ``word`` (the word being typed)."""
    doc = candidates[top.track.id]["doc"]
    return any(w.startswith(word) and w != word for strings in doc.values() for s in strings for w in s.split())
