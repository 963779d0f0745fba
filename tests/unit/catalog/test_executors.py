"""The SQL executor interface: placeholder rewriting (psycopg) and Data API mapping (Stubber)."""

from __future__ import annotations

import datetime as dt
import decimal

import boto3
import pytest
from botocore.stub import Stubber

from melody.catalog.postgres.migrations import available_migrations
from melody.core.sql.executor import DataApiExecutor, data_api_parameter, to_pyformat

ARN = "arn:aws:rds:ap-south-1:123456789012:cluster:melody-catalog"
SECRET = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:melody-catalog-abc123"


def test_named_placeholders_become_pyformat_and_casts_survive():
    sql = "SELECT CAST(:ids AS jsonb), x::int FROM t WHERE a LIKE 'a%' AND b = :b_2"
    assert to_pyformat(sql) == "SELECT CAST(%(ids)s AS jsonb), x::int FROM t WHERE a LIKE 'a%%' AND b = %(b_2)s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"name": "p", "value": {"isNull": True}}),
        (True, {"name": "p", "value": {"booleanValue": True}}),
        (7, {"name": "p", "value": {"longValue": 7}}),
        (1.5, {"name": "p", "value": {"doubleValue": 1.5}}),
        ("तुम", {"name": "p", "value": {"stringValue": "तुम"}}),
        (decimal.Decimal("1.20"), {"name": "p", "value": {"stringValue": "1.20"}, "typeHint": "DECIMAL"}),
        (dt.date(2024, 5, 1), {"name": "p", "value": {"stringValue": "2024-05-01"}, "typeHint": "DATE"}),
        (
            dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            {"name": "p", "value": {"stringValue": "2024-05-01 06:30:00.000000"}, "typeHint": "TIMESTAMP"},
        ),
        (["a", "ब"], {"name": "p", "value": {"stringValue": '["a", "ब"]'}, "typeHint": "JSON"}),
    ],
)
def test_parameter_mapping(value, expected):
    assert data_api_parameter("p", value) == expected


@pytest.fixture()
def rds():
    client = boto3.client("rds-data", region_name="ap-south-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_query_sends_typed_parameters_and_maps_rows(rds):
    client, stubber = rds
    stubber.add_response(
        "execute_statement",
        {
            "columnMetadata": [
                {"name": "track_id", "typeName": "text"},
                {"name": "plays", "typeName": "int8"},
                {"name": "doc", "typeName": "jsonb"},
                {"name": "score", "typeName": "numeric"},
                {"name": "has_audio", "typeName": "bool"},
                {"name": "album", "typeName": "text"},
            ],
            "records": [
                [
                    {"stringValue": "trk_1"},
                    {"longValue": 3},
                    {"stringValue": '{"title": ["tum hi ho"]}'},
                    {"stringValue": "0.75"},
                    {"booleanValue": False},
                    {"isNull": True},
                ]
            ],
        },
        {
            "resourceArn": ARN,
            "secretArn": SECRET,
            "database": "melody",
            "sql": "SELECT ... WHERE day >= :since AND language = :language",
            "includeResultMetadata": True,
            "parameters": [
                {"name": "since", "value": {"stringValue": "2024-05-01"}, "typeHint": "DATE"},
                {"name": "language", "value": {"isNull": True}},
            ],
        },
    )
    executor = DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody")
    rows = executor.query(
        "SELECT ... WHERE day >= :since AND language = :language", {"since": dt.date(2024, 5, 1), "language": None}
    )
    assert rows == [
        {"track_id": "trk_1", "plays": 3, "doc": {"title": ["tum hi ho"]}, "score": decimal.Decimal("0.75"),
         "has_audio": False, "album": None}
    ]


def test_transactions_begin_pass_the_id_and_commit_or_roll_back(rds):
    client, stubber = rds
    base = {"resourceArn": ARN, "secretArn": SECRET}
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, {**base, "database": "melody"})
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 2},
        {**base, "database": "melody", "sql": "UPDATE t SET a = 1", "includeResultMetadata": True, "transactionId": "tx-1"},
    )
    stubber.add_response("commit_transaction", {"transactionStatus": "Transaction Committed"}, {**base, "transactionId": "tx-1"})
    stubber.add_response("begin_transaction", {"transactionId": "tx-2"}, {**base, "database": "melody"})
    stubber.add_response("rollback_transaction", {"transactionStatus": "Rollback Complete"}, {**base, "transactionId": "tx-2"})
    executor = DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody")
    with executor.transaction() as tx:
        assert tx.execute("UPDATE t SET a = 1") == 2
    with pytest.raises(RuntimeError), executor.transaction():
        raise RuntimeError("boom")


def test_migrations_are_numbered_and_split_into_statements():
    migrations = available_migrations()
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})
    first = migrations[0]
    assert first.version == 1
    statements = first.statements()
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS songs") for s in statements)
    assert all(";" not in s.rstrip(";") or "'" in s for s in statements)
    assert not any("pg_trgm" in s or "EXTENSION" in s for s in statements)  # must run on embedded PostgreSQL


