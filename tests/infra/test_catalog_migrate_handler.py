"""infra/melody_infra/handlers/catalog_migrate.py: the project's migration runner over a fake Data API."""

from __future__ import annotations

import pytest

from melody_infra.handlers import catalog_migrate

PROPS = {"ClusterArn": "arn:aws:rds:r:1:cluster:c", "SecretArn": "arn:secret", "Database": "melody", "MigrationsHash": "h"}


class FakeRdsData:
    """Just enough of ``rds-data`` for ``migrate``: records statements, remembers applied versions."""

    def __init__(self, fail_first: int = 0, error: Exception | None = None) -> None:
        self.applied: set[int] = set()
        self.sql: list[str] = []
        self.fail_first = fail_first
        self.error = error or RuntimeError("DatabaseResumingException: the database is resuming")
        self.commits = 0

    def begin_transaction(self, **kwargs):
        if self.fail_first:
            self.fail_first -= 1
            raise self.error
        return {"transactionId": "tx"}

    def commit_transaction(self, **kwargs):
        self.commits += 1
        return {}

    def rollback_transaction(self, **kwargs):
        return {}

    def execute_statement(self, **request):
        sql = request["sql"]
        self.sql.append(sql)
        assert request["resourceArn"] == PROPS["ClusterArn"] and request["database"] == "melody"
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
    from melody.adapters.catalog.migrations import available_migrations

    client = FakeRdsData()
    result = catalog_migrate.handler(_event("Create"), None, client=client)
    versions = [m.version for m in available_migrations()]
    assert versions and result["Data"]["Applied"] == ",".join(map(str, versions))
    assert result["PhysicalResourceId"] == f"{PROPS['ClusterArn']}/catalog-migrations"
    assert any("CREATE TABLE" in s for s in client.sql) and client.commits == 1
    # keys only Python computes (0003 clears dedup_key) are backfilled in the same deployment step
    assert any("WHERE dedup_key IS NULL" in s for s in client.sql)
    again = catalog_migrate.handler(_event("Update"), None, client=client)
    assert again["Data"]["Applied"] == ""  # idempotent: nothing pending


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
