"""The recall statement on real PostgreSQL: known tokens in the same round trip, the language index."""

from __future__ import annotations

import pytest

from melody.catalog.ranking import parse_query
from melody.catalog.search import RECALL_CAP, exact_and_prefix_terms

pytestmark = pytest.mark.integration


def _recall(repo, text: str, language: str | None = None):
    return repo.recall(exact_and_prefix_terms(parse_query(text)), language=language, cap=RECALL_CAP)


def test_recall_rows_carry_the_exact_query_tokens_the_vocabulary_knows(seeded_catalog):
    words = parse_query("tum zzqxv").words
    rows = _recall(seeded_catalog, "tum zzqxv")
    assert rows
    assert all(r["known"] == {words[0]} for r in rows)  # "tum" is known, the gibberish word is not
    assert rows[0]["known"] == seeded_catalog.known_tokens(words)


def test_language_filtered_recall_equals_the_unfiltered_one_restricted_to_that_language(seeded_catalog):
    everything = _recall(seeded_catalog, "dil")
    assert len(everything) < RECALL_CAP  # under the cap, so filtering first or after must agree
    punjabi = _recall(seeded_catalog, "dil", language="pa")
    assert punjabi and all(r["track"].language == "pa" for r in punjabi)
    assert [r["track"].id for r in punjabi] == [r["track"].id for r in everything if r["track"].language == "pa"]


def test_the_language_postings_index_exists(catalog_executor, catalog_schema):
    rows = catalog_executor.query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = :schema AND tablename = 'song_search_tokens'",
        {"schema": catalog_schema},
    )
    assert "song_search_tokens_lang_popular" in {r["indexname"] for r in rows}
