"""Search keys: Latin renderings of any script, a coarse phonetic key, and native renderings.

Everything here is pure Python and deterministic, so the keys computed when a song is written and
the keys computed for a query always agree (on Aurora and on an embedded PostgreSQL alike).

* :func:`to_latin` renders text in any script as lowercase ASCII words. The Brahmic scripts of
  India (Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam) share
  one Unicode layout, so one offset table transliterates them all, Hinglish style (``तुम ही हो`` →
  ``tum hee ho``), with word-final schwa deletion for the northern scripts. Other scripts go
  through ``anyascii`` (ISC licence).
* :func:`phonetic_word` folds the spelling variants of romanised Indian languages onto one key:
  aa/a, ee/ii/i, oo/uu/u, ai/ei/e, z/j, w/v, q/k, ph/f, sh/s, aspirates (kh/k, dh/d …), doubled
  letters, zh/l (Tamil ழ), and voicing (g/k, d/t, b/p, j/c) because Tamil script does not mark it.
* :func:`to_native` renders a Latin title in the script of its language (best effort), so a
  native-script query can match a song whose catalogue title is Latin.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

# --- Brahmic → Latin -------------------------------------------------------------------------

_BLOCKS = {
    0x0900: "deva",
    0x0980: "beng",
    0x0A00: "guru",
    0x0A80: "gujr",
    0x0B00: "orya",
    0x0B80: "taml",
    0x0C00: "telu",
    0x0C80: "knda",
    0x0D00: "mlym",
}
# Scripts whose languages drop the inherent vowel at the end of a word (हम = ham, not hama).
_SCHWA_DELETING = {"deva", "beng", "guru", "gujr"}

_INDEPENDENT_VOWELS = {
    0x04: "a", 0x05: "a", 0x06: "aa", 0x07: "i", 0x08: "ee", 0x09: "u", 0x0A: "oo", 0x0B: "ri",
    0x0C: "li", 0x0D: "e", 0x0E: "e", 0x0F: "e", 0x10: "ai", 0x11: "o", 0x12: "o", 0x13: "o",
    0x14: "au", 0x60: "ri", 0x61: "li",
}
_CONSONANTS = {
    0x15: "k", 0x16: "kh", 0x17: "g", 0x18: "gh", 0x19: "n", 0x1A: "ch", 0x1B: "chh", 0x1C: "j",
    0x1D: "jh", 0x1E: "n", 0x1F: "t", 0x20: "th", 0x21: "d", 0x22: "dh", 0x23: "n", 0x24: "t",
    0x25: "th", 0x26: "d", 0x27: "dh", 0x28: "n", 0x29: "n", 0x2A: "p", 0x2B: "ph", 0x2C: "b",
    0x2D: "bh", 0x2E: "m", 0x2F: "y", 0x30: "r", 0x31: "r", 0x32: "l", 0x33: "l", 0x34: "zh",
    0x35: "v", 0x36: "sh", 0x37: "sh", 0x38: "s", 0x39: "h",
    # Devanagari nukta letters, Bengali ড় ঢ় য়
    0x58: "q", 0x59: "kh", 0x5A: "gh", 0x5B: "z", 0x5C: "d", 0x5D: "dh", 0x5E: "f", 0x5F: "y",
}
_BENGALI_EXTRA = {0x09DC: "r", 0x09DD: "rh", 0x09DF: "y", 0x09CE: "t"}
_MALAYALAM_CHILLU = {0x0D7A: "n", 0x0D7B: "n", 0x0D7C: "r", 0x0D7D: "l", 0x0D7E: "l", 0x0D7F: "k"}
_NUKTA_FORMS = {"k": "q", "kh": "kh", "g": "g", "j": "z", "ph": "f", "d": "d", "dh": "dh"}
_MATRAS = {
    0x3E: "aa", 0x3F: "i", 0x40: "ee", 0x41: "u", 0x42: "oo", 0x43: "ri", 0x44: "ri", 0x45: "e",
    0x46: "e", 0x47: "e", 0x48: "ai", 0x49: "o", 0x4A: "o", 0x4B: "o", 0x4C: "au", 0x57: "au",
    0x62: "li", 0x63: "li",
}
_VIRAMA, _NUKTA = 0x4D, 0x3C
_NASALS = {0x01: "n", 0x02: "n", 0x70: "n"}  # candrabindu, anusvara, Gurmukhi tippi
_VISARGA = 0x03


def _brahmic_block(ch: str) -> tuple[int, str] | None:
    cp = ord(ch)
    base = cp & ~0x7F
    script = _BLOCKS.get(base)
    return (base, script) if script else None


@dataclass
class _Unit:
    cons: str = ""
    vowel: str = ""
    inherent: bool = False
    tail: str = ""


def _render_units(units: list[_Unit], script: str, *, medial: bool) -> str:
    if not units:
        return ""
    vowels = [u.vowel for u in units]
    if script in _SCHWA_DELETING:
        last = len(units) - 1
        if units[last].inherent and units[last].cons and len(units) > 1:
            vowels[last] = ""
        if medial:
            # Hindi medial schwa deletion: V C ə C V → V C C V (धड़कन dhadakan → dhadkan).
            for i in range(1, last):
                u = units[i]
                if not u.inherent or u.tail or not u.cons:
                    continue
                prev_has_vowel = bool(vowels[i - 1]) or bool(units[i - 1].tail)
                nxt = units[i + 1]
                if prev_has_vowel and nxt.cons and vowels[i + 1]:
                    vowels[i] = ""
    text = "".join(u.cons + v + u.tail for u, v in zip(units, vowels, strict=True))
    # Anusvara: m before labials and at the end of a Dravidian word (సముద్రం samudram), else n.
    text = re.sub(r"N(?=[pbm])", "m", text)
    if script in ("telu", "knda", "mlym"):
        text = re.sub(r"N$", "m", text)
    return text.replace("N", "n")


def _brahmic_word(word: str, *, medial: bool = False) -> str:
    """Transliterate one run of Brahmic characters (one word) to Latin."""
    units: list[_Unit] = []
    script = "deva"
    out: list[str] = []

    def flush() -> None:
        if units:
            out.append(_render_units(units, script, medial=medial))
            units.clear()

    for ch in word:
        info = _brahmic_block(ch)
        cp = ord(ch)
        if info is None:
            if ch in "\u200c\u200d":
                continue
            flush()
            out.append(ch)
            continue
        base, script = info
        off = cp - base
        if cp in _BENGALI_EXTRA or cp in _MALAYALAM_CHILLU:
            units.append(_Unit(cons=_BENGALI_EXTRA.get(cp) or _MALAYALAM_CHILLU[cp], inherent=cp in _BENGALI_EXTRA))
            if units[-1].inherent:
                units[-1].vowel = "a"
        elif off in _CONSONANTS:
            cons = _CONSONANTS[off]
            if script == "beng" and off == 0x2F:
                cons = "j"  # Bengali য is pronounced j (যাকে jake)
            elif script == "guru" and off == 0x5C:
                cons = "d"  # Gurmukhi ੜ is written d in romanised Punjabi (ਕੁੜੀ kudi)
            units.append(_Unit(cons=cons, vowel="a", inherent=True))
        elif off == _NUKTA and units and units[-1].cons:
            units[-1].cons = _NUKTA_FORMS.get(units[-1].cons, units[-1].cons)
        elif off in _MATRAS and units and units[-1].inherent:
            units[-1].vowel = _MATRAS[off]
            units[-1].inherent = False
        elif off == _VIRAMA and units:
            units[-1].vowel = ""
            units[-1].inherent = False
        elif off in _INDEPENDENT_VOWELS:
            units.append(_Unit(vowel=_INDEPENDENT_VOWELS[off]))
        elif off in _NASALS and units:
            units[-1].tail += "N"
        elif off == _VISARGA and units:
            units[-1].tail += "h"
        elif base == 0x0B80 and off == 0x03:  # Tamil aytham
            units.append(_Unit(cons="h"))
        elif base == 0x0A00 and off == 0x71:  # Gurmukhi addak: doubles the next consonant
            continue
        elif base == 0x0A00 and off in (0x72, 0x73):  # Gurmukhi vowel bearers
            units.append(_Unit(vowel="i" if off == 0x72 else "u", inherent=False))
        elif 0x66 <= off <= 0x6F:
            flush()
            out.append(str(off - 0x66))
        elif off in (0x64, 0x65):
            flush()
            out.append(" ")
        # anything else (avagraha, accents) carries no sound of its own
    flush()
    return "".join(out)


_WORD_SPLIT = re.compile(r"(\s+)")


def has_brahmic(text: str) -> bool:
    return any(_brahmic_block(ch) for ch in text)


@lru_cache(maxsize=8192)
def to_latin(text: str, *, medial_schwa: bool = False) -> str:
    """Lowercase ASCII words for ``text`` in any script (punctuation becomes spaces)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    if has_brahmic(text):
        text = "".join(
            _brahmic_word(part, medial=medial_schwa) if has_brahmic(part) else part for part in _WORD_SPLIT.split(text)
        )
    latin = anyascii(text)
    # Latin with accents, CJK, Hangul, Arabic...: anyascii. Split camel humps CJK produces.
    latin = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", latin) if _cjk_or_hangul(text) else latin
    latin = latin.lower().replace("'", "").replace("`", "")
    return " ".join(re.findall(r"[a-z0-9]+", latin))


