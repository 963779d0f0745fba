"""`melody catalog load FILE` on real PostgreSQL: import, then re-import as updates; keys on old data."""

from __future__ import annotations

import json

import pytest

from melody.catalog.models import SongIn
from tests.support.schemas import schema_executor, scratch_schema

pytestmark = pytest.mark.integration

SONGS = [
    {"id": "trk_cli_test_0001", "title": "चाहूँ मैं या ना", "title_latin": None, "artists": ["Arijit Singh", "Palak Muchhal"],
     "album": "Aashiqui 2", "album_kind": "film", "language": "hi", "year": 2013, "duration_s": 304, "popularity": 70},
    {"id": "trk_cli_test_0002", "title": "Why This Kolaveri Di", "artists": ["Dhanush"], "album": "3", "language": "ta",
     "year": 2011, "duration_s": 250, "popularity": 80},
    {"id": "trk_cli_test_0003", "title": "Kesariya", "artists": ["Arijit Singh"], "album": "Brahmastra", "language": "hi",
     "year": 2022, "duration_s": 268, "popularity": 85, "isrc": "INZ031422282"},
]


@pytest.fixture()
def schema(database_url: str):
    with scratch_schema(database_url, "test_cli_") as name:
        yield name

@pytest.fixture()
def executor(database_url: str, schema: str):
    with schema_executor(database_url, schema) as ex:
        yield ex

def write(path, songs) -> str:
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in songs), encoding="utf-8")
    return str(path)


def test_catalog_load_twice_imports_then_updates(tmp_path, monkeypatch, capsys, database_url, schema, executor):
    from melody_dev.cli import main

    # The CLI reads the catalog settings (prefix MELODY_) from the environment.
    monkeypatch.setenv("MELODY_DATABASE_URL", database_url)
    monkeypatch.setenv("MELODY_CATALOG_DB_SCHEMA", schema)

    assert main(["catalog", "load", write(tmp_path / "first.jsonl", SONGS)]) == 0
    assert "loaded 3 songs, rejected 0" in capsys.readouterr().err
    rows = executor.query("SELECT track_id, title FROM songs ORDER BY track_id")
    assert [r["track_id"] for r in rows] == [s["id"] for s in SONGS]  # the file's ids are the track ids

    changed = [dict(s) for s in SONGS]
    changed[1]["title"] = "Why This Kolaveri Kolaveri Di"
    changed[1]["popularity"] = 81
    assert main(["catalog", "load", write(tmp_path / "second.jsonl", changed)]) == 0
    assert "loaded 3 songs, rejected 0" in capsys.readouterr().err
    rows = executor.query("SELECT track_id, title, popularity, dedup_key FROM songs ORDER BY track_id")
    assert [r["track_id"] for r in rows] == [s["id"] for s in SONGS]  # same count, same ids
    assert rows[1]["title"] == "Why This Kolaveri Kolaveri Di" and rows[1]["popularity"] == 81
    assert rows[0]["title"] == "चाहूँ मैं या ना"
    assert all(r["dedup_key"] for r in rows)
    # Artists and search postings were replaced, not piled up.
    assert executor.query("SELECT count(*) AS n FROM song_artists")[0]["n"] == 4
    assert executor.query("SELECT count(*) AS n FROM artists")[0]["n"] == 3
    from melody.catalog.postgres.repository import CatalogRepository
    from melody.catalog.search import search_catalog

    hits = search_catalog(CatalogRepository(executor), "kolaveri kolaveri", language=None).hits
    assert hits and hits[0].track.id == "trk_cli_test_0002"


def test_catalog_load_rejects_lines_without_an_id(tmp_path, monkeypatch, capsys, database_url, schema, executor):
    from melody_dev.cli import main

    monkeypatch.setenv("MELODY_DATABASE_URL", database_url)
    monkeypatch.setenv("MELODY_CATALOG_DB_SCHEMA", schema)
    no_id = {k: v for k, v in SONGS[2].items() if k != "id"}
    assert main(["catalog", "load", write(tmp_path / "mixed.jsonl", [SONGS[1], no_id])]) == 0
    err = capsys.readouterr().err
    assert "mixed.jsonl:2: rejected" in err and "loaded 1 songs, rejected 1" in err
    assert executor.query("SELECT count(*) AS n FROM songs")[0]["n"] == 1


