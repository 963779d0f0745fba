"""One small SQL executor interface, two implementations: psycopg (local, RDS Proxy) and the Data API.

SQL text is written once with ``:name`` placeholders (the Data API's syntax); the psycopg executor
rewrites them to ``%(name)s``. Arrays are never bound (the Data API cannot bind them): pass lists
and dicts as JSON and unpack in SQL (``jsonb_array_elements_text(CAST(:ids AS jsonb))``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import queue
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg.rows import DictRow

Params = Mapping[str, Any] | None
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


class SqlExecutor(Protocol):
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a statement and return its rows as dicts."""

    def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement; returns the number of rows it touched."""

    def transaction(self) -> Any:
        """A context manager yielding an executor whose statements share one transaction."""


def to_pyformat(sql: str) -> str:
    """``:name`` → ``%(name)s`` (leaves ``::casts`` alone and escapes literal ``%``)."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


def _adapt(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


class PsycopgExecutor:
    """psycopg 3 with a small pool; ``schema`` (tests, benchmarks) sets the search_path."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 4, connect_timeout: int = 5) -> None:
        self._url = url
        self._schema = schema
        self._pool: queue.LifoQueue[Connection[DictRow]] = queue.LifoQueue()
        self._size = pool_size
        self._created = 0
        self._lock = threading.Lock()
        self._connect_timeout = connect_timeout

    def _connect(self) -> Connection[DictRow]:
        import psycopg
        from psycopg.rows import dict_row

        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row, "connect_timeout": self._connect_timeout}
        if self._schema:
            kwargs["options"] = f"-c search_path={self._schema},public"
        return psycopg.connect(self._url, **kwargs)

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        conn = None
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                can_create = self._created < self._size
                if can_create:
                    self._created += 1
            if can_create:
                try:
                    conn = self._connect()
                except Exception:
                    with self._lock:
                        self._created -= 1
                    raise
            else:
                conn = self._pool.get(timeout=30)
        broken = False
        try:
            yield conn
        except Exception:
            broken = conn.closed or conn.info.transaction_status not in (0,)  # 0: IDLE
            raise
        finally:
            if broken or conn.closed:
                try:
                    conn.close()
                finally:
                    with self._lock:
                        self._created -= 1
            else:
                self._pool.put(conn)

    @staticmethod
    def _run(conn: Connection[DictRow], sql: str, params: Params) -> tuple[list[dict[str, Any]], int]:
        bound = {k: _adapt(v) for k, v in (params or {}).items()}
        with conn.cursor() as cur:
            cur.execute(to_pyformat(sql) if bound else sql, bound or None)
            rows = cur.fetchall() if cur.description else []
            return rows, cur.rowcount

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._connection() as conn:
            return self._run(conn, sql, params)[0]

    def execute(self, sql: str, params: Params = None) -> int:
        with self._connection() as conn:
            return self._run(conn, sql, params)[1]

    @contextmanager
    def transaction(self) -> Iterator[_BoundPsycopg]:
        with self._connection() as conn, conn.transaction():
            yield _BoundPsycopg(conn)

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return


class _BoundPsycopg:
    def __init__(self, conn: Connection[DictRow]) -> None:
        self._conn = conn

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return PsycopgExecutor._run(self._conn, sql, params)[0]

    def execute(self, sql: str, params: Params = None) -> int:
        return PsycopgExecutor._run(self._conn, sql, params)[1]

    @contextmanager
    def transaction(self) -> Iterator[_BoundPsycopg]:
        yield self  # already inside one


# --- the RDS Data API --------------------------------------------------------------------------


def data_api_parameter(name: str, value: Any) -> dict[str, Any]:
    """A Python value as a Data API ``SqlParameter`` (with the type hint PostgreSQL needs)."""
    if value is None:
        return {"name": name, "value": {"isNull": True}}
    if isinstance(value, bool):
        return {"name": name, "value": {"booleanValue": value}}
    if isinstance(value, int):
        return {"name": name, "value": {"longValue": value}}
    if isinstance(value, float):
        return {"name": name, "value": {"doubleValue": value}}
    if isinstance(value, decimal.Decimal):
        return {"name": name, "value": {"stringValue": str(value)}, "typeHint": "DECIMAL"}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {"name": name, "value": {"stringValue": value.strftime("%Y-%m-%d %H:%M:%S.%f")}, "typeHint": "TIMESTAMP"}
    if isinstance(value, dt.date):
        return {"name": name, "value": {"stringValue": value.isoformat()}, "typeHint": "DATE"}
    if isinstance(value, (dict, list)):
        return {"name": name, "value": {"stringValue": json.dumps(value, ensure_ascii=False)}, "typeHint": "JSON"}
    if isinstance(value, bytes):
        return {"name": name, "value": {"blobValue": value}}
    return {"name": name, "value": {"stringValue": str(value)}}


def _field_value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in field:
            return field[key]
    if "arrayValue" in field:
        array = field["arrayValue"]
        for key in ("stringValues", "longValues", "doubleValues", "booleanValues"):
            if key in array:
                return list(array[key])
        if "arrayValues" in array:
            return [_field_value({"arrayValue": a}) for a in array["arrayValues"]]
    return None


_JSON_TYPES = {"json", "jsonb"}
_NUMERIC_TYPES = {"numeric", "decimal"}


def data_api_rows(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of an ``ExecuteStatement`` response as dicts (JSON columns parsed, numerics as Decimal)."""
    columns = response.get("columnMetadata") or []
    names = [c.get("label") or c.get("name") for c in columns]
    types = [(c.get("typeName") or "").lower() for c in columns]
    rows = []
    for record in response.get("records") or []:
        row = {}
        for name, type_name, field in zip(names, types, record, strict=True):
            value = _field_value(field)
            if value is not None and type_name in _JSON_TYPES and isinstance(value, str):
                value = json.loads(value)
            elif value is not None and type_name in _NUMERIC_TYPES and isinstance(value, str):
                value = decimal.Decimal(value)
            row[name] = value
        rows.append(row)
    return rows


class DataApiExecutor:
    """Aurora Serverless v2 through the RDS Data API (``rds-data`` ``execute_statement``)."""

    def __init__(
        self, client: Any, *, resource_arn: str, secret_arn: str, database: str, transaction_id: str | None = None
    ) -> None:
        self._client = client
        self._base = {"resourceArn": resource_arn, "secretArn": secret_arn}
        self._database = database
        self._transaction_id = transaction_id

    def _statement(self, sql: str, params: Params) -> dict[str, Any]:
        request: dict[str, Any] = {
            **self._base,
            "database": self._database,
            "sql": sql,
            "includeResultMetadata": True,
        }
        if params:
            request["parameters"] = [data_api_parameter(k, v) for k, v in params.items()]
        if self._transaction_id:
            request["transactionId"] = self._transaction_id
        response: dict[str, Any] = self._client.execute_statement(**request)
        return response

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return data_api_rows(self._statement(sql, params))

    def execute(self, sql: str, params: Params = None) -> int:
        return int(self._statement(sql, params).get("numberOfRecordsUpdated", 0))

    @contextmanager
    def transaction(self) -> Iterator[DataApiExecutor]:
        if self._transaction_id:
            yield self
            return
        tx = self._client.begin_transaction(**self._base, database=self._database)["transactionId"]
        bound = DataApiExecutor(
            self._client, resource_arn=self._base["resourceArn"], secret_arn=self._base["secretArn"],
            database=self._database, transaction_id=tx,
        )
        try:
            yield bound
        except BaseException:
            self._client.rollback_transaction(**self._base, transactionId=tx)
            raise
        self._client.commit_transaction(**self._base, transactionId=tx)