def _cjk_or_hangul(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in text)


def is_latin(text: str) -> bool:
    return all(ord(ch) < 0x250 or not ch.isalpha() for ch in text)


# --- phonetic folding ------------------------------------------------------------------------

_FOLDS: tuple[tuple[str, str], ...] = (
    ("chh", "C"), ("ch", "C"), ("sh", "s"), ("ph", "f"), ("zh", "l"), ("kh", "k"), ("gh", "g"),
    ("th", "t"), ("dh", "d"), ("bh", "b"), ("jh", "j"), ("rh", "r"),
    ("c", "k"), ("q", "k"), ("x", "ks"), ("z", "j"), ("w", "v"), ("C", "c"),
)
_VOWEL_FOLDS: tuple[tuple[str, str], ...] = (
    ("aa", "a"), ("ee", "i"), ("ii", "i"), ("oo", "u"), ("uu", "u"), ("ou", "u"),
    ("ai", "e"), ("ei", "e"), ("ay", "e"), ("au", "o"), ("iy", "i"), ("ey", "e"), ("ie", "i"), ("ae", "e"),
)
_VOICING = str.maketrans({"g": "k", "d": "t", "b": "p", "j": "c"})
_DOUBLES = re.compile(r"(.)\1+")
_DOUBLE_CONS = re.compile(r"([^aeiou])\1+")
_CONS_H = re.compile(r"(?<=[bcdfgjklmnpqrstvxz])h")


