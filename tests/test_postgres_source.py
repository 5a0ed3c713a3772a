"""Issue 15: the PostgreSQL engine of ``sql_table`` against a real server (the ``postgres``
fixture, tests/postgres.py): one consistent read while another connection writes, values in
their agreed JSON forms, rows in key order, a million rows in flat memory, and the refusals
(unreachable, missing table, no key, password in the DSN) as one line each."""

from __future__ import annotations

import base64
import decimal
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.errors import ERROR_CODES, ExitCode, GovernError
from govern.format.jsonio import dump_jsonl_line
from govern.plugins.sql_table.source import Column, key_order, open_source
from postgres import PASSWORD

TESTS = Path(__file__).resolve().parent


def _read(postgres, database: str, *, table: str | None = None, query: str | None = None, key: list[str] | None = None) -> list[dict]:
    source = open_source(postgres.dsn(database), table=table, query=query, key=key, password=PASSWORD)
    try:
        return list(source.rows())
    finally:
        source.close()


def _refusal(postgres, database: str, *, dsn: str | None = None, password: str | None = PASSWORD, **what) -> GovernError:
    what = {"table": None, "query": None, "key": None, **what}
    with pytest.raises(GovernError) as caught:
        source = open_source(dsn or postgres.dsn(database), password=password, **what)
        source.close()
    return caught.value


# -- one consistent read ------------------------------------------------------------------------