def test_migrations_import_no_repository_and_key_post_steps_by_version():
    """The runner stays light (the CDK step imports it): the 0003 post-step imports the repository lazily."""
    import subprocess
    import sys

    code = ("import sys, melody.catalog.postgres.migrations as m; "
            "assert 'melody.catalog.postgres.repository' not in sys.modules, 'eager import'; "
            "assert 'anyascii' not in sys.modules; print(sorted(m.POST_STEPS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[3]"


# --- outages: 503 ``catalog_unavailable``, and the pool never keeps a dead connection ------------


class FakeConnection:
    """What the executor uses of a psycopg connection; ``dead`` makes the next statement fail as a
    lost connection does (OperationalError, then closed and broken)."""

    def __init__(self) -> None:
        self.closed = False
        self.broken = False
        self.dead = False
        self.info = type("Info", (), {"transaction_status": 0})()
        self.statements: list[str] = []

    def execute(self, sql, params=None):
        import psycopg

        if self.dead:
            self.closed = self.broken = True
            self.info.transaction_status = 4  # UNKNOWN
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        self.statements.append(sql)

    def cursor(self):
        conn = self

        class Cursor:
            description = [("ok",)]
            rowcount = 1

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql, params=None):
                conn.execute(sql, params)

            def fetchall(self):
                return [{"ok": 1}]

        return Cursor()

    def close(self) -> None:
        self.closed = True


class FakePsycopgExecutor:
    """``PsycopgExecutor`` whose connections are fakes; ``down`` makes connecting fail."""

    @staticmethod
    def make(**kwargs):
        import psycopg

        from melody.core.sql.executor import PsycopgExecutor

        class Executor(PsycopgExecutor):
            def __init__(self) -> None:
                super().__init__("postgresql://unused", **kwargs)
                self.down = False
                self.made: list[FakeConnection] = []

            def _connect(self):
                if self.down:
                    raise psycopg.OperationalError("connection refused")
                self.made.append(FakeConnection())
                return self.made[-1]

        return Executor()


def _unavailable(call):
    from melody.core.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable) as caught:
        call()
    assert caught.value.status == 503 and caught.value.code == "catalog_unavailable"


def test_a_lost_connection_is_a_503_and_drops_every_idle_connection():
    executor = FakePsycopgExecutor.make(pool_size=2)
    with executor._connection() as first, executor._connection() as second:
        pass  # two connections now idle in the pool
    first.dead = second.dead = True  # the server went away
    _unavailable(lambda: executor.query("SELECT 1"))
    assert first.closed and second.closed  # the failed one and the idle one sharing its fate
    assert executor.query("SELECT 1") == [{"ok": 1}]  # the next statement connects afresh
    assert len(executor.made) == 3


def test_an_unreachable_server_is_a_503_and_frees_the_slot():
    executor = FakePsycopgExecutor.make(pool_size=1)
    executor.down = True
    for _ in range(3):  # more failures than slots: a failed connect must not keep its slot
        _unavailable(lambda: executor.query("SELECT 1"))
    executor.down = False
    assert executor.query("SELECT 1") == [{"ok": 1}]


def test_idle_connections_are_checked_before_use_and_a_dead_one_is_replaced():
    executor = FakePsycopgExecutor.make(pool_size=1, ping_after_s=0.0)
    executor.query("SELECT 1")
    executor.made[0].dead = True  # dropped while idle (a restart, an idle timeout)
    assert executor.query("SELECT 2") == [{"ok": 1}]  # no failed request: the check found it
    assert executor.made[0].closed and len(executor.made) == 2


def test_errors_of_the_statement_itself_pass_through_and_keep_the_connection():
    executor = FakePsycopgExecutor.make(pool_size=1)
    with pytest.raises(ValueError), executor._connection():
        raise ValueError("a bug, not an outage")
    executor.query("SELECT 1")
    assert len(executor.made) == 1 and not executor.made[0].closed


def test_close_leaves_the_executor_usable():
    executor = FakePsycopgExecutor.make(pool_size=1)
    executor.query("SELECT 1")
    executor.close()
    assert executor.made[0].closed
    assert executor.query("SELECT 1") == [{"ok": 1}]  # a slot was freed for each closed connection


@pytest.mark.parametrize("code", ["DatabaseResumingException", "StatementTimeoutException"])
def test_data_api_outages_are_a_503(rds, code):
    client, stubber = rds
    stubber.add_client_error("execute_statement", service_error_code=code, http_status_code=400)
    executor = DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody")
    _unavailable(lambda: executor.query("SELECT 1"))


def test_data_api_statement_errors_stay_errors(rds):
    from botocore.exceptions import ClientError

    client, stubber = rds
    stubber.add_client_error("execute_statement", service_error_code="BadRequestException", http_status_code=400)
    executor = DataApiExecutor(client, resource_arn=ARN, secret_arn=SECRET, database="melody")
    with pytest.raises(ClientError):
        executor.query("SELEC 1")
