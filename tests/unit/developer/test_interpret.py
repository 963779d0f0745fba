"""The rule-based query interpreter (melody.developer.interpret.rules)."""

from __future__ import annotations

from typing import Any

import pytest

from melody.developer.interpret.lexicon import ENERGY
from melody.developer.interpret.rules import RulesInterpreter, around, tokenize


@pytest.fixture(scope="module")
def rules() -> RulesInterpreter:
    return RulesInterpreter()


def parsed(rules: RulesInterpreter, text: str) -> dict[str, Any]:
    return rules.interpret(text).interpretation.model_dump(exclude_none=True)


def test_the_issue_example(rules: RulesInterpreter) -> None:
    got = parsed(rules, "upbeat punjabi songs around 120 bpm in A minor")
    assert got == {
        "language": "pa", "bpm": {"min": 114, "max": 126}, "key": "A minor", "camelot": "8A",
        "energy": {"min": 0.6, "max": 1.0},
    }
    assert rules.interpret("upbeat punjabi songs around 120 bpm in A minor").confidence == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dard bhare gaane", {"mood": "sad"}),
        ("shaadi dance songs", {"mood": "wedding", "genre": "dance", "energy": {"min": 0.65, "max": 1.0}}),
        ("90s tamil hits", {"era": "1990s", "language": "ta"}),
        ("songs like kesariya", {"similar_to": "kesariya"}),
        ("around 120 bpm", {"bpm": {"min": 114, "max": 126}}),
        ("in A minor", {"key": "A minor", "camelot": "8A"}),
        ("8A", {"key": "A minor", "camelot": "8A"}),
        ("chill", {"mood": "chill", "energy": {"min": 0.0, "max": 0.4}}),
        ("workout", {"mood": "workout", "energy": {"min": 0.7, "max": 1.0}}),
        ("पंजाबी गाने", {"language": "pa"}),
        ("between 100 and 120 bpm", {"bpm": {"min": 100, "max": 120}}),
    ],
)
def test_the_issue_phrasings(rules: RulesInterpreter, text: str, expected: dict[str, Any]) -> None:
    assert parsed(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "bpm"),
    [("120 bpm", (114, 126)), ("120bpm", (114, 126)), ("bpm 124", (117, 131)), ("tempo around 95", (90, 100)),
     ("120-130 bpm", (120, 130)), ("100 to 110 bpm", (100, 110)), ("above 140 bpm", (140, None)),
     ("140+ bpm", (140, None)), ("slower than 80 bpm", (None, 80)), ("at least 100 bpm", (100, None)),
     ("fast songs", (120, None)), ("dheeme gaane", (None, 90))],
)
def test_tempo_forms(rules: RulesInterpreter, text: str, bpm: tuple[int | None, int | None]) -> None:
    got = rules.interpret(text).interpretation.bpm
    assert got is not None and (got.min, got.max) == bpm


def test_around_is_five_percent_widened_to_whole_bpm() -> None:
    assert around(120) == (114, 126)
    assert around(90) == (85, 95)
    assert around(128) == (121, 135)


def test_a_bare_number_is_not_a_tempo(rules: RulesInterpreter) -> None:
    assert rules.interpret("top 50 songs").interpretation.bpm is None
    assert rules.interpret("2013 songs").interpretation.bpm is None


@pytest.mark.parametrize(
    ("text", "key"),
    [("Am", "A minor"), ("F#m at 126 bpm", "F# minor"), ("key of G", "G major"), ("in C", "C major"),
     ("Db major tracks", "C# major"), ("songs in the key of D major", "D major"), ("12a", "C# minor")],
)
def test_keys(rules: RulesInterpreter, text: str, key: str) -> None:
    assert rules.interpret(text).interpretation.key == key


def test_an_article_is_not_a_key(rules: RulesInterpreter) -> None:
    assert rules.interpret("songs in a mood").interpretation.key is None
    assert rules.interpret("i am sad").interpretation.key is None


def test_native_and_mixed_scripts(rules: RulesInterpreter) -> None:
    assert parsed(rules, "दर्द भरे गाने") == {"mood": "sad"}
    assert parsed(rules, "தமிழ் பாடல்கள்") == {"language": "ta"}
    assert parsed(rules, "punjabi गाने 120 bpm") == {"language": "pa", "bpm": {"min": 114, "max": 126}}
    assert parsed(rules, "केसरिया जैसे गाने") == {"similar_to": "केसरिया"}


def test_spelling_variants_meet_the_same_entry(rules: RulesInterpreter) -> None:
    assert parsed(rules, "pyar bhare gane") == parsed(rules, "pyaar bhare gaane") == {"mood": "romantic"}


def test_energy_words_intersect_and_genres_beat_weak_ones(rules: RulesInterpreter) -> None:
    got = rules.interpret("k-pop dance tracks").interpretation
    assert got.genre == "k-pop" and got.energy is not None and (got.energy.min, got.energy.max) == ENERGY["dance"]
    got = rules.interpret("upbeat dance songs").interpretation
    assert got.energy is not None and (got.energy.min, got.energy.max) == (0.65, 1.0)


def test_a_decade_beats_a_vague_era(rules: RulesInterpreter) -> None:
    assert rules.interpret("70s classics").interpretation.era == "1970s"
    assert rules.interpret("old songs").interpretation.era == "classic"


def test_artists_known_and_after_by(rules: RulesInterpreter) -> None:
    assert rules.interpret("arijit sad songs").interpretation.artists == ["Arijit Singh"]
    assert rules.interpret("songs by foo fighters").interpretation.artists == ["Foo Fighters"]
    extra = RulesInterpreter(artists={"prateek kuhad": "Prateek Kuhad"})
    assert extra.interpret("prateek kuhad songs").interpretation.artists == ["Prateek Kuhad"]


def test_similar_to_stops_at_other_constraints(rules: RulesInterpreter) -> None:
    got = rules.interpret("songs like channa mereya in A minor").interpretation
    assert got.similar_to == "channa mereya" and got.key == "A minor"
    assert rules.interpret("tracks like blinding lights but chill").interpretation.similar_to == "blinding lights"


def test_confidence_is_the_share_of_explained_tokens(rules: RulesInterpreter) -> None:
    assert rules.interpret("sad songs").confidence == 1.0
    half = rules.interpret("sad zzqx")
    assert half.confidence == 0.5 and half.interpretation.mood == "sad"
    nothing = rules.interpret("zzqx blorp")
    assert nothing.confidence == 0.0 and nothing.interpretation.fields() == []
    assert rules.interpret("").confidence == 0.0
    assert rules.interpret("songs").confidence == 0.0  # words explained, but nothing asked for


def test_tokenizer_splits_glued_forms_and_keeps_symbols() -> None:
    assert [t.text for t in tokenize("120-130bpm, k-pop r&b 90's F#m!")] == [
        "120", "to", "130", "bpm", "k-pop", "r&b", "90s", "f#m"]
    assert [t.raw for t in tokenize("in C")] == ["in", "C"]
