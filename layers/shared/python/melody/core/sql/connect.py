"""The catalog executor the settings ask for: psycopg for a URL, the RDS Data API for a cluster ARN."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from melody.core.sql.executor import SqlExecutor


def catalog_executor(settings: object) -> SqlExecutor | None:
    """An executor for ``settings`` (any object with the ``CatalogDatabaseSettings`` fields), or None."""
    database_url = getattr(settings, "database_url", None)
    if database_url is not None:
        from melody.core.sql.executor import PsycopgExecutor

        return PsycopgExecutor(database_url.get_secret_value(), schema=getattr(settings, "catalog_db_schema", None))
    if getattr(settings, "catalog_cluster_arn", None) and getattr(settings, "catalog_secret_arn", None):
        import boto3

        from melody.core.sql.executor import DataApiExecutor

        return DataApiExecutor(
            boto3.client("rds-data", region_name=settings.aws_region),  # type: ignore[attr-defined]
            resource_arn=settings.catalog_cluster_arn,  # type: ignore[attr-defined]
            secret_arn=settings.catalog_secret_arn,  # type: ignore[attr-defined]
            database=settings.catalog_database,  # type: ignore[attr-defined]
        )
    return None
