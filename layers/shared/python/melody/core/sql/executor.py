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
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from melody.core.errors import ServiceUnavailable

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


CATALOG_UNAVAILABLE = "catalog_unavailable"


def catalog_unavailable(cause: str) -> ServiceUnavailable:
    """The one error a catalog outage becomes (503 ``catalog_unavailable``); ``cause`` goes to the log only."""
    from melody.core.observability import logger

    logger.warning("catalog unavailable", extra={"cause": cause})
    return ServiceUnavailable(
        "The song catalog is unavailable for now; try again shortly.", code=CATALOG_UNAVAILABLE
    )


class PsycopgExecutor:
    """psycopg 3 with a small pool; ``schema`` (tests, benchmarks) sets the search_path.

    PostgreSQL going away is a 503 ``catalog_unavailable``, never a 500, and never sticks: a
    connection that failed is closed along with every idle one (they share its fate: a restarted or
    unreachable server), and the next statement connects afresh. A connection idle for more than
    ``ping_after_s`` is checked (``SELECT 1``) before it is used, so a server restarted while the pool
    was idle costs no failed request; a statement that failed mid-way is never retried (it may have
    run).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 4,
        connect_timeout: int = 5,
        ping_after_s: float = 10.0,
        pool_wait_s: float = 30.0,
    ) -> None:
        self._url = url
        self._schema = schema
        # (connection, monotonic time it was last given back)
        self._pool: queue.LifoQueue[tuple[Connection[DictRow], float]] = queue.LifoQueue()
        self._size = pool_size
        self._created = 0
        self._lock = threading.Lock()
        self._connect_timeout = connect_timeout
        self._ping_after_s = ping_after_s
        self._pool_wait_s = pool_wait_s

    def _connect(self) -> Connection[DictRow]:
        import psycopg
        from psycopg.rows import dict_row

        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row, "connect_timeout": self._connect_timeout}
        if self._schema:
            kwargs["options"] = f"-c search_path={self._schema},public"
        return psycopg.connect(self._url, **kwargs)

    def _new_connection(self) -> Connection[DictRow]:
        """A fresh connection in a slot already counted in ``_created`` (freed again on failure)."""
        import psycopg

        try:
            return self._connect()
        except BaseException as exc:
            self._forget(1)
            if isinstance(exc, psycopg.OperationalError):
                raise catalog_unavailable(f"connect: {type(exc).__name__}") from exc
            raise

    def _forget(self, count: int) -> None:
        with self._lock:
            self._created -= count

    def _discard(self, conn: Connection[DictRow]) -> None:
        try:
            conn.close()
        finally:
            self._forget(1)

    def _drain_idle(self) -> None:
        """Close every idle connection (after one failed: the server they lead to is likely gone)."""
        while True:
            try:
                conn, _ = self._pool.get_nowait()
            except queue.Empty:
                return
            self._discard(conn)

    def _alive(self, conn: Connection[DictRow]) -> bool:
        import psycopg

        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _checkout(self) -> Connection[DictRow]:
        while True:
            try:
                conn, idle_since = self._pool.get_nowait()
            except queue.Empty:
                break
            if conn.closed or (time.monotonic() - idle_since > self._ping_after_s and not self._alive(conn)):
                self._discard(conn)
                self._drain_idle()
                continue
            return conn
        with self._lock:
            can_create = self._created < self._size
            if can_create:
                self._created += 1
        if can_create:
            return self._new_connection()
        try:
            conn, _ = self._pool.get(timeout=self._pool_wait_s)
        except queue.Empty:
            raise catalog_unavailable(f"no free connection within {self._pool_wait_s:g} s") from None
        return conn

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        import psycopg

        conn = self._checkout()
        try:
            yield conn
        except BaseException as exc:
            # 0: IDLE. A connection left in a transaction, or broken, is not given back.
            if conn.closed or conn.broken or conn.info.transaction_status != 0:
                self._discard(conn)
                if isinstance(exc, psycopg.OperationalError):
                    self._drain_idle()
            else:
                self._pool.put((conn, time.monotonic()))
            if isinstance(exc, psycopg.OperationalError):
                raise catalog_unavailable(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
            raise
        if conn.closed or conn.broken:
            self._discard(conn)
        else:
            self._pool.put((conn, time.monotonic()))

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
        """Close the idle connections (the executor stays usable: the next statement reconnects)."""
        self._drain_idle()


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


# Data API errors that mean "the database is not there right now" (Aurora resuming from zero ACUs, a
# failover, throttling), not "this statement is wrong": they become 503 ``catalog_unavailable``.
_DATA_API_UNAVAILABLE = frozenset({
    "DatabaseResumingException",
    "DatabaseUnavailableException",
    "ServiceUnavailableError",
    "StatementTimeoutException",
    "InternalServerErrorException",
    "ThrottlingException",
})


def _data_api_call(method: Any, **request: Any) -> dict[str, Any]:
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    try:
        response: dict[str, Any] = method(**request)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DATA_API_UNAVAILABLE:
            raise catalog_unavailable(f"data api: {code}") from exc
        raise
    except (ConnectionError, HTTPClientError) as exc:  # endpoint unreachable, connect/read timeout
        raise catalog_unavailable(f"data api: {type(exc).__name__}") from exc
    return response


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
        return _data_api_call(self._client.execute_statement, **request)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return data_api_rows(self._statement(sql, params))

    def execute(self, sql: str, params: Params = None) -> int:
        return int(self._statement(sql, params).get("numberOfRecordsUpdated", 0))

    @contextmanager
    def transaction(self) -> Iterator[DataApiExecutor]:
        if self._transaction_id:
            yield self
            return
        tx = _data_api_call(self._client.begin_transaction, **self._base, database=self._database)["transactionId"]
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
