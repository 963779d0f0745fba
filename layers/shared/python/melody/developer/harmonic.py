"""Harmonic mixing: the Camelot wheel (key ↔ Camelot code, compatible keys) and tempo compatibility.

Key names use the audio engine's spelling (``melody_audio.analysis.key.PITCH_NAMES``: C, C#, D, Eb,
E, F, F#, G, Ab, A, Bb, B), so a name the parser or a client gives compares equal to what the
pipeline wrote. Enharmonic spellings (Db, D#, Gb, G#, A#) are accepted and normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "BpmWindow",
    "bpm_match",
    "bpm_windows",
    "camelot_of",
    "compatible_camelots",
    "harmonic_relation",
    "key_of",
    "normalize_camelot",
    "normalize_key",
]

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
# Camelot numbers: minor keys are "A", major keys "B"; A minor is 8A, its relative C major 8B.
_MINOR = {"Ab": 1, "Eb": 2, "Bb": 3, "F": 4, "C": 5, "G": 6, "D": 7, "A": 8, "E": 9, "B": 10, "F#": 11, "C#": 12}
_MAJOR = {"B": 1, "F#": 2, "C#": 3, "Ab": 4, "Eb": 5, "Bb": 6, "F": 7, "C": 8, "G": 9, "D": 10, "A": 11, "E": 12}
_MINOR_BY_NUMBER = {n: t for t, n in _MINOR.items()}
_MAJOR_BY_NUMBER = {n: t for t, n in _MAJOR.items()}
_CAMELOT = re.compile(r"^(1[0-2]|[1-9])([AaBb])$")
_KEY = re.compile(r"^([A-Ga-g])([#b♯♭]?)\s*(major|minor|maj|min|m)?$")


def _tonic(letter: str, accidental: str) -> str | None:
    name = letter.upper() + {"♯": "#", "♭": "b"}.get(accidental, accidental)
    name = _ALIASES.get(name, name)
    return name if name in PITCH_NAMES else None


def normalize_key(text: str) -> str | None:
    """``"a minor"``, ``"Am"``, ``"F#m"``, ``"Bb major"``, ``"Db"`` → ``"A minor"``, …, ``"C# major"``;
    None when ``text`` is not a key. A bare tonic is major."""
    m = _KEY.match(text.strip())
    if not m:
        return None
    tonic = _tonic(m.group(1), m.group(2))
    if tonic is None:
        return None
    mode = "minor" if (m.group(3) or "").lower() in ("minor", "min", "m") else "major"
    return f"{tonic} {mode}"


def normalize_camelot(text: str) -> str | None:
    """``"8a"`` → ``"8A"``; None when ``text`` is not a Camelot code (1A–12B)."""
    m = _CAMELOT.match(text.strip())
    return f"{int(m.group(1))}{m.group(2).upper()}" if m else None


def camelot_of(key: str) -> str | None:
    """The Camelot code of a key name (any spelling :func:`normalize_key` accepts)."""
    canonical = normalize_key(key)
    if canonical is None:
        return None
    tonic, mode = canonical.split()
    return f"{_MINOR[tonic]}A" if mode == "minor" else f"{_MAJOR[tonic]}B"


def key_of(camelot: str) -> str | None:
    """The key name of a Camelot code, in the engine's spelling (``"12A"`` → ``"C# minor"``)."""
    code = normalize_camelot(camelot)
    if code is None:
        return None
    number, letter = int(code[:-1]), code[-1]
    return f"{_MINOR_BY_NUMBER[number]} minor" if letter == "A" else f"{_MAJOR_BY_NUMBER[number]} major"


def _step(number: int, delta: int) -> int:
    return (number - 1 + delta) % 12 + 1


def compatible_camelots(camelot: str) -> list[str]:
    """The codes that mix harmonically with ``camelot``: itself, ±1 on the wheel (same letter), and
    its relative major/minor (same number). ``"8A"`` → ``["8A", "7A", "9A", "8B"]``."""
    code = normalize_camelot(camelot)
    if code is None:
        raise ValueError(f"not a Camelot code: {camelot!r}")
    number, letter = int(code[:-1]), code[-1]
    other = "B" if letter == "A" else "A"
    return [code, f"{_step(number, -1)}{letter}", f"{_step(number, 1)}{letter}", f"{number}{other}"]


@lru_cache(maxsize=1024)  # 24 × 24 codes: ranking candidates asks the same pairs again and again
def harmonic_relation(source: str, target: str) -> str | None:
    """How ``target`` mixes after ``source``: ``"same"``, ``"adjacent"``, ``"relative"`` or None."""
    a, b = normalize_camelot(source), normalize_camelot(target)
    if a is None or b is None:
        return None
    if a == b:
        return "same"
    na, la, nb, lb = int(a[:-1]), a[-1], int(b[:-1]), b[-1]
    if la == lb and nb in (_step(na, -1), _step(na, 1)):
        return "adjacent"
    if na == nb:
        return "relative"
    return None


@dataclass(frozen=True)
class BpmWindow:
    low: float
    high: float
    factor: float  # 1: same tempo, 2: the track runs at double time, 0.5: half time

    def contains(self, bpm: float) -> bool:
        return self.low <= bpm <= self.high


def bpm_windows(low: float, high: float, tolerance: float, *, half_double: bool = True) -> list[BpmWindow]:
    """The tempo ranges that mix with a tempo in [low, high] when a deck may be pitched by
    ±``tolerance`` (0.06 = ±6 %): the range widened by the tolerance, and, with ``half_double``, the
    same at double and at half time (a 140 BPM track mixes over 70 BPM beats)."""
    if low > high:
        raise ValueError("low must not exceed high")
    windows = [BpmWindow(low * (1 - tolerance), high * (1 + tolerance), 1.0)]
    if half_double:
        windows.append(BpmWindow(2 * low * (1 - tolerance), 2 * high * (1 + tolerance), 2.0))
        windows.append(BpmWindow(low / 2 * (1 - tolerance), high / 2 * (1 + tolerance), 0.5))
    return windows


def bpm_match(reference: float, bpm: float, tolerance: float) -> tuple[float, float] | None:
    """(relative tempo difference 0…tolerance, factor 1/2/0.5) when ``bpm`` mixes with
    ``reference``, the closest of the three; None when it does not."""
    best: tuple[float, float] | None = None
    for factor in (1.0, 2.0, 0.5):
        target = reference * factor
        drift = abs(bpm - target) / target
        if drift <= tolerance + 1e-9 and (best is None or drift < best[0]):
            best = (drift, factor)
    return best
