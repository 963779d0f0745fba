"""Attribute and harmonic search, next tracks and natural-language queries on real PostgreSQL.

The seed catalogue in a schema of its own; a dozen of its songs get analysed attributes through the
pipeline's own write-back (``CatalogRepository.write_attributes``), the rest stay unanalysed.
"""

from __future__ import annotations

import json

import pytest

from melody.catalog.attributes import TrackAttributes
from melody.core.errors import InvalidInput, NotFound
from melody.developer.search_schemas import TrackFilters
from tests.integration.catalog.conftest import own_catalog, seed_file

pytestmark = pytest.mark.integration

catalog_schema, catalog_executor, seeded_catalog = own_catalog("test_attr_search_")

# label → (bpm, camelot, energy); the songs are the most popular Hindi songs of the seed, in order.
ANALYSED = {
    "seed": (120.0, "8A", 0.60),
    "same_key_close": (121.0, "8A", 0.65),
    "adjacent": (118.0, "9A", 0.55),
    "relative": (123.0, "8B", 0.70),
    "half_time": (60.5, "7A", 0.50),
    "far_key": (120.0, "3B", 0.60),
    "too_fast": (135.0, "8A", 0.60),
    "double_time": (241.0, "8A", 0.90),
    "chill": (82.0, "4A", 0.20),
    "hard": (128.0, "9A", 0.95),
    "no_energy": (120.0, "8A", None),
    "other_8a": (119.0, "8A", 0.62),
}
KEYS = {"8A": "A minor", "9A": "E minor", "8B": "C major", "7A": "D minor", "3B": "C# major", "4A": "F minor"}


@pytest.fixture(scope="module")
def ids(seeded_catalog) -> dict[str, str]:
    songs = [json.loads(line) for line in seed_file().read_text(encoding="utf-8").splitlines() if line.strip()]
    hindi = sorted((s for s in songs if s.get("language") == "hi"), key=lambda s: (-s.get("popularity", 0), s["id"]))
    out = {}
    for (label, (bpm, camelot, energy)), song in zip(ANALYSED.items(), hindi, strict=False):
        attrs = TrackAttributes(bpm=bpm, key=KEYS[camelot], camelot=camelot, energy=energy)
        assert seeded_catalog.write_attributes(song["id"], attrs, content_hash="h" + song["id"])
        out[label] = song["id"]
    out["unanalysed"] = hindi[len(ANALYSED)]["id"]
    return out


@pytest.fixture(scope="module")
def finder(dev_settings_module, catalog_executor, ids):
    from melody.core.services import Services

    return Services(dev_settings_module, executor=catalog_executor).track_finder


@pytest.fixture(scope="module")
def dev_settings_module():
    from melody.core.settings import DevSettings

    return DevSettings(_env_file=None, stage="test")  # type: ignore[call-arg]


def labels(ids: dict[str, str], items) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    return {by_id.get(i.id, i.id) for i in items}


def test_exact_key_or_camelot(finder, ids) -> None:
    by_camelot = finder.tracks(TrackFilters(camelot="8a"), 50).items
    by_key = finder.tracks(TrackFilters(key="a minor"), 50).items
    assert labels(ids, by_camelot) == labels(ids, by_key) == {
        "seed", "same_key_close", "too_fast", "double_time", "no_energy", "other_8a"}
    assert all(h.camelot == "8A" and h.key == "A minor" for h in by_camelot)


def test_only_analysed_tracks_are_found(finder, ids) -> None:
    everything = finder.tracks(TrackFilters(), 100).items
    assert labels(ids, everything) == set(ANALYSED)
    assert ids["unanalysed"] not in {h.id for h in everything}


def test_compatible_with_applies_the_camelot_wheel(finder, ids) -> None:
    got = labels(ids, finder.tracks(TrackFilters(compatible_with="8A"), 50).items)
    assert got == {"seed", "same_key_close", "adjacent", "relative", "half_time", "too_fast", "double_time",
                   "hard", "no_energy", "other_8a"}
    assert "far_key" not in got and "chill" not in got


def test_compatible_with_and_tempo_allow_tolerance_and_half_double_time(finder, ids) -> None:
    f = TrackFilters(compatible_with="8A", bpm_min=120, bpm_max=122)  # ±6 %: 112.8–129.3, 225.6–258.7, 56.4–64.7
    got = labels(ids, finder.tracks(f, 50).items)
    assert got == {"seed", "same_key_close", "adjacent", "relative", "half_time", "double_time", "no_energy",
                   "other_8a", "hard"}
    assert "too_fast" not in got
    strict = labels(ids, finder.tracks(TrackFilters(compatible_with="8A", bpm_min=120, bpm_max=122, bpm_tolerance=0), 50).items)
    assert strict == {"seed", "same_key_close", "no_energy", "half_time", "double_time"}  # 60.5 and 241: exact ½ and 2×


def test_without_compatible_with_the_tempo_range_is_exact(finder, ids) -> None:
    got = labels(ids, finder.tracks(TrackFilters(bpm_min=119, bpm_max=121), 50).items)
    assert got == {"seed", "same_key_close", "far_key", "no_energy", "other_8a"}


