"""infra/melody_infra/handlers/catalog_migrate.py: the project's migration runner over a fake Data API."""

from __future__ import annotations

import json

import pytest

from melody_infra.handlers import catalog_migrate

PROPS = {"ClusterArn": "arn:aws:rds:r:1:cluster:c", "SecretArn": "arn:secret", "Database": "melody", "MigrationsHash": "h"}


class FakeRdsData:
    """Just enough of ``rds-data`` for ``migrate``: records statements, remembers applied versions."""

    def __init__(self, fail_first: int = 0, error: Exception | None = None, songs: list[dict] | None = None) -> None:
        self.applied: set[int] = set()
        self.sql: list[str] = []
        self.log: list[tuple] = []  # ("begin",) / ("sql", text, transactionId, parameters) / ("commit",)
        self.fail_first = fail_first
        self.error = error or RuntimeError("DatabaseResumingException: the database is resuming")
        self.commits = 0
        self.songs = songs or []  # rows of `songs` (track_id, title, title_latin, dedup_key)

    def begin_transaction(self, **kwargs):
        if self.fail_first:
            self.fail_first -= 1
            raise self.error
        self.log.append(("begin",))
        return {"transactionId": "tx"}

    def commit_transaction(self, **kwargs):
        self.commits += 1
        self.log.append(("commit",))
        return {}

    def rollback_transaction(self, **kwargs):
        return {}

    def execute_statement(self, **request):
        sql = request["sql"]
        self.sql.append(sql)
        self.log.append(("sql", sql, request.get("transactionId"), request.get("parameters")))
        assert request["resourceArn"] == PROPS["ClusterArn"] and request["database"] == "melody"
        if sql.startswith("SELECT track_id, title, title_latin, dedup_key FROM songs"):
            params = {p["name"]: p["value"] for p in request["parameters"]}
            after, n = params["after"]["stringValue"], params["n"]["longValue"]
            page = sorted((s for s in self.songs if s["track_id"] > after), key=lambda s: s["track_id"])[:n]
            return {
                "columnMetadata": [{"name": c, "typeName": "text"} for c in ("track_id", "title", "title_latin", "dedup_key")],
                "records": [[{"stringValue": s["track_id"]}, {"stringValue": s["title"]}, {"isNull": True},
                             {"stringValue": s["dedup_key"]}] for s in page],
            }
        if sql.lstrip().startswith("UPDATE songs s SET dedup_key = r.dedup_key"):
            rows = json.loads(next(p["value"]["stringValue"] for p in request["parameters"] if p["name"] == "rows"))
            keys = {r["track_id"]: r["dedup_key"] for r in rows}
            for song in self.songs:
                if song["track_id"] in keys:
                    song["dedup_key"] = keys[song["track_id"]]
            return {"numberOfRecordsUpdated": len(keys)}
        if sql.startswith("SELECT version FROM catalog_migrations"):
            return {
                "columnMetadata": [{"name": "version", "typeName": "int4"}],
                "records": [[{"longValue": v}] for v in sorted(self.applied)],
            }
        if sql.startswith("INSERT INTO catalog_migrations"):
            self.applied.add(next(p["value"]["longValue"] for p in request["parameters"] if p["name"] == "version"))
        return {"numberOfRecordsUpdated": 0}


def _event(kind: str) -> dict:
    return {"RequestType": kind, "ResourceProperties": PROPS}


def test_create_applies_every_migration_once():
    from melody.catalog.postgres.migrations import available_migrations

    client = FakeRdsData()
    result = catalog_migrate.handler(_event("Create"), None, client=client)
    versions = [m.version for m in available_migrations()]
    assert versions and result["Data"]["Applied"] == ",".join(map(str, versions))
    assert result["PhysicalResourceId"] == f"{PROPS['ClusterArn']}/catalog-migrations"
    assert any("CREATE TABLE" in s for s in client.sql) and client.commits == 1
    # keys only Python computes (0003 changed their format) are rewritten in the same deployment step
    assert any(s.startswith("SELECT track_id, title, title_latin, dedup_key FROM songs") for s in client.sql)
    again = catalog_migrate.handler(_event("Update"), None, client=client)
    assert again["Data"]["Applied"] == ""  # idempotent: nothing pending


def test_the_dedup_key_backfill_runs_inside_the_migration_transaction():
    """0003's post-step rewrites the keys between BEGIN and COMMIT, with the transaction's id on every
    request, before 0003's version row: committed together or not at all."""
    from melody.catalog.keys import dedup_key

    client = FakeRdsData(songs=[{"track_id": "trk_a", "title": "Tum Hi Ho", "dedup_key": "tum hi ho|arijit|26"},
                                {"track_id": "trk_b", "title": "Kesariya", "dedup_key": "kesariya|arijit|26"}])
    catalog_migrate.handler(_event("Create"), None, client=client)
    assert [s["dedup_key"] for s in client.songs] == [dedup_key("Tum Hi Ho"), dedup_key("Kesariya")]
    begin, commit = client.log.index(("begin",)), client.log.index(("commit",))
    assert begin == 0 and client.log.count(("begin",)) == 1
    inside = client.log[begin + 1:commit]
    assert all(entry[0] == "sql" and entry[2] == "tx" for entry in inside)
    texts = [entry[1] for entry in inside]
    assert not any(t.lstrip().upper().startswith("ALTER TABLE SONGS") for t in texts)  # no lock that blocks readers
    fills = [i for i, t in enumerate(texts) if t.lstrip().startswith("UPDATE songs s SET dedup_key = r.dedup_key")]
    assert fills, "the keys were not computed inside the migration transaction"
    record_3 = next(i for i, entry in enumerate(inside) if entry[1].startswith("INSERT INTO catalog_migrations")
                    and any(p["name"] == "version" and p["value"] == {"longValue": 3} for p in entry[3]))
    assert fills[-1] < record_3  # the post-step, then the version row
    assert client.log[commit + 1:] == []  # nothing after the commit


def test_resuming_database_is_retried():
    client = FakeRdsData(fail_first=2)
    result = catalog_migrate.handler(_event("Create"), None, client=client, delay_s=0)
    assert result["Data"]["Applied"]


def test_other_errors_fail_the_deployment():
    client = FakeRdsData(fail_first=1, error=ValueError("syntax error"))
    with pytest.raises(ValueError):
        catalog_migrate.handler(_event("Create"), None, client=client, delay_s=0)


def test_delete_touches_nothing():
    client = FakeRdsData()
    event = {**_event("Delete"), "PhysicalResourceId": "pid"}
    assert catalog_migrate.handler(event, None, client=client) == {"PhysicalResourceId": "pid"}
    assert client.sql == []
