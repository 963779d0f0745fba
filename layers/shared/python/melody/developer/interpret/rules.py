"""The rule-based interpreter: tokenize, then a few small rules in a fixed order.

1. structured rules over the tokens: tempo (numbers with their comparators and units), numeric
   energy, Camelot codes, keys, decades;
2. phrases, longest first: known artists, then the lexicon (languages, moods, genres, energy, eras);
3. captures over the words still unexplained: ``like X`` / ``similar to X`` / ``X jaise``, ``by X``;
4. fillers ("songs", "gaane", "play").

Every word is matched on its lowercase text and on its phonetic key (``melody.catalog.keys``), so
spelling variants and other scripts meet the same lexicon entry. The confidence is the share of the
query's tokens some rule explained. Offline, no I/O; well under a millisecond for a typical query.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from melody.catalog.keys import phonetic_word, to_latin
from melody.developer.harmonic import camelot_of, key_of, normalize_camelot, normalize_key
from melody.developer.interpret.lexicon import ARTISTS, FILLERS, LANGUAGES, PHRASES
from melody.developer.search_schemas import FloatRange, Interpretation, IntRange

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Interpreted", "RulesInterpreter", "around", "tokenize"]

AROUND = 0.05  # "around 120 bpm" → 114–126 (see the lexicon's conventions)
BPM_LOW, BPM_HIGH = 30.0, 250.0
MAX_PHRASE = 5

_STRIP = ".,!?;:()[]{}\"“”‘’«»|/\\"
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(bpm|\+)?$")
_NUMBER_RANGE = re.compile(r"^(\d+)[-–](\d+)(bpm)?$")
_DECADE = re.compile(r"^'?(\d{2}|\d{3}0)'?s$")
_NOTE = re.compile(r"^[a-g][#b♯♭]?$")
_COMPACT_MINOR = re.compile(r"^[a-g][#b♯♭]?m$")
_MODES = {"major": "major", "maj": "major", "minor": "minor", "min": "minor"}
_AROUND_WORDS = {"around", "about", "approx", "approximately", "roughly", "near", "~", "lagbhag", "at", "nearly"}
_MIN_WORDS = {"above", "over", "min", "minimum", "atleast"}
_MAX_WORDS = {"under", "below", "upto", "max", "maximum", "within"}
_MIN_PAIRS = {("more", "than"), ("faster", "than"), ("at", "least"), ("greater", "than"), ("higher", "than")}
_MAX_PAIRS = {("less", "than"), ("slower", "than"), ("at", "most"), ("lower", "than"), ("up", "to")}
_RANGE_JOIN = {"to", "-", "–", "and", "se"}
_CAPTURE_STOP = {"but", "with", "and", "aur", "lekin"}
_LIKE = {"like", "similar", "resembling"}
_JAISE = {phonetic_word("jaise"), phonetic_word("jaisa"), phonetic_word("jaisi")}


def around(value: float) -> tuple[int, int]:
    """The tempo range of "around ``value`` bpm": ±5 %, widened to whole BPM."""
    return math.floor(value * (1 - AROUND)), math.ceil(value * (1 + AROUND))


def _phonetic(word: str) -> str | None:
    """The lexicon key of a word: its phonetic key (other scripts through their Latin reading);
    None for short Latin words and symbols (they match on their exact text only)."""
    if word.isascii():
        return phonetic_word(word) if word.isalpha() and len(word) >= 4 else None
    latin = to_latin(word)
    return phonetic_word(latin) if latin and latin.isascii() and latin.isalpha() else None


@dataclass
class Token:
    text: str  # lowercase
    raw: str  # as typed (case matters for a bare key: "in C")
    key: str | None  # phonetic key
    used: bool = False


def tokenize(text: str) -> list[Token]:
    """Split on white space, strip punctuation, and split the few glued forms people type
    ("120bpm", "120-130", "140+"); keep "90s", "8a", "f#m", "k-pop", "r&b" whole."""
    out: list[Token] = []

    def add(raw: str) -> None:
        low = raw.lower()
        out.append(Token(low, raw, _phonetic(low)))

    for chunk in unicodedata.normalize("NFC", text).split():
        raw = chunk.strip(_STRIP).replace("’", "'")
        if not raw:
            continue
        low = raw.lower()
        if m := _NUMBER_RANGE.match(low):
            for part in (m.group(1), "to", m.group(2)):
                add(part)
            if m.group(3):
                add("bpm")
        elif m := _NUMBER.match(low):
            add(m.group(1))
            if m.group(2):
                add(m.group(2))
        else:
            add(raw[:-2] + "s" if low.endswith("'s") and low[:-2].isdigit() else raw)
    return out


def _index(table: Mapping[str, Any]) -> tuple[dict[tuple[str, ...], Any], dict[tuple[str, ...], Any]]:
    exact: dict[tuple[str, ...], Any] = {}
    phonetic: dict[tuple[str, ...], Any] = {}
    for phrase, value in table.items():
        words = tuple(phrase.lower().split())
        exact[words] = value
        keys = tuple(_phonetic(w) for w in words)
        if all(keys):
            phonetic.setdefault(keys, value)  # type: ignore[arg-type]
    return exact, phonetic


_PHRASE_TABLE: dict[str, dict[str, Any]] = {**{w: {"language": c} for w, c in LANGUAGES.items()}, **PHRASES}
_PHRASES = _index(_PHRASE_TABLE)
_FILLER_EXACT = frozenset(FILLERS)
_FILLER_KEYS = frozenset(k for w in FILLERS if (k := _phonetic(w)))


def _is_filler(t: Token) -> bool:
    return t.text in _FILLER_EXACT or (t.key is not None and t.key in _FILLER_KEYS)


def _number(t: Token | None) -> float | None:
    if t is None:
        return None
    try:
        return float(t.text)
    except ValueError:
        return None


@dataclass
class _State:
    """The interpretation being built; first word wins for single-valued fields, except that a
    strong genre/era replaces a weak one and energy ranges intersect."""

    values: dict[str, Any] = field(default_factory=dict)
    weak: set[str] = field(default_factory=set)
    default_language: str | None = None

    def put(self, name: str, value: Any, *, weak: bool = False) -> None:
        if name == "energy" and "energy" in self.values:
            lo, hi = max(self.values["energy"][0], value[0]), min(self.values["energy"][1], value[1])
            if lo <= hi:
                self.values["energy"] = (lo, hi)
            return
        if name not in self.values or (name in self.weak and not weak):
            self.values[name] = value
            self.weak.discard(name)
            if weak:
                self.weak.add(name)

    def apply(self, effect: Mapping[str, Any]) -> None:
        for name, value in effect.items():
            if name == "weak_genre":
                self.put("genre", value, weak=True)
            elif name == "weak_era":
                self.put("era", value, weak=True)
            elif name == "default_language":
                self.default_language = self.default_language or value
            else:
                self.put(name, value)


@dataclass(frozen=True)
class Interpreted:
    interpretation: Interpretation
    confidence: float
    interpreter: str = "rules"


class RulesInterpreter:
    """The default interpreter. ``artists`` adds names (alias → catalog spelling) to the built-in list."""

    name = "rules"

    def __init__(self, artists: Mapping[str, str] | None = None) -> None:
        self._artists = _index({**ARTISTS, **(artists or {})})

    def interpret(self, text: str) -> Interpreted:
        tokens = tokenize(text)
        state = _State()
        for i in range(len(tokens)):
            if not tokens[i].used:
                _tempo(tokens, i, state) or _energy_number(tokens, i, state) or _camelot(tokens, i, state) \
                    or _key(tokens, i, state) or _decade(tokens, i, state)
        self._phrases(tokens, state)
        _captures(tokens, state)
        for t in tokens:
            if not t.used and _is_filler(t):
                t.used = True
        interpretation = _build(state)
        explained = sum(t.used for t in tokens)
        confidence = explained / len(tokens) if tokens and interpretation.fields() else 0.0
        return Interpreted(interpretation, round(confidence, 3))

    def _phrases(self, tokens: list[Token], state: _State) -> None:
        i = 0
        while i < len(tokens):
            matched = 0
            for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                window = tokens[i:i + n]
                if any(t.used for t in window):
                    continue
                words = tuple(t.text for t in window)
                keys = tuple(t.key or "" for t in window)
                if (name := self._artists[0].get(words) or self._artists[1].get(keys)) is not None:
                    state.values.setdefault("artists", [])
                    if name not in state.values["artists"]:
                        state.values["artists"].append(name)
                elif (effect := _PHRASES[0].get(words) or _PHRASES[1].get(keys)) is not None:
                    state.apply(effect)
                else:
                    continue
                for t in window:
                    t.used = True
                matched = n
                break
            i += matched or 1


def _use(tokens: list[Token], *indexes: int) -> bool:
    for i in indexes:
        tokens[i].used = True
    return True


def _at(tokens: list[Token], i: int) -> Token | None:
    return tokens[i] if 0 <= i < len(tokens) else None


def _text(tokens: list[Token], i: int) -> str:
    t = _at(tokens, i)
    return t.text if t is not None and not t.used else ""


def _comparator(tokens: list[Token], i: int) -> tuple[str | None, list[int]]:
    """The comparator written just before position ``i`` ("around", "above", "less than", ...)."""
    pair = (_text(tokens, i - 2), _text(tokens, i - 1))
    if pair in _MIN_PAIRS:
        return "min", [i - 2, i - 1]
    if pair in _MAX_PAIRS:
        return "max", [i - 2, i - 1]
    word = _text(tokens, i - 1)
    if word in _AROUND_WORDS:
        return "around", [i - 1]
    if word in _MIN_WORDS:
        return "min", [i - 1]
    if word in _MAX_WORDS:
        return "max", [i - 1]
    if word == "between":
        return "between", [i - 1]
    return None, []


def _unit_before(tokens: list[Token], i: int) -> list[int]:
    for j in (i - 1, i - 2, i - 3):
        if _text(tokens, j) in ("bpm", "tempo"):
            return [j]
    return []


def _tempo(tokens: list[Token], i: int, state: _State) -> bool:
    n = _number(tokens[i])
    if n is None or not BPM_LOW <= n <= BPM_HIGH or "bpm" in state.values:
        return False
    used = [i]
    cmp, cmp_at = _comparator(tokens, i)
    unit = _unit_before(tokens, i)
    second: float | None = None
    j = i + 1
    if _text(tokens, j) in _RANGE_JOIN and (m := _number(_at(tokens, j + 1))) is not None and m > n:
        second, used, j = m, used + [j, j + 1], j + 2
    if _text(tokens, j) == "+":
        cmp, cmp_at, used, j = "min", [], used + [j], j + 1
    if _text(tokens, j) == "bpm":
        unit = unit + [j]
    if not unit and cmp not in ("around", "between", "min", "max"):
        return False  # a bare number is not a tempo
    if second is not None:
        rng: tuple[int | None, int | None] = (int(n), int(second))
    elif cmp == "min":
        rng = (int(n), None)
    elif cmp == "max":
        rng = (None, int(n))
    else:
        rng = around(n)
    state.put("bpm", rng)
    return _use(tokens, *used, *cmp_at, *unit)


def _energy_number(tokens: list[Token], i: int, state: _State) -> bool:
    n = _number(tokens[i])
    if n is None or not 0 <= n <= 1:
        return False
    cmp, cmp_at = _comparator(tokens, i)
    words = [j for j in (i - 1, i - 2, i - 3) if _text(tokens, j) == "energy"]
    if not words:
        return False
    if _text(tokens, i + 1) == "+":
        cmp, cmp_at = "min", [i + 1]
    lo, hi = (n, 1.0) if cmp == "min" else (0.0, n) if cmp == "max" else (max(0.0, n - 0.1), min(1.0, n + 0.1))
    state.put("energy", (lo, hi))
    return _use(tokens, i, *cmp_at, *words)


def _camelot(tokens: list[Token], i: int, state: _State) -> bool:
    code = normalize_camelot(tokens[i].text) if len(tokens[i].text) <= 3 else None
    if code is None:
        return False
    state.put("camelot", code)
    return _use(tokens, i)


def _key(tokens: list[Token], i: int, state: _State) -> bool:
    t = tokens[i]
    mode = _MODES.get(_text(tokens, i + 1))
    if _NOTE.match(t.text) and mode:
        key = normalize_key(f"{t.text} {mode}")
        used = [i, i + 1]
    elif _COMPACT_MINOR.match(t.text) and _text(tokens, i - 1) != "i":  # "Am", "F#m" (not "i am")
        key = normalize_key(t.text)
        used = [i]
    elif _NOTE.match(t.text) and (t.raw[0].isupper() or _text(tokens, i - 1) == "of") \
            and _text(tokens, i - 1) in ("in", "of", "key"):
        key = normalize_key(t.text)  # "in C", "key of G": a bare tonic is major
        used = [i]
    else:
        return False
    if key is None:
        return False
    state.put("key", key)
    return _use(tokens, *used)


def _decade(tokens: list[Token], i: int, state: _State) -> bool:
    m = _DECADE.match(tokens[i].text)
    if not m:
        return False
    digits = m.group(1)
    if len(digits) == 2:
        decade = (2000 if digits in ("00", "10", "20") else 1900) + int(digits)
        if decade % 10:
            return False
    else:
        decade = int(digits)
    state.put("era", f"{decade}s")
    return _use(tokens, i)


def _free(tokens: list[Token], indexes: range) -> list[int]:
    """The unexplained tokens along ``indexes`` up to the first explained one or a stop word."""
    out = []
    for j in indexes:
        t = tokens[j]
        if t.used or t.text in _CAPTURE_STOP:
            break
        out.append(j)
    return out


def _captures(tokens: list[Token], state: _State) -> None:
    for i, t in enumerate(tokens):
        if t.used:
            continue
        if t.text in _LIKE and "similar_to" not in state.values:
            start = i + 2 if t.text == "similar" and _text(tokens, i + 1) == "to" else i + 1
            span = _free(tokens, range(start, len(tokens)))
            while span and _is_filler(tokens[span[-1]]):
                span.pop()
            if span:
                state.put("similar_to", " ".join(tokens[j].raw.lower() for j in span))
                _use(tokens, *range(i, span[-1] + 1))
        elif t.key in _JAISE and "similar_to" not in state.values:
            span = _free(tokens, range(i - 1, -1, -1))[::-1]
            while span and _is_filler(tokens[span[0]]):
                span.pop(0)
            if span:
                state.put("similar_to", " ".join(tokens[j].raw.lower() for j in span))
                _use(tokens, i, *span)
        elif t.text == "by":
            span = _free(tokens, range(i + 1, len(tokens)))
            while span and _is_filler(tokens[span[-1]]):
                span.pop()
            if span:
                state.values.setdefault("artists", [])
                state.values["artists"].append(" ".join(tokens[j].raw for j in span).title())
                _use(tokens, i, *span)


def _build(state: _State) -> Interpretation:
    v = dict(state.values)
    if "key" in v:
        v.setdefault("camelot", camelot_of(v["key"]))
    elif "camelot" in v:
        v["key"] = key_of(v["camelot"])
    if "language" not in v and state.default_language:
        v["language"] = state.default_language
    if "bpm" in v:
        v["bpm"] = IntRange(min=v["bpm"][0], max=v["bpm"][1])
    if "energy" in v:
        v["energy"] = FloatRange(min=round(v["energy"][0], 3), max=round(v["energy"][1], 3))
    return Interpretation(**v)
