"""The Camelot wheel and tempo compatibility (melody.developer.harmonic)."""

from __future__ import annotations

import pytest

from melody.developer.harmonic import (
    bpm_match,
    bpm_windows,
    camelot_of,
    compatible_camelots,
    harmonic_relation,
    key_of,
    normalize_camelot,
    normalize_key,
)


@pytest.mark.parametrize(
    ("key", "camelot"),
    [("A minor", "8A"), ("C major", "8B"), ("Ab minor", "1A"), ("B major", "1B"), ("C# minor", "12A"),
     ("E major", "12B"), ("F# minor", "11A"), ("Eb major", "5B"), ("D minor", "7A"), ("F# major", "2B")],
)
def test_key_and_camelot_round_trip(key: str, camelot: str) -> None:
    assert camelot_of(key) == camelot
    assert key_of(camelot) == key


def test_all_24_keys_map_to_24_distinct_codes() -> None:
    names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    codes = {camelot_of(f"{n} {m}") for n in names for m in ("major", "minor")}
    assert len(codes) == 24 and None not in codes
    assert all(key_of(c) is not None and camelot_of(key_of(c) or "") == c for c in codes if c)


@pytest.mark.parametrize(
    ("text", "key"),
    [("a minor", "A minor"), ("Am", "A minor"), ("F#m", "F# minor"), ("Bb major", "Bb major"), ("A# minor", "Bb minor"),
     ("Db", "C# major"), ("g#m", "Ab minor"), ("C", "C major"), ("E♭ minor", "Eb minor"), ("D min", "D minor")],
)
def test_normalize_key_accepts_common_spellings(text: str, key: str) -> None:
    assert normalize_key(text) == key


@pytest.mark.parametrize("text", ["H minor", "A dorian", "", "minor", "8A", "A##"])
def test_normalize_key_refuses_what_is_not_a_key(text: str) -> None:
    assert normalize_key(text) is None


@pytest.mark.parametrize(("text", "code"), [("8a", "8A"), ("12B", "12B"), (" 1a ", "1A")])
def test_normalize_camelot(text: str, code: str) -> None:
    assert normalize_camelot(text) == code


@pytest.mark.parametrize("text", ["0A", "13A", "8C", "8", "A8", "08A"])
def test_normalize_camelot_refuses_invalid_codes(text: str) -> None:
    assert normalize_camelot(text) is None


def test_compatible_keys_are_same_adjacent_and_relative() -> None:
    assert compatible_camelots("8A") == ["8A", "7A", "9A", "8B"]
    assert compatible_camelots("12B") == ["12B", "11B", "1B", "12A"]  # the wheel wraps around
    assert compatible_camelots("1a") == ["1A", "12A", "2A", "1B"]
    with pytest.raises(ValueError, match="Camelot"):
        compatible_camelots("13A")


def test_harmonic_relation() -> None:
    assert harmonic_relation("8A", "8A") == "same"
    assert harmonic_relation("8A", "9A") == "adjacent"
    assert harmonic_relation("1A", "12A") == "adjacent"
    assert harmonic_relation("8A", "8B") == "relative"
    assert harmonic_relation("8A", "9B") is None
    assert harmonic_relation("8A", "10A") is None


def test_bpm_windows_allow_tolerance_and_half_double_time() -> None:
    windows = bpm_windows(120, 120, 0.06)
    assert [(round(w.low, 2), round(w.high, 2), w.factor) for w in windows] == [
        (112.8, 127.2, 1.0), (225.6, 254.4, 2.0), (56.4, 63.6, 0.5)]
    assert not any(w.contains(130) for w in windows)
    assert bpm_windows(120, 130, 0.0, half_double=False)[0].contains(130)
    with pytest.raises(ValueError):
        bpm_windows(130, 120, 0.06)


def test_bpm_match_picks_the_closest_factor() -> None:
    assert bpm_match(120, 123, 0.06) == pytest.approx((0.025, 1.0))
    drift, factor = bpm_match(70, 141, 0.06) or (None, None)
    assert factor == 2.0 and drift == pytest.approx(1 / 140)
    assert bpm_match(140, 71, 0.06) == pytest.approx((1 / 70, 0.5))
    assert bpm_match(120, 128, 0.06) is None  # 6.7 % away
    assert bpm_match(120, 127.2, 0.06) is not None  # exactly at the edge
