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