def test_migration_0003_recomputes_dedup_keys_of_existing_rows(monkeypatch, executor):
    """A catalog written under the old keys (title|artist|10-s bucket) meets provider hits after the upgrade."""
    from melody.catalog.postgres import migrations
    from melody.catalog.postgres.loader import ensure_catalog
    from melody.catalog.postgres.repository import CatalogRepository

    every = migrations.available_migrations()
    monkeypatch.setattr(migrations, "available_migrations", lambda: [m for m in every if m.version < 3])
    assert migrations.migrate(executor) == [1, 2]
    repo = CatalogRepository(executor)
    repo.upsert_songs([SongIn.model_validate(s) for s in SONGS])
    executor.execute("UPDATE songs SET dedup_key = 'old|' || track_id")  # what the old code wrote, in effect
    monkeypatch.setattr(migrations, "available_migrations", lambda: every)

    applied, report = ensure_catalog(executor, None)  # what `melody dev` runs on start
    assert 3 in applied and report is None
    keys = executor.query("SELECT track_id, dedup_key FROM songs ORDER BY track_id")
    assert all(r["dedup_key"] and not r["dedup_key"].startswith("old|") for r in keys)
    hit = SongIn(title="Chahun Main Ya Naa", artists=["Arijit Singh"], duration_s=302)
    assert repo.find_duplicate(hit) == "trk_cli_test_0001"
    assert repo.recompute_dedup_keys() == 0  # idempotent: every key is current


def _catalog_at_version_2_with_old_keys(monkeypatch, executor):
    """A catalog migrated to version 2, its songs carrying the old keys (title|artist|10-s bucket)."""
    from melody.catalog.postgres import migrations
    from melody.catalog.postgres.repository import CatalogRepository

    every = migrations.available_migrations()
    monkeypatch.setattr(migrations, "available_migrations", lambda: [m for m in every if m.version < 3])
    assert migrations.migrate(executor) == [1, 2]
    CatalogRepository(executor).upsert_songs([SongIn.model_validate(s) for s in SONGS])
    executor.execute("UPDATE songs SET dedup_key = 'old|' || track_id")
    monkeypatch.setattr(migrations, "available_migrations", lambda: every)
    return migrations


def test_migration_0003_computes_the_new_keys_in_its_own_transaction(monkeypatch, executor):
    """``migrations.migrate`` alone leaves every song with its new key: the rewrite is 0003's
    post-step, committed with the migration."""
    from melody.catalog.keys import dedup_key

    migrations = _catalog_at_version_2_with_old_keys(monkeypatch, executor)
    assert migrations.migrate(executor)[0] == 3  # then any later migrations
    rows = executor.query("SELECT track_id, title, title_latin, dedup_key FROM songs ORDER BY track_id")
    assert len(rows) == len(SONGS)
    assert all(r["dedup_key"] == dedup_key(r["title_latin"] or r["title"]) for r in rows)


def test_migration_0003_takes_no_table_lock_that_blocks_readers(monkeypatch, executor):
    """While 0003's rewrite runs, a second connection can still read songs (no ACCESS EXCLUSIVE lock)."""
    import psycopg

    migrations = _catalog_at_version_2_with_old_keys(monkeypatch, executor)
    real = migrations.POST_STEPS[3]
    readable: list[int] = []

    def reading_while_it_runs(tx):
        real(tx)
        with psycopg.connect(executor._url, autocommit=True, options=f"-c search_path={executor._schema}") as other:
            other.execute("SET lock_timeout = '2s'")
            readable.append(other.execute("SELECT count(*) FROM songs").fetchone()[0])

    monkeypatch.setitem(migrations.POST_STEPS, 3, reading_while_it_runs)
    assert migrations.migrate(executor)[0] == 3  # then any later migrations
    assert readable == [len(SONGS)]


def test_a_failing_post_step_rolls_its_migration_back(monkeypatch, executor):
    """The post-step runs before the version row, in the same transaction: if it fails, 0003 is not
    recorded and the keys are as they were (never cleared and committed)."""
    migrations = _catalog_at_version_2_with_old_keys(monkeypatch, executor)
    seen: list[int] = []

    def failing(tx):
        from melody.catalog.postgres.repository import CatalogRepository

        seen.append(CatalogRepository(tx).recompute_dedup_keys())  # rewrites the keys, then fails
        raise RuntimeError("backfill failed")

    monkeypatch.setitem(migrations.POST_STEPS, 3, failing)
    with pytest.raises(RuntimeError, match="backfill failed"):
        migrations.migrate(executor)
    assert seen == [len(SONGS)]  # it had rewritten every key inside the transaction
    assert migrations.applied_versions(executor) == [1, 2]
    keys = executor.query("SELECT dedup_key FROM songs")
    assert keys and all(r["dedup_key"].startswith("old|") for r in keys)


def test_catalog_migrate_reads_the_libpq_database_url_like_melody_dev(monkeypatch, capsys, database_url, schema, executor):
    from melody_dev.cli import main

    monkeypatch.delenv("MELODY_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MELODY_CATALOG_DB_SCHEMA", schema)
    assert main(["catalog", "migrate"]) == 0
    assert "catalog migrations applied" in capsys.readouterr().err
    assert executor.query("SELECT to_regclass('songs') IS NOT NULL AS present")[0]["present"]


def test_catalog_commands_without_a_database_say_so_in_one_line(monkeypatch, capsys):
    from melody_dev.cli import main

    for name in ("MELODY_DATABASE_URL", "DATABASE_URL", "MELODY_CATALOG_CLUSTER_ARN", "MELODY_CATALOG_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["catalog", "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No catalog database") and "Traceback" not in err
