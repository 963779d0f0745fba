"""The search service's logic with a fake repository: what a query filters on, tempo windows,
cursors, and the next-track score (melody.developer.finder)."""

from __future__ import annotations

from typing import Any

import pytest

from melody.catalog.postgres.attribute_search import AttributeQuery, AttributeRow
from melody.core.errors import InvalidInput, NotFound
from melody.developer.finder import TrackFinder, decode_cursor, encode_cursor, era_years, similarity
from melody.developer.interpret.rules import Interpreted, RulesInterpreter
from melody.developer.search_schemas import Interpretation, TrackFilters


def row(track_id: str, **kw: Any) -> AttributeRow:
    base: dict[str, Any] = dict(title=track_id, title_latin=None, artists=[], language="hi", year=2015, genres=[],
                                popularity=50, bpm=None, key=None, camelot=None, energy=None)
    base.update(kw)
    return AttributeRow(track_id=track_id, **base)


class FakeRepo:
    def __init__(self, rows: list[AttributeRow]) -> None:
        self.rows = {r.track_id: r for r in rows}
        self.queries: list[tuple[AttributeQuery, int, Any]] = []

    def search(
        self, q: AttributeQuery, *, limit: int, after: tuple[int, str] | None = None, with_artists: bool = True
    ) -> list[AttributeRow]:
        self.queries.append((q, limit, after))
        return [r for r in self.rows.values() if r.track_id not in q.exclude][:limit]

    def tempo_neighbours(
        self, camelots: list[str], windows: list[tuple[float, float, float]], *, per_side: int, exclude: str
    ) -> list[AttributeRow]:
        self.probes = (camelots, windows, per_side, exclude)
        return [r for r in self.rows.values() if r.track_id != exclude and r.camelot in camelots]

    def artists_of(self, ids: list[str]) -> dict[str, list[str]]:
        return {i: self.rows[i].artists for i in ids}

    def attributes(self, track_id: str) -> AttributeRow | None:
        return self.rows.get(track_id)


def finder(rows: list[AttributeRow], interpreter: Any = None, resolve: Any = None) -> tuple[TrackFinder, FakeRepo]:
    repo = FakeRepo(rows)
    return TrackFinder(repo, interpreter or RulesInterpreter(), resolve=resolve or (lambda text: None),
                       artist_id=lambda name: "art_" + name.lower().replace(" ", "_")), repo


def test_query_turns_the_interpretation_into_criteria() -> None:
    f, repo = finder([row("trk_a")])
    result = f.query("upbeat punjabi 90s songs around 120 bpm in 8A by arijit singh", 7)
    q, limit, _ = repo.queries[-1]
    assert limit == 7
    assert (q.language, q.bpm_windows, q.camelots, q.energy_min, q.energy_max) == ("pa", ((114, 126),), ("8A",), 0.6, 1.0)
    assert (q.year_min, q.year_max, q.artist_ids) == (1990, 1999, ("art_arijit_singh",))
    assert set(result.applied) == {"language", "bpm", "key", "camelot", "energy", "era", "artists"}
    assert result.not_applied == [] and [h.id for h in result.items] == ["trk_a"]


def test_moods_filter_only_where_the_catalog_tags_them() -> None:
    f, repo = finder([row("trk_a")])
    sad = f.query("sad songs", 5)
    assert sad.not_applied == ["mood"] and sad.items == [] and repo.queries == []
    romantic = f.query("romantic songs", 5)
    assert romantic.applied == ["mood"] and repo.queries[-1][0].genres == ("romantic",)
    party = f.query("party songs", 5)  # the mood is not stored, its energy range is
    assert party.applied == ["energy"] and party.not_applied == ["mood"]


def test_the_interpreter_name_is_reported() -> None:
    class Llm:
        def interpret(self, text: str) -> Interpreted:
            return Interpreted(Interpretation(language="ta"), 0.9, interpreter="llm")

    result = finder([row("trk_a")], interpreter=Llm())[0].query("anything", 5)
    assert result.interpreter == "llm" and result.confidence == 0.9


def test_songs_like_rank_by_likeness_to_the_resolved_song() -> None:
    seed = row("trk_seed", genres=["romantic", "filmi"], artists=["A"], year=2013)
    close = row("trk_close", genres=["romantic", "filmi"], artists=["A"], year=2014, popularity=10)
    far = row("trk_far", genres=["rock"], artists=["B"], year=1970, popularity=90)
    f, repo = finder([seed, far, close], resolve=lambda text: "trk_seed" if text == "tum hi ho" else None)
    result = f.query("songs like tum hi ho", 5)
    assert [h.id for h in result.items] == ["trk_close", "trk_far"]
    assert repo.queries[-1][0].language == "hi" and repo.queries[-1][0].exclude == ("trk_seed",)
    assert result.items[0].reasons[0] == "like trk_seed" and "same artist: A" in result.items[0].reasons