def test_the_read_sees_the_database_as_of_open_not_the_commits_made_while_it_streams(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as writer:
        writer.execute("CREATE TABLE account (id int PRIMARY KEY, balance numeric NOT NULL)")
        writer.execute("INSERT INTO account SELECT g, 100 FROM generate_series(1, 5000) g")
        source = open_source(postgres.dsn(database), table="account", query=None, key=None, password=PASSWORD)
        try:
            # Committed after open_source began the read, before its rows are asked for...
            with writer.transaction():
                writer.execute("UPDATE account SET balance = balance - 50 WHERE id = 1")
                writer.execute("UPDATE account SET balance = balance + 50 WHERE id = 5000")
            rows = source.rows()
            first = next(rows)
            # ... and while its cursor streams: both invisible to it.
            writer.execute("INSERT INTO account VALUES (5001, 7)")
            writer.execute("DELETE FROM account WHERE id = 2")
            seen = [first, *rows]
        finally:
            source.close()
    assert [row["id"] for row in seen] == list(range(1, 5001))
    assert {row["balance"] for row in seen} == {"100"}


def test_reads_during_concurrent_transfers_never_see_half_a_transaction(postgres) -> None:
    database = postgres.fresh_database()
    accounts, total = 200, 200 * 1000
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE account (id int PRIMARY KEY, balance numeric(20, 2) NOT NULL)")
        setup.execute("INSERT INTO account SELECT g, 1000 FROM generate_series(1, %s) g", (accounts,))
    stop = threading.Event()
    committed = [0]

    def transfer() -> None:
        # Each transaction moves money between two accounts and adds a new account funded from
        # a third: the sum stays `total` in every committed state, never in between.
        with postgres.connect(database, autocommit=True) as writer:
            step = 0
            while not stop.is_set():
                step += 1
                source_id, target_id = 1 + step % accounts, 1 + (step * 7 + 3) % accounts
                with writer.transaction():
                    writer.execute("UPDATE account SET balance = balance - 1.25 WHERE id = %s", (source_id,))
                    writer.execute("UPDATE account SET balance = balance + 1.25 WHERE id = %s", (target_id,))
                    writer.execute("UPDATE account SET balance = balance - 0.5 WHERE id = %s", (target_id,))
                    writer.execute("INSERT INTO account VALUES (%s, 0.5)", (accounts + step,))
                committed[0] += 1

    thread = threading.Thread(target=transfer)
    thread.start()
    try:
        sums, sizes = [], set()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline or committed[0] < 20:
            rows = _read(postgres, database, table="account")
            sums.append(sum(decimal.Decimal(row["balance"]) for row in rows))
            sizes.add(len(rows))
    finally:
        stop.set()
        thread.join()
    assert committed[0] >= 20 and len(sizes) > 1, "the writer must have committed while the reads ran"
    assert set(sums) == {decimal.Decimal(total)}


def test_the_snapshot_id_is_the_transactions_snapshot_and_wal_position(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (id int PRIMARY KEY)")
    source = open_source(postgres.dsn(database), table="t", query=None, key=None, password=PASSWORD)
    try:
        snapshot_id = source.snapshot_id()
        assert snapshot_id == source.snapshot_id()
    finally:
        source.close()
    snapshot, lsn = snapshot_id.split(" ")
    assert snapshot.startswith("pg_snapshot:") and len(snapshot.split(":")) == 4
    assert lsn.startswith("lsn:") and "/" in lsn


# -- values in their JSON forms -----------------------------------------------------------------


def test_types_round_trip_to_their_agreed_json_forms(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute(
            """CREATE TABLE typed (
                id int PRIMARY KEY, big bigint, exact numeric(38, 0), scaled numeric(38, 10), free numeric,
                at timestamptz, naive timestamp, day date, raw bytea, label text, doc jsonb, plain json,
                ints int[], stamps timestamptz[], id2 uuid, ratio float8, flag boolean, span interval)"""
        )
        setup.execute("SET TimeZone = 'America/New_York'")  # the writer's zone must not matter
        setup.execute(
            """INSERT INTO typed VALUES
            (1, 9223372036854775807, 12345678901234567890123456789012345678, 1234567890123456789012345678.0123456789,
             0.10, '2024-03-01 12:00:00+02', '2024-03-01 12:00:00.5', '2024-02-29', %s, %s,
             '{"b": 1, "a": {"d": [1, 2.5, null], "c": "x"}}', '{"z": 1, "y": 2}',
             '{1,NULL,3}', '{"2024-01-01 00:00:00-07:30"}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'NaN', true, '1 day 2 hours'),
            (2, -1, -99999999999999999999999999999999999999, -0.0000000001, 'NaN',
             '2024-03-01 12:00:00.123456 Asia/Tokyo', 'infinity', '-infinity', '', '', '[]', 'null',
             '{}', '{}', NULL, '-Infinity', false, '-3 seconds'),
            (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1.5, NULL, NULL)""",
            (bytes(range(256)), "caf\u00e9 \u6f22\u5b57 \U0001f600 e\u0301 \u05e9\u05dc\u05d5\u05dd"),
        )
    source = open_source(postgres.dsn(database), table="typed", query=None, key=None, password=PASSWORD)
    try:
        columns = source.columns()
        rows = list(source.rows())
    finally:
        source.close()
    assert columns[:4] == [
        Column(name="id", type="integer", nullable=False),
        Column(name="big", type="bigint", nullable=True),
        Column(name="exact", type="numeric(38,0)", nullable=True),
        Column(name="scaled", type="numeric(38,10)", nullable=True),
    ]
    assert [column.type for column in columns[5:8]] == ["timestamp with time zone", "timestamp without time zone", "date"]
    first, second, third = rows
    assert first == {
        "id": 1,
        "big": 9223372036854775807,
        "exact": "12345678901234567890123456789012345678",  # all 38 digits, never a float
        "scaled": "1234567890123456789012345678.0123456789",
        "free": "0.10",  # the scale as stored
        "at": "2024-03-01T10:00:00.000000Z",
        "naive": "2024-03-01T12:00:00.500000",  # no zone invented
        "day": "2024-02-29",
        "raw": {"$base64": base64.b64encode(bytes(range(256))).decode()},
        "label": "caf\u00e9 \u6f22\u5b57 \U0001f600 e\u0301 \u05e9\u05dc\u05d5\u05dd",
        "doc": {"a": {"c": "x", "d": [1, 2.5, None]}, "b": 1},
        "plain": {"y": 2, "z": 1},
        "ints": [1, None, 3],
        "stamps": ["2024-01-01T07:30:00.000000Z"],
        "id2": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "ratio": "NaN",
        "flag": True,
        "span": "P1DT2H",
    }
    assert second["exact"] == "-99999999999999999999999999999999999999" and second["scaled"] == "-0.0000000001"
    assert second["free"] == "NaN" and second["ratio"] == "-Infinity"
    assert second["at"] == "2024-03-01T03:00:00.123456Z"
    assert (second["naive"], second["day"]) == ("infinity", "-infinity")
    assert (second["raw"], second["label"], second["doc"], second["plain"]) == ({"$base64": ""}, "", [], None)
    assert third == {name: None for name in third} | {"id": 3, "ratio": 1.5}
    # Every row is a canonical JSONL line as it stands: jsonb's keys come out sorted whatever
    # order they were written in.
    line = dump_jsonl_line(first)
    assert line.index(b'"a":{"c":"x"') < line.index(b'"b":1')
    assert json.loads(line) == first


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
            st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d.adjusted()) < 100),
        ),
        min_size=1,
        max_size=30,
        unique_by=lambda pair: pair[0],
    )
)
def test_text_keys_and_numerics_round_trip_exactly_in_key_order(postgres, values) -> None:
    database = getattr(test_text_keys_and_numerics_round_trip_exactly_in_key_order, "database", None)
    if database is None:
        database = test_text_keys_and_numerics_round_trip_exactly_in_key_order.database = postgres.fresh_database()  # type: ignore[attr-defined]
        with postgres.connect(database, autocommit=True) as setup:
            setup.execute("CREATE TABLE keyed (name text PRIMARY KEY, amount numeric)")
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("TRUNCATE keyed")
        with setup.cursor() as cursor:
            cursor.executemany("INSERT INTO keyed VALUES (%s, %s)", values)
    rows = _read(postgres, database, table="keyed")
    # Code point order (what Python, SQLite's BINARY and key_order sort by), not a locale's.
    assert [row["name"] for row in rows] == sorted(name for name, _ in values)
    assert {row["name"]: decimal.Decimal(row["amount"]) for row in rows} == dict(values)
    assert all(isinstance(row["amount"], str) for row in rows)


