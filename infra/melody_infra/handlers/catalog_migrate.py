"""``Custom::MelodyCatalogMigrations``: applies the catalog's SQL migrations through the RDS Data API.

A thin wrapper over the project's runner (``melody.catalog.postgres.migrations.migrate`` with a
``DataApiExecutor``, from the shared layer), which records applied versions, holds an advisory lock
and is idempotent. CloudFormation calls it on Create and on every Update, i.e. whenever the
``MigrationsHash`` property (a hash of the migrations folder) changes. Delete leaves the database
alone (the cluster's own removal policy decides about the data).

Properties: ``ClusterArn``, ``SecretArn``, ``Database``, ``MigrationsHash``.
"""

from __future__ import annotations

import time
from typing import Any

# Aurora Serverless v2 answers the Data API a little after the writer reports "available"; a fresh
# cluster can also be resuming. These errors are retried, anything else fails the deployment.
RETRYABLE = ("DatabaseResumingException", "StatementTimeoutException", "ServiceUnavailableError", "InternalServerErrorException")


def _client():
    import boto3

    return boto3.client("rds-data")


def _is_retryable(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
    name = type(exc).__name__
    return any(marker in (code, name) or marker in str(exc) for marker in RETRYABLE) or "is resuming" in str(exc)


def run_migrations(props: dict[str, Any], *, client: Any = None, attempts: int = 8, delay_s: float = 10.0) -> list[int]:
    from melody.catalog.postgres.migrations import migrate
    from melody.core.sql.executor import DataApiExecutor

    executor = DataApiExecutor(
        client or _client(),
        resource_arn=props["ClusterArn"],
        secret_arn=props["SecretArn"],
        database=props["Database"],
    )
    for attempt in range(1, attempts + 1):
        try:
            return migrate(executor)  # SQL migrations and their Python post-steps, one transaction
        except Exception as exc:  # noqa: BLE001 - classified below
            if attempt == attempts or not _is_retryable(exc):
                raise
            print(f"catalog migrations: attempt {attempt} failed ({exc}); retrying in {delay_s}s")
            time.sleep(delay_s)
    raise AssertionError("unreachable")


def handler(event: dict[str, Any], context: Any = None, *, client: Any = None, **retry: Any) -> dict[str, Any]:
    props = event.get("ResourceProperties") or {}
    physical_id = event.get("PhysicalResourceId") or f"{props.get('ClusterArn', 'catalog')}/catalog-migrations"
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": physical_id}
    applied = run_migrations(props, client=client, **retry)
    print(f"catalog migrations applied: {applied or 'none pending'} (hash {props.get('MigrationsHash')})")
    return {"PhysicalResourceId": physical_id, "Data": {"Applied": ",".join(map(str, applied))}}
