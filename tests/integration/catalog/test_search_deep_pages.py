"""Search pages past the first recall window (RECALL_CAP candidates) on real PostgreSQL.

This module has its own schema (the fixtures below override the session ones): it adds a few hundred
songs that share a word, and they must not reach other tests' searches.
"""

from __future__ import annotations

import pytest

from melody.catalog.models import SongIn
from melody.catalog.search import RECALL_CAP, search_catalog

from .conftest import own_catalog, seed_file

pytestmark = pytest.mark.integration

WORD = "quokkadoo"  # in no seed song
SONGS = 320  # more than RECALL_CAP (150) matches, all reachable under the router's MAX_OFFSET (500)
NUMBERS = ["ek", "do", "teen", "char", "paanch", "chhe", "saat", "aath", "nau", "das", "gyarah", "barah",
           "terah", "chaudah", "pandrah", "solah", "satrah", "atharah"]


catalog_schema, catalog_executor = own_catalog("test_deep_", seeded=False)


@pytest.fixture(scope="module")
def seeded_catalog(catalog_executor):
    from melody.catalog.postgres.loader import ensure_catalog
    from melody.catalog.postgres.repository import CatalogRepository

    ensure_catalog(catalog_executor, seed_file())
    repo = CatalogRepository(catalog_executor)
    songs = [
        SongIn(
            title=f"{WORD.title()} {NUMBERS[i % len(NUMBERS)].title()} {NUMBERS[i // len(NUMBERS)].title()}",
            artists=[f"Deep Page Band {NUMBERS[i % 7]}"],
            language="hi" if i % 2 else "en",
            duration_s=180 + i % 60,
            popularity=(i * 37) % 101,  # not the insertion order
        )
        for i in range(SONGS)
    ]
    assert len({s.track_id() for s in songs}) == SONGS
    repo.upsert_songs(songs)
    return repo


@pytest.fixture()
def headers(user_headers):
    return user_headers()


def page(client, headers, **params):
    response = client.get("/api/v1/music/search", params={"q": WORD, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def every_page(client, headers, limit: int) -> list[list[str]]:
    pages, offset = [], 0
    while offset is not None:
        body = page(client, headers, limit=limit, offset=offset)
        pages.append([item["id"] for item in body["items"]])
        offset = body["next_offset"]
        assert len(pages) < 100
    return pages


def test_pages_past_the_first_recall_window_continue_without_repeats(client, headers, seeded_catalog):
    first = [i["id"] for i in page(client, headers, limit=50, offset=100)["items"]]
    beyond = page(client, headers, limit=50, offset=RECALL_CAP)
    assert len(beyond["items"]) == 50  # was empty: only RECALL_CAP candidates were ever recalled
    assert beyond["next_offset"] == RECALL_CAP + 50
    assert not {i["id"] for i in beyond["items"]} & set(first)

    pages = every_page(client, headers, limit=50)
    ids = [i for p in pages for i in p]
    assert len(ids) == len(set(ids)) == SONGS  # every song once, across all pages
    assert [len(p) for p in pages] == [50] * 6 + [20]
    assert pages[3] == [i["id"] for i in beyond["items"]]  # the same page whichever way it is reached

    # Other page sizes cut the same list: a page holds the same songs whatever recall served it.
    assert [i for p in every_page(client, headers, limit=20) for i in p] == ids
    assert [i for p in every_page(client, headers, limit=7) for i in p][:200] == ids[:200]


def test_first_pages_keep_the_default_recall_cost(seeded_catalog):
    caps = []

    class Counting:
        def __getattr__(self, name):
            return getattr(seeded_catalog, name)

        def recall(self, terms, *, language, cap):
            caps.append(cap)
            return seeded_catalog.recall(terms, language=language, cap=cap)

    first = search_catalog(Counting(), WORD, language=None, cap=550, need=21)
    assert caps == [RECALL_CAP] and first.total == RECALL_CAP and not first.complete
    caps.clear()
    deep = search_catalog(Counting(), WORD, language=None, cap=550, need=201)
    assert caps == [RECALL_CAP, 550] and deep.total == SONGS and deep.complete
    assert [h.track.id for h in deep.hits[:RECALL_CAP]] == [h.track.id for h in first.hits]


def test_a_language_filter_pages_past_the_window_too(client, headers, seeded_catalog):
    ids, offset = [], 0
    while offset is not None:
        body = page(client, headers, limit=50, offset=offset, language="hi")
        ids += [item["id"] for item in body["items"]]
        offset = body["next_offset"]
    assert len(ids) == len(set(ids)) == SONGS // 2
