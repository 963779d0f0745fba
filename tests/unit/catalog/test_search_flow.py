"""search_catalog's control flow: when the fuzzy pass runs, and how many round trips it costs."""

from __future__ import annotations

from melody.catalog.models import Track
from melody.catalog.ranking import build_search_doc
from melody.catalog.search import search_catalog


def _candidate(track_id: str, title: str, *, known: set[str] | None) -> dict:
    row = {
        "track": Track(id=track_id, title=title, title_latin=title, artists=["Arijit Singh"],
                       album=None, language="hi", year=None, duration_s=240, popularity=50),
        "doc": build_search_doc(title, title, ["Arijit Singh"], None, "hi"),
        "cover": 1.0,
    }
    if known is not None:
        row["known"] = known
    return row


class RecordingRepo:
    """Answers recall with fixed candidates and records every call (each one is a round trip)."""

    def __init__(self, candidates: list[dict], fuzzy: dict[int, list[str]] | None = None, vocabulary: set[str] = frozenset()):
        self.candidates = candidates
        self.fuzzy = fuzzy or {}
        self.vocabulary = set(vocabulary)
        self.calls: list[str] = []

    def recall(self, terms, *, language, cap):
        self.calls.append("recall")
        return self.candidates

    def vocab_fuzzy(self, words, *, per_word=40):
        self.calls.append("vocab_fuzzy")
        return self.fuzzy

    def known_tokens(self, tokens):
        self.calls.append("known_tokens")
        return {t for t in tokens if t in self.vocabulary}


def test_known_tokens_come_with_the_recall_rows():
    repo = RecordingRepo([_candidate("trk_1", "Kesariya", known={"kesaria"})])  # known tokens are phonetic keys
    result = search_catalog(repo, "kesariya", language=None)
    assert [h.track.id for h in result.hits] == ["trk_1"]
    assert repo.calls == ["recall"]  # one round trip: no known_tokens, no fuzzy pass


def test_a_word_being_typed_that_completes_to_a_strong_hit_skips_the_fuzzy_pass():
    # "khwa" (phonetic "kva") is no vocabulary token, but "Khwab" ("kvap") starts with it.
    repo = RecordingRepo([_candidate("trk_1", "Khwab", known=set())])
    result = search_catalog(repo, "khwa", language=None)
    assert result.hits and result.hits[0].track.id == "trk_1"
    assert "vocab_fuzzy" not in repo.calls


def test_a_typo_still_gets_the_fuzzy_pass():
    # "kesarya" recalls a strong prefix-free hit on another word only; the typo is unknown.
    repo = RecordingRepo([_candidate("trk_1", "Kesariya Rang", known={"rank"})], fuzzy={0: ["kesaria"]})
    search_catalog(repo, "kesarya rang", language=None)
    assert repo.calls.count("vocab_fuzzy") == 1 and repo.calls.count("recall") == 2


def test_rows_without_known_tokens_fall_back_to_asking_the_vocabulary():
    repo = RecordingRepo([_candidate("trk_1", "Kesariya", known=None)], vocabulary={"kesaria"})
    search_catalog(repo, "kesariya", language=None)
    assert repo.calls == ["recall", "known_tokens"]