@lru_cache(maxsize=65536)
def phonetic_word(word: str) -> str:
    """The coarse phonetic key of one lowercase ASCII word."""
    w = word.lower()
    if w.isdigit():
        return w
    for a, b in _FOLDS:
        w = w.replace(a, b)
    w = _CONS_H.sub("", w)
    w = _DOUBLE_CONS.sub(r"\1", w)
    for a, b in _VOWEL_FOLDS:
        w = w.replace(a, b)
    w = w.translate(_VOICING)
    w = _DOUBLES.sub(r"\1", w)
    if len(w) > 2 and w.endswith("h"):
        w = w[:-1]
    return w


def phonetic_words(text: str) -> list[str]:
    """Phonetic keys of every word of ``text`` (any script)."""
    return [k for k in (phonetic_word(w) for w in to_latin(text).split()) if k]


def phonetic(text: str) -> str:
    return " ".join(phonetic_words(text))


def latin_variants(text: str) -> list[str]:
    """Latin renderings of ``text``: plain, and with Hindi medial schwa deletion when it differs."""
    if not text:
        return []
    plain = to_latin(text)
    variants = [plain]
    if has_brahmic(text):
        medial = to_latin(text, medial_schwa=True)
        if medial != plain:
            variants.append(medial)
    return [v for v in variants if v]


# --- de-duplication of provider hits against the catalog -------------------------------------