def test_compatible_with_and_a_key_intersect(finder, ids) -> None:
    assert labels(ids, finder.tracks(TrackFilters(compatible_with="8A", camelot="8B"), 50).items) == {"relative"}
    assert finder.tracks(TrackFilters(compatible_with="8A", camelot="3B"), 50).items == []


def test_energy_and_language(finder, ids) -> None:
    got = labels(ids, finder.tracks(TrackFilters(energy_min=0.85), 50).items)
    assert got == {"double_time", "hard"}
    assert labels(ids, finder.tracks(TrackFilters(energy_max=0.3), 50).items) == {"chill"}
    assert finder.tracks(TrackFilters(language="ta"), 50).items == []
    assert len(finder.tracks(TrackFilters(language="hi"), 50).items) == len(ANALYSED)


def test_pages_walk_every_match_once_most_popular_first(finder, ids) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = finder.tracks(TrackFilters(compatible_with="8A"), 3, cursor)
        seen += page.items
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len({h.id for h in seen}) == 10 and pages == 4
    assert [(-h.popularity, h.id) for h in seen] == sorted(((-h.popularity, h.id) for h in seen),
                                                          key=lambda p: (p[0], [-ord(c) for c in p[1]]))


def test_a_forged_cursor_is_refused(finder) -> None:
    for cursor in ("bm90LWpzb24", "WzEsMl0=", "!!"):
        with pytest.raises(InvalidInput) as err:
            finder.tracks(TrackFilters(), 5, cursor)
        assert err.value.code == "invalid_cursor"


def test_next_tracks_mix_harmonically_and_explain(finder, ids) -> None:
    page = finder.next_tracks(ids["seed"], 10)
    assert page.track.id == ids["seed"] and page.track.camelot == "8A"
    got = [labels(ids, [h]).pop() for h in page.items]
    assert "seed" not in got
    # "hard" (9A) is 6.7 % faster and "too_fast" 12.5 %: past the ±6 % a deck can pitch
    assert set(got) == {"same_key_close", "adjacent", "relative", "half_time", "double_time", "no_energy", "other_8a"}
    assert got[0] in ("same_key_close", "other_8a")  # same key, within 1 %, a small energy lift
    assert [h.score for h in page.items] == sorted((h.score or 0 for h in page.items), reverse=True)
    first = page.items[0]
    assert any(r.startswith("same key") for r in first.reasons)
    assert any(r.startswith("tempo") for r in first.reasons)
    half = next(h for h in page.items if h.id == ids["half_time"])
    assert any("half time" in r for r in half.reasons) and any("Camelot wheel" in r for r in half.reasons)
    assert len(finder.next_tracks(ids["seed"], 2).items) == 2


def test_next_tracks_of_unknown_or_unanalysed_tracks_is_not_found(finder, ids) -> None:
    for track_id in ("trk_doesnotexist", ids["unanalysed"]):
        with pytest.raises(NotFound) as err:
            finder.next_tracks(track_id, 5)
        assert err.value.code == "track_not_found"


def test_query_filters_on_what_the_catalog_stores(finder, ids) -> None:
    result = finder.query("upbeat hindi songs around 120 bpm in A minor", 10)
    assert result.interpreter == "rules" and result.confidence == 1.0
    assert set(result.applied) == {"language", "bpm", "key", "camelot", "energy"} and result.not_applied == []
    assert labels(ids, result.items) == {"seed", "same_key_close", "other_8a"}  # no_energy has no energy to match


def test_a_mood_the_catalog_does_not_store_returns_nothing_rather_than_anything(finder) -> None:
    result = finder.query("dard bhare gaane", 10)
    assert result.interpretation.mood == "sad"
    assert result.applied == [] and result.not_applied == ["mood"] and result.items == []


def test_query_by_era_language_artist_and_tag(finder) -> None:
    nineties = finder.query("90s hindi songs", 20)
    assert nineties.items and all(h.language == "hi" and 1990 <= (h.year or 0) <= 1999 for h in nineties.items)
    arijit = finder.query("arijit singh songs", 20)
    assert arijit.items and all("Arijit Singh" in h.artists for h in arijit.items)
    romantic = finder.query("romantic hindi songs", 20)
    assert "mood" in romantic.applied and all("romantic" in h.genres for h in romantic.items) and romantic.items


def test_songs_like_resolve_through_the_catalog_search_in_any_script(finder) -> None:
    latin = finder.query("songs like tum hi ho", 10)
    native = finder.query("तुम ही हो जैसे गाने", 10)
    assert "similar_to" in latin.applied and "similar_to" in native.applied
    assert latin.items and [h.id for h in latin.items] == [h.id for h in native.items]
    assert all(h.language == "hi" for h in latin.items)
    assert all(h.title != "तुम ही हो" for h in latin.items)
    assert latin.items[0].reasons[0].startswith("like ")
    unknown = finder.query("songs like zzqxv blorpt", 10)
    assert "similar_to" in unknown.not_applied and unknown.items == []