# -- key order ---------------------------------------------------------------------------------


def test_rows_come_in_key_order_for_composite_and_text_typed_keys(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE reading (region text, seq int, version numeric, value text, PRIMARY KEY (region, seq, version))")
        regions = ["b", "a", "B", "\u00e9", "a b", "ab", "Z", "\U0001f600", ""]
        rows = [(region, seq, version, f"{region}/{seq}/{version}") for region in regions for seq in (10, -2, 3) for version in ("9", "10", "1.5")]
        rows.reverse()
        with setup.cursor() as cursor:
            cursor.executemany("INSERT INTO reading VALUES (%s, %s, %s, %s)", rows)
    source = open_source(postgres.dsn(database), table="reading", query=None, key=None, password=PASSWORD)
    try:
        key = source.key()
        read = list(source.rows())
    finally:
        source.close()
    assert key == ["region", "seq", "version"]  # the primary key, in its declared order
    keys = [[row[name] for name in key] for row in read]
    assert len(keys) == len(rows)
    # The order the snapshot writer and row_diff rely on: key_order of the JSON forms (a numeric
    # key is its exact text, so "10" sorts before "9").
    assert keys == sorted(keys, key=key_order)
    assert keys[:3] == [["", -2, "1.5"], ["", -2, "10"], ["", -2, "9"]]


def test_a_configured_key_orders_a_table_without_one_and_a_query_with_nulls_first(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE loose (code text, n int)")
        setup.execute("INSERT INTO loose VALUES ('b', 2), (NULL, 0), ('a', 1)")
    assert [row["code"] for row in _read(postgres, database, table="loose", key=["code"])] == [None, "a", "b"]
    rows = _read(postgres, database, query="SELECT n * 10 AS tens, code FROM loose WHERE n < 2;", key=["tens"])
    assert rows == [{"tens": 0, "code": None}, {"tens": 10, "code": "a"}]


# -- a million rows in flat memory ---------------------------------------------------------------

_MILLION_READER = """
import resource, sys
from govern.plugins.sql_table.source import open_source
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
source = open_source(sys.argv[1], table="big", query=None, key=None, password=sys.argv[2])
count, last = 0, 0
for row in source.rows():
    count += 1
    assert row["id"] > last
    last = row["id"]
source.close()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, before, after)
"""


def test_a_million_row_table_streams_in_flat_memory(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE big (id int, label text, amount numeric)")
        setup.execute("INSERT INTO big SELECT g, md5(g::text), g * 1.25 FROM generate_series(1, 1000000) g")
        setup.execute("ALTER TABLE big ADD PRIMARY KEY (id)")
    done = subprocess.run(
        [sys.executable, "-c", _MILLION_READER, postgres.dsn(database), PASSWORD],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    assert done.returncode == 0, done.stderr
    count, before_kib, after_kib = map(int, done.stdout.split())
    assert count == 1_000_000
    # Holding the rows (a fetchall, or a client-side cursor) costs ~400 MiB of peak memory;
    # streaming them FETCH_ROWS at a time costs a few MiB whatever the table's size.
    assert after_kib - before_kib < 48 * 1024, (before_kib, after_kib)


# -- refusals ----------------------------------------------------------------------------------


def _one_line_without_secret(error: GovernError, secret: str) -> None:
    assert "\n" not in str(error) and secret not in str(error)


def test_an_unreachable_server_is_one_line_naming_the_dsn_without_the_password(postgres) -> None:
    database = postgres.fresh_database()
    wrong_port = postgres.dsn(database, port=1)
    error = _refusal(postgres, database, dsn=wrong_port, table="t")
    assert error.code == "E_SQL_UNREACHABLE" and error.exit_code == ExitCode.USAGE == ERROR_CODES["E_SQL_UNREACHABLE"].exit_code
    assert str(error).startswith(f"{wrong_port}: cannot connect: ") and "Connection refused" in str(error)
    _one_line_without_secret(error, PASSWORD)
    for wrong_password in ("not-the-password", None):
        error = _refusal(postgres, database, password=wrong_password, table="t")
        assert error.code == "E_SQL_UNREACHABLE" and str(error).startswith(f"{postgres.dsn(database)}: cannot connect: ")
        _one_line_without_secret(error, wrong_password or PASSWORD)


def test_a_password_inside_the_dsn_is_refused_and_never_repeated(postgres) -> None:
    database = postgres.fresh_database()
    dsn = postgres.dsn(database).replace("govern@", f"govern:{PASSWORD}@")
    error = _refusal(postgres, database, dsn=dsn, password=None, table="t")
    assert error.code == "E_SQL_PASSWORD_IN_DSN" and "password_env" in str(error)
    _one_line_without_secret(error, PASSWORD)


def test_a_missing_table_and_a_failing_query_are_refused(postgres) -> None:
    database = postgres.fresh_database()
    error = _refusal(postgres, database, table="absent")
    assert (error.code, str(error)) == ("E_SQL_TABLE_MISSING", f"{postgres.dsn(database)}: no table 'absent'")
    error = _refusal(postgres, database, query="SELECT x FROM absent", key=["x"])
    assert error.code == "E_SQL_TABLE_MISSING" and 'relation "absent" does not exist' in str(error) and "\n" not in str(error)


def test_a_table_without_a_primary_key_needs_a_configured_key(postgres) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE heap (a int, b text)")
    error = _refusal(postgres, database, table="heap")
    assert (error.code, str(error)) == ("E_SQL_NO_KEY", f"{postgres.dsn(database)}: table 'heap' has no primary key; configure key = [\"column\", ...]")
    error = _refusal(postgres, database, table="heap", key=["c"])
    assert error.code == "E_SQL_NO_KEY" and "'c' is not a column of table 'heap'" in str(error)
    error = _refusal(postgres, database, query="SELECT 1 AS one", key=None)
    assert error.code == "E_SQL_NO_KEY"