DEDUP_DURATION_TOLERANCE_S = 5
# A bracketed or " - " segment that decorates a title rather than naming another recording:
# "(From \"Brahmastra\")", "- Remastered 2011", "(feat. X)", "[Official Video]", "(Lyrical)".
# Version qualifiers ("(Reprise)", "(Female)", "(Remix)", "(Unplugged)") are kept: they are other songs.
_DECORATION = re.compile(
    r"^\s*(?:from|feat|ft|featuring|with)\b"
    r"|\b(?:remaster(?:ed)?|official|video|audio|lyrics?|lyrical|full\s+song|hd|4k|hq|soundtrack|ost|explicit|promo)\b",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_DASH_SUFFIX = re.compile(r"\s+[-\u2013\u2014|]\s+(.*)$")
_FEAT = re.compile(r"\s+(?:feat|ft|featuring)\b\.?\s.*$", re.IGNORECASE)
_TRAILING_NOISE = re.compile(
    r"\s+(?:full\s+(?:video\s+)?song|full\s+video|official\s+(?:music\s+)?(?:video|audio)|lyric(?:al)?\s+video"
    r"|video\s+song|audio\s+song)\b.*$",
    re.IGNORECASE,
)
_KEY_NOISE = {"version", "ver"}


def _dedup_title(title: str) -> str:
    """``title`` without its decorations (qualifiers such as "(Reprise)" stay, as plain words)."""
    text = unicodedata.normalize("NFC", title or "")
    text = _BRACKETED.sub(lambda m: " " if _DECORATION.search(m.group(1)) else f" {m.group(1)} ", text)
    suffix = _DASH_SUFFIX.search(text)
    if suffix and _DECORATION.search(suffix.group(1)):
        text = text[: suffix.start()]
    text = _TRAILING_NOISE.sub("", _FEAT.sub("", text))
    return text.strip() or (title or "")


def _phonetic_compact(latin: str) -> str:
    return "".join(phonetic_word(w) for w in latin.split() if w not in _KEY_NOISE)


def dedup_keys(title: str, title_latin: str | None = None) -> list[str]:
    """Every de-duplication key of a title (its Latin title first, then each rendering of ``title``).

    The catalog stores one key per song (:func:`dedup_key`); a provider hit is looked up by all of
    its keys, so a native-script hit meets a song stored under either schwa rendering.
    """
    keys: list[str] = []
    for text in (title_latin, title):
        if not text:
            continue
        for variant in latin_variants(_dedup_title(text)):
            key = _phonetic_compact(variant)
            if key and key not in keys:
                keys.append(key)
    return keys


def dedup_key(title: str, artists: list[str] | None = None, duration_s: int | None = None) -> str:
    """The catalog's de-duplication key of a song: its normalised, phonetic title (spaces dropped).

    Decorations are stripped ("(From 'Film')", "- Remastered", "feat. X", "[Official Video]") and
    spelling variants fold (``चाहूँ मैं या ना`` and "Chahun Main Ya Naa" share a key). Artists and
    duration are deliberately not part of the key (the parameters are accepted and ignored):
    providers order artists differently and durations drift by seconds, so they are compared per
    candidate with :func:`dedup_match`. A native title is keyed by its medial-schwa rendering
    (धड़कन → dhadkan), the way such titles are usually romanised.
    """
    variants = latin_variants(_dedup_title(title))
    return _phonetic_compact(variants[-1]) if variants else ""


def _artist_keys(name: str) -> tuple[str, str]:
    words = [phonetic_word(w) for w in to_latin(name).split()]
    return "".join(words), (words[0] if words else "")


def artists_match(a: list[str], b: list[str]) -> bool:
    """Whether two artist lists share an artist (same phonetic name, or the same given name)."""
    keys_a = [_artist_keys(n) for n in a]
    keys_b = [_artist_keys(n) for n in b]
    for full_a, first_a in keys_a:
        for full_b, first_b in keys_b:
            if full_a and full_a == full_b:
                return True
            if len(first_a) >= 3 and first_a == first_b:  # "Arijit Singh" ~ "अरिजीत सिंह"
                return True
    return False


def durations_match(a: int | None, b: int | None, tolerance: int = DEDUP_DURATION_TOLERANCE_S) -> bool:
    """Durations within ``tolerance`` seconds; an unknown duration matches any."""
    return a is None or b is None or abs(int(a) - int(b)) <= tolerance


def dedup_match(artists_a: list[str], duration_a: int | None, artists_b: list[str], duration_b: int | None) -> bool:
    """Two songs with the same title key are one song: a shared artist and close durations.

    When a side has no artists, the durations must both be known and close.
    """
    if not durations_match(duration_a, duration_b):
        return False
    if artists_a and artists_b:
        return artists_match(artists_a, artists_b)
    return duration_a is not None and duration_b is not None


# --- Latin → native (best effort) -----------------------------------------------------------

_LANG_BLOCK = {
    "hi": 0x0900, "mr": 0x0900, "bho": 0x0900, "ne": 0x0900, "sa": 0x0900, "bn": 0x0980, "as": 0x0980,
    "pa": 0x0A00, "gu": 0x0A80, "or": 0x0B00, "ta": 0x0B80, "te": 0x0C00, "kn": 0x0C80, "ml": 0x0D00,
}
_LAT_CONS = {
    "chh": 0x1B, "kh": 0x16, "gh": 0x18, "ch": 0x1A, "jh": 0x1D, "th": 0x25, "dh": 0x27, "ph": 0x2B,
    "bh": 0x2D, "sh": 0x36, "k": 0x15, "g": 0x17, "c": 0x15, "j": 0x1C, "t": 0x24, "d": 0x26,
    "n": 0x28, "p": 0x2A, "b": 0x2C, "m": 0x2E, "y": 0x2F, "r": 0x30, "l": 0x32, "v": 0x35,
    "w": 0x35, "s": 0x38, "h": 0x39, "f": 0x2B, "z": 0x1C, "q": 0x15, "x": 0x38,
}
_LAT_VOWELS = {  # independent offset, matra offset (None: inherent)
    "aa": (0x06, 0x3E), "ee": (0x08, 0x40), "ii": (0x08, 0x40), "oo": (0x0A, 0x42), "uu": (0x0A, 0x42),
    "ai": (0x10, 0x48), "au": (0x14, 0x4C), "a": (0x05, None), "i": (0x07, 0x3F), "u": (0x09, 0x41),
    "e": (0x0F, 0x47), "o": (0x13, 0x4B),
}
# Tamil lacks aspirates and voiced stops: fall back to the letter Tamil uses for them.
_TAMIL_FALLBACK = {0x16: 0x15, 0x17: 0x15, 0x18: 0x15, 0x1B: 0x1A, 0x1D: 0x1C, 0x25: 0x24, 0x26: 0x24,
                   0x27: 0x24, 0x2B: 0x2A, 0x2C: 0x2A, 0x2D: 0x2A, 0x36: 0x37}
_LAT_TOKEN = re.compile(r"chh|kh|gh|ch|jh|th|dh|ph|bh|sh|aa|ee|ii|oo|uu|ai|au|[a-z]")


def to_native(text: str, language: str | None) -> str | None:
    """Render a Latin title in its language's Indian script; ``None`` when no script is known."""
    base = _LANG_BLOCK.get((language or "").lower())
    if base is None or not text or not is_latin(text):
        return None
    words = []
    for word in to_latin(text).split():
        if word.isdigit():
            words.append(word)
            continue
        out: list[str] = []
        pending = False  # a consonant waiting for its vowel
        tokens = _LAT_TOKEN.findall(word)
        if len(tokens) > 1 and tokens[-1] == "a" and base != 0x0B80:
            tokens[-1] = "aa"  # a final "a" in romanised Indian languages is long (raha → रहा)
        for tok in tokens:
            if tok in _LAT_VOWELS:
                independent, matra = _LAT_VOWELS[tok]
                if pending:
                    if matra is not None:
                        out.append(chr(base + matra))
                    pending = False
                else:
                    out.append(chr(base + independent))
            elif tok in _LAT_CONS:
                off = _LAT_CONS[tok]
                if base == 0x0B80:
                    off = _TAMIL_FALLBACK.get(off, off)
                if pending:
                    out.append(chr(base + _VIRAMA))
                out.append(chr(base + off))
                pending = True
        if pending and base in (0x0B80,):
            out.append(chr(base + _VIRAMA))  # Tamil marks a final consonant with pulli
        words.append("".join(out))
    return " ".join(words) or None
