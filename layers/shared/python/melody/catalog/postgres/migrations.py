"""Version-controlled catalog migrations: numbered ``.sql`` files applied once, in order.

Applied versions are recorded in ``catalog_migrations``; the whole run holds an advisory lock in
one transaction, so two deployers (or two ``melody dev`` processes) cannot apply a file twice.
The same runner serves ``melody dev``, ``melody catalog migrate`` and the CDK migration step.

A migration may have a *post-step* (``POST_STEPS``, by version): Python run with the migration's
transaction executor right after the migration's SQL and before its version row, for what SQL
cannot compute (0003's phonetic ``dedup_key``). The data a migration changes and the data its
post-step recomputes are committed together, so no reader ever sees the state in between.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from melody.core.sql.executor import SqlExecutor

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LOCK_ID = 724_311_905  # arbitrary, constant: pg_advisory_xact_lock key of the catalog migrations


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements (split on ``;`` at a line end; comments dropped)."""
        text = "\n".join(line for line in self.sql.splitlines() if not line.strip().startswith("--"))
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


def available_migrations() -> list[Migration]:
    folder = resources.files("melody.catalog.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


def _recompute_dedup_keys(tx: SqlExecutor) -> None:
    """0003: the key format changed (title|artist|bucket → phonetic title); rewrite every key."""
    from melody.catalog.postgres.repository import CatalogRepository  # lazy: keys need anyascii etc.

    CatalogRepository(tx).recompute_dedup_keys()


PostStep = Callable[[SqlExecutor], None]
POST_STEPS: dict[int, PostStep] = {3: _recompute_dedup_keys}


def migrate(executor: SqlExecutor) -> list[int]:
    """Apply every pending migration; returns the versions applied by this call."""
    applied_now: list[int] = []
    with executor.transaction() as tx:
        tx.execute("SELECT pg_advisory_xact_lock(:lock_id)", {"lock_id": LOCK_ID})
        tx.execute(
            "CREATE TABLE IF NOT EXISTS catalog_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {int(r["version"]) for r in tx.query("SELECT version FROM catalog_migrations")}
        for migration in available_migrations():
            if migration.version in done:
                continue
            for statement in migration.statements():
                tx.execute(statement)
            post_step = POST_STEPS.get(migration.version)
            if post_step is not None:
                post_step(tx)  # same transaction: committed with the SQL, or rolled back with it
            tx.execute(
                "INSERT INTO catalog_migrations (version, name) VALUES (:version, :name)",
                {"version": migration.version, "name": migration.name},
            )
            applied_now.append(migration.version)
    return applied_now


def applied_versions(executor: SqlExecutor) -> list[int]:
    rows = executor.query(
        "SELECT version FROM catalog_migrations ORDER BY version"
        if _has_table(executor)
        else "SELECT 1 AS version WHERE false"
    )
    return [int(r["version"]) for r in rows]


def _has_table(executor: SqlExecutor) -> bool:
    rows = executor.query("SELECT to_regclass('catalog_migrations') IS NOT NULL AS present")
    return bool(rows and rows[0]["present"])
