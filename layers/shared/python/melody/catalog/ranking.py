"""Search documents (keys computed when a song is written) and the re-rank of recalled candidates.

Recall (the repository) returns songs sharing query tokens, token prefixes or fuzzy-close tokens;
this module orders them: exact > prefix > all words > fuzzy, with popularity only as a tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from melody.catalog.keys import is_latin, latin_variants, phonetic_word, to_native

FIELDS = ("title", "artists", "album")
FIELD_WEIGHT = {"title": 1.0, "artists": 0.9, "album": 0.75}


def _phon_strings(texts: list[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        for variant in latin_variants(text):
            key = " ".join(k for k in (phonetic_word(w) for w in variant.split()) if k)
            if key and key not in out:
                out.append(key)
    return out


def build_search_doc(
    title: str, title_latin: str | None, artists: list[str], album: str | None, language: str | None
) -> dict[str, list[str]]:
    """Phonetic renderings per field: what the re-rank compares queries with (stored as JSON)."""
    titles = [title] + ([title_latin] if title_latin else [])
    return {
        "title": _phon_strings(titles),
        "artists": _phon_strings(artists),
        "album": _phon_strings([album] if album else []),
    }


def native_title(title: str, language: str | None) -> str | None:
    """The native-script rendering of a Latin title when its language has an Indian script."""
    return to_native(title, language) if is_latin(title) else None


def index_tokens(doc: dict[str, list[str]]) -> set[tuple[str, str]]:
    """(token, field) pairs to index: every word key, and adjacent pairs joined (hum safar → humsafar)."""
    tokens: set[tuple[str, str]] = set()
    for fname, strings in doc.items():
        for s in strings:
            words = s.split()
            for w in words:
                tokens.add((w[:64], fname))
            for a, b in zip(words, words[1:], strict=False):
                tokens.add(((a + b)[:64], fname))
    return tokens


def trigrams(token: str) -> set[str]:
    padded = f"  {token} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass
class Query:
    raw: str
    words: list[str]
    compact: str = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.text = " ".join(self.words)
        self.compact = "".join(self.words)


def parse_query(raw: str) -> Query:
    words: list[str] = []
    for variant in latin_variants(raw)[:1]:
        words = [k for k in (phonetic_word(w) for w in variant.split()) if k]
    return Query(raw=raw, words=words)


def word_similarity(q: str, w: str, *, allow_prefix: bool) -> float:
    """1 exact, 0.9 prefix (the word being typed), else a normalised edit similarity ≥ 0.7."""
    if q == w:
        return 1.0
    if allow_prefix and w.startswith(q):
        return 0.9 if len(q) >= 2 else 0.6
    if len(q) < 3 or len(w) < 3:
        return 0.0
    sim = Levenshtein.normalized_similarity(q, w)
    if allow_prefix and len(w) > len(q):  # a typo inside the word being typed
        sim = max(sim, Levenshtein.normalized_similarity(q, w[: len(q)]) * 0.85)
    return sim if sim >= 0.7 else 0.0


def _field_score(q: Query, strings: list[str]) -> float:
    best = 0.0
    for s in strings:
        compact = s.replace(" ", "")
        if s == q.text or compact == q.compact:
            return 1.0
        if s.startswith(q.text) or compact.startswith(q.compact):
            best = max(best, 0.85 + 0.05 * len(q.compact) / max(1, len(compact)))
            continue
        words = s.split() + [a + b for a, b in zip(s.split(), s.split()[1:], strict=False)]
        sims = []
        for i, qw in enumerate(q.words):
            last = i == len(q.words) - 1
            sims.append(max((word_similarity(qw, w, allow_prefix=last) for w in words), default=0.0))
        if not sims:
            continue
        coverage = sum(sims) / len(sims)
        exact_words = all(x >= 0.9 for x in sims)
        n_words = max(1, len(s.split()))
        if exact_words:
            best = max(best, 0.65 + 0.15 * min(1.0, len(q.words) / n_words))
        elif coverage >= 0.6:
            best = max(best, 0.6 * coverage * (0.8 + 0.2 * min(1.0, len(q.words) / n_words)))
        # the whole query as one fuzzy string (typos across word boundaries)
        whole = Levenshtein.normalized_similarity(q.compact, compact)
        if whole >= 0.75:
            best = max(best, 0.62 * whole)
    return best


def score(q: Query, doc: dict[str, list[str]], popularity: int) -> tuple[float, list[str]]:
    """A candidate's score and the fields that matched."""
    if not q.words:
        return 0.0, []
    per_field = {f: _field_score(q, doc.get(f, [])) * FIELD_WEIGHT[f] for f in FIELDS}
    best = max(per_field.values())
    matched = [f for f, v in per_field.items() if v >= 0.3 and v >= best * 0.6]
    # a query naming the artist and the title ("arijit tum hi ho"): words spread over fields
    if len(q.words) >= 2:
        words_by_field = {f: [w for s in doc.get(f, []) for w in s.split()] for f in FIELDS}
        sims: list[float] = []
        hit_fields: set[str] = set()
        for i, qw in enumerate(q.words):
            last = i == len(q.words) - 1
            top, top_field = 0.0, None
            for f, words in words_by_field.items():
                for w in words:
                    s = word_similarity(qw, w, allow_prefix=last)
                    if s > top:
                        top, top_field = s, f
            sims.append(top)
            if top_field and top >= 0.7:
                hit_fields.add(top_field)
        cross = sum(sims) / len(sims)
        if len(hit_fields) >= 2 and cross >= 0.8:
            combined = 0.7 * cross + 0.05 * (len(hit_fields) - 1)
            if combined > best:
                best = combined
                matched = sorted(hit_fields, key=FIELDS.index)
    return round(best + popularity / 100 * 0.02, 6), matched