@pytest.mark.parametrize(
    ("filters", "windows"),
    [
        (TrackFilters(bpm_min=100, bpm_max=110), ((100, 110),)),
        (TrackFilters(bpm_min=100), ((100, None),)),
        (TrackFilters(compatible_with="8A", bpm_min=100, bpm_max=110, bpm_tolerance=0.1),
         ((90, 121), (180, 242), (45, 60.5))),
        (TrackFilters(compatible_with="8A", bpm_max=100, bpm_tolerance=0.1), ((None, 110),)),
        (TrackFilters(compatible_with="8A"), ()),
    ],
)
def test_tempo_windows(filters: TrackFilters, windows: tuple[Any, ...]) -> None:
    f, repo = finder([])
    f.tracks(filters, 10)
    got = repo.queries[-1][0].bpm_windows
    assert [tuple(None if v is None else round(v, 2) for v in w) for w in got] == [tuple(w) for w in windows]
    assert repo.queries[-1][0].analysed_only


def test_tracks_pages_with_an_opaque_cursor() -> None:
    rows = [row(f"trk_{i}", popularity=100 - i, bpm=120.0, camelot="8A") for i in range(3)]
    f, repo = finder(rows)
    page = f.tracks(TrackFilters(), 2)
    assert [h.id for h in page.items] == ["trk_0", "trk_1"] and page.next_cursor
    assert decode_cursor(page.next_cursor) == (99, "trk_1")
    f.tracks(TrackFilters(), 2, page.next_cursor)
    assert repo.queries[-1][2] == (99, "trk_1") and repo.queries[-1][1] == 3
    assert encode_cursor(rows[0]) and f.tracks(TrackFilters(), 5).next_cursor is None
    with pytest.raises(InvalidInput):
        decode_cursor("WyJ4IiwgMV0=")  # ["x", 1]


def test_filters_validate_keys_and_codes() -> None:
    assert TrackFilters(key="a minor").target_camelot() == "8A"
    for bad in ({"key": "H minor"}, {"camelot": "13A"}, {"compatible_with": "8C"}, {"key": "A minor", "camelot": "9A"},
                {"bpm_min": 130, "bpm_max": 120}, {"energy_min": 0.9, "energy_max": 0.1}, {"language": "Hindi"}):
        with pytest.raises(ValueError):
            TrackFilters(**bad)


def test_next_tracks_needs_an_analysed_track() -> None:
    f, _ = finder([row("trk_plain")])
    for track_id in ("trk_plain", "trk_missing"):
        with pytest.raises(NotFound):
            f.next_tracks(track_id, 5)


def test_similarity_prefers_same_key_close_tempo_and_a_small_energy_lift() -> None:
    seed = row("s", bpm=120.0, camelot="8A", energy=0.6)
    best = similarity(seed, row("a", bpm=120.5, camelot="8A", energy=0.65))
    relative = similarity(seed, row("b", bpm=120.5, camelot="8B", energy=0.65))
    jump = similarity(seed, row("c", bpm=120.5, camelot="8A", energy=0.2))
    half = similarity(seed, row("d", bpm=60.2, camelot="8A", energy=0.65))
    assert best[0] > relative[0] > 0 and best[0] > jump[0] and best[0] > half[0]
    assert best[1][0] == "same key (8A)" and "at half time" in half[1][1]


def test_eras() -> None:
    assert era_years("1990s") == (1990, 1999)
    assert era_years("classic") == (None, 1999) and era_years("recent") == (2020, None)
    assert era_years("someday") is None


def test_next_tracks_probe_compatible_keys_at_same_double_and_half_time() -> None:
    seed = row("trk_seed", bpm=120.0, camelot="8A", energy=0.5)
    near = row("trk_near", bpm=121.0, camelot="8A", energy=0.55, artists=["X"])
    other = row("trk_other", bpm=119.0, camelot="8B", energy=0.9, artists=["Y"])
    f, repo = finder([seed, near, other])
    page = f.next_tracks("trk_seed", 5)
    camelots, windows, per_side, exclude = repo.probes
    assert camelots == ["8A", "7A", "9A", "8B"] and exclude == "trk_seed" and per_side > 0
    assert [round(w[0], 1) for w in windows] == [120.0, 240.0, 60.0]
    assert [(round(lo, 1), round(hi, 1)) for _, lo, hi in windows] == [(112.8, 127.2), (225.6, 254.4), (56.4, 63.6)]
    assert [h.id for h in page.items] == ["trk_near", "trk_other"] and page.items[0].artists == ["X"]
    assert page.track.id == "trk_seed"
