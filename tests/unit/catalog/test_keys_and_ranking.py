"""Search keys (transliteration, phonetic folding, native rendering) and the re-rank."""

from __future__ import annotations

import pytest

from melody.catalog.keys import dedup_key, latin_variants, phonetic, phonetic_word, to_latin, to_native
from melody.catalog.ranking import build_search_doc, index_tokens, parse_query, score


@pytest.mark.parametrize(
    ("native", "latin"),
    [
        ("तुम ही हो", "tum hee ho"),
        ("केसरिया", "kesariyaa"),
        ("ज़रा ज़रा", "zaraa zaraa"),
        ("నాటు నాటు", "naatu naatu"),
        ("ਇੱਕ ਕੁੜੀ", "ik kudee"),
        ("నీ కళ్ళు నీలి సముద్రం", "nee kallu neeli samudram"),
        ("காதல்", "kaatal"),
        ("千本桜", "qian ben ying"),
    ],
)
def test_to_latin(native, latin):
    assert to_latin(native) == latin


def test_medial_schwa_variant():
    assert latin_variants("दिल चाहता है") == ["dil chaahataa hai", "dil chaahtaa hai"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("tum hee ho", "Tum Hi Ho"),  # ee/i
        ("Zara Zara", "jara jara"),  # z/j
        ("Ishq Wala Love", "ishk vala love"),  # w/v, q/k
        ("Chaiyya Chaiyya", "chaiya chaiya"),  # doubled letters
        ("Phir Se", "fir se"),  # ph/f
        ("Shayad", "sayad"),  # sh/s
        ("Aashiqui", "ashiqui"),  # aa/a
        ("Soorma", "surma"),  # oo/u
        ("Kadhal", "kaathal"),  # Tamil voicing d/t and aspiration
        ("Thamizhan", "tamilan"),  # zh/l
        ("Ganga", "kanka"),  # voicing g/k
    ],
)
def test_phonetic_folding_merges_spelling_variants(a, b):
    assert phonetic(a) == phonetic(b)


def test_phonetic_keeps_different_words_apart():
    assert phonetic_word("dil") != phonetic_word("dal")
    assert phonetic("tum hi ho") != phonetic("tu hi hai")


def test_native_and_latin_titles_share_keys():
    assert phonetic("तुम ही हो") == phonetic("tum hi ho")
    assert phonetic("चाहूँ मैं या ना") == phonetic("chahun main ya na")


def test_to_native_renders_latin_titles_in_their_script():
    assert to_native("Sun Raha Hai", "hi") == "सुन रहा है"
    assert to_native("Tum", "en") is None
    assert to_native("तुम", "hi") is None
    assert to_native("naatu", "ta").startswith("ந")


def test_dedup_key_ignores_decorations_and_small_duration_drift():
    a = dedup_key("Kesariya (From \"Brahmastra\")", ["Arijit Singh", "Pritam"], 268)
    b = dedup_key("Kesariya", ["Arijit Singh"], 270)
    assert a == b


def _doc(title, latin=None, artists=("Arijit Singh",), album="Aashiqui 2"):
    return build_search_doc(title, latin, list(artists), album, "hi")


def test_index_tokens_include_joined_pairs():
    tokens = {t for t, _ in index_tokens(_doc("Woh Humsafar Tha"))}
    assert "humsafar" in tokens and "vo" in tokens


def test_rank_order_exact_prefix_words_fuzzy():
    q = parse_query("tum hi ho")
    exact, _ = score(q, _doc("तुम ही हो", "Tum Hi Ho"), 10)
    prefix, _ = score(q, _doc("Tum Hi Ho Bandhu"), 90)
    words, _ = score(q, _doc("Ho Tum Hi"), 90)
    fuzzy, _ = score(parse_query("tum hi hoo bandu"), _doc("Tum Hi Ho Bandhu"), 0)
    assert exact > prefix > words
    assert fuzzy > 0.3


def test_popularity_only_breaks_ties():
    q = parse_query("kesariya")
    popular, _ = score(q, _doc("Kesariya Rang"), 100)
    exact, _ = score(q, _doc("Kesariya"), 0)
    assert exact > popular
    a, _ = score(q, _doc("Kesariya"), 90)
    assert a > exact


def test_matched_names_the_fields():
    q = parse_query("arijit tum hi ho")
    _, matched = score(q, _doc("तुम ही हो", "Tum Hi Ho"), 50)
    assert matched == ["title", "artists"]
    _, matched = score(parse_query("arijit"), _doc("Kesariya"), 50)
    assert matched == ["artists"]
