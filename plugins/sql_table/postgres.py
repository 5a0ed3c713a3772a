"""The PostgreSQL engine of the ``sql_table`` kind (psycopg 3).

One connection, one transaction: ``REPEATABLE READ, READ ONLY``, begun by :func:`open_postgres`
and ended by :meth:`PostgresSource.close`. Every statement of the read (the catalog, the
snapshot id, the rows) sees the database as of the transaction's first statement, so a
snapshot never holds half of another connection's transaction. Rows stream through a
server-side (named) cursor, :data:`FETCH_ROWS` at a time: memory stays flat however large the
table.

Values in their JSON forms (docs/registry-kinds.md, "Row values"), converted by the server
where PostgreSQL's own text is the exact form and by :func:`json_value` otherwise:

- ``smallint``/``integer``/``bigint`` → JSON integers; ``boolean`` → true/false;
- ``real``/``double precision`` → JSON numbers when finite, else ``"NaN"``, ``"Infinity"``,
  ``"-Infinity"``;
- ``numeric`` → its exact decimal text (``"12.50"``, never a float), ``uuid`` its text;
- ``timestamp with time zone`` → UTC, ``"2024-03-01T12:00:00.000000Z"``; ``timestamp
  without time zone`` → the same without ``Z`` (it names no zone, so none is invented);
  always six fractional digits, so that the text sorts as the times do; ``date`` →
  ``"2024-03-01"``; ``infinity`` / ``-infinity`` as those words;
- ``bytea`` → ``{"$base64": …}``; ``json``/``jsonb`` → the JSON value; arrays → JSON arrays
  of their elements' forms; text types → strings;
- any other type (interval, time, inet, money, ranges, geometry…) → PostgreSQL's text for it
  (``IntervalStyle`` ``iso_8601``, ``DateStyle`` ISO, ``TimeZone`` UTC for the read).

Rows come in :func:`~govern.plugins.sql_table.source.key_order`: text keys are ordered
``COLLATE "C"`` (code point order), a key whose JSON form is PostgreSQL's text of the value
(``numeric``, ``uuid``, other types) by that text, NULLs first.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from govern.errors import GovernError
from govern.plugins.sql_table.source import Column, dsn_password_problem, json_bytes, json_float, redacted_dsn

#: Rows fetched from the server-side cursor at a time (memory stays flat).
FETCH_ROWS = 2000
#: Seconds to wait for the server to answer a connection.
CONNECT_TIMEOUT_S = 10
#: The relation kinds a registry's table may be: table, view, materialized view, partitioned
#: table, foreign table.
READABLE_RELKINDS = ("r", "v", "m", "p", "f")

#: How each kind of column is read: ``native`` as psycopg loads it, ``text`` as PostgreSQL's
#: text of the value, or one of the time formats; keyed by the (base) type's name.
_NATIVE_TYPES = frozenset({"int2", "int4", "int8", "bool", "float4", "float8", "text", "varchar", "bpchar", "name", "bytea", "json", "jsonb"})
_TIMESTAMPTZ_SQL = """CASE WHEN isfinite({col}) THEN to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE {col}::text END"""
_TIMESTAMP_SQL = """CASE WHEN isfinite({col}) THEN to_char({col}, 'YYYY-MM-DD"T"HH24:MI:SS.US') ELSE {col}::text END"""
#: Session settings of the read: the text forms above depend on them.
_SESSION_SETTINGS = {"TimeZone": "UTC", "DateStyle": "ISO, YMD", "IntervalStyle": "iso_8601", "extra_float_digits": "3"}

_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, base.typname, base.typcategory, a.attcollation <> 0
FROM pg_attribute a
JOIN pg_type declared ON declared.oid = a.atttypid
JOIN pg_type base ON base.oid = CASE WHEN declared.typtype = 'd' THEN declared.typbasetype ELSE declared.oid END
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_TYPES_SQL = """
SELECT declared.oid, format_type(declared.oid, NULL), base.typname, base.typcategory, base.typcollation <> 0
FROM pg_type declared
JOIN pg_type base ON base.oid = CASE WHEN declared.typtype = 'd' THEN declared.typbasetype ELSE declared.oid END
WHERE declared.oid = ANY(%s)
"""
_PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY k.position
"""
# pg_current_snapshot() is the transaction's snapshot (xmin:xmax:xip) under REPEATABLE READ; the
# WAL position says where in the server's history that is (a standby reports its replay point).
_SNAPSHOT_SQL = """
SELECT pg_current_snapshot()::text,
       (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text
"""


def json_value(value: Any) -> Any:
    """A value psycopg loaded, in its JSON form (recursing into arrays)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return json_bytes(bytes(value))
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return _iso_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value  # json/jsonb: already a JSON value


def _iso_datetime(value: datetime.datetime) -> str:
    """A timestamp inside an array: the form of a timestamp column (UTC with ``Z`` when it has a zone)."""
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _ColumnReading:
    """How one column is selected, ordered (as a key) and converted to its JSON form."""

    def __init__(self, column: Column, *, base_type: str, category: str, collatable: bool) -> None:
        self.column = column
        self.base_type = base_type
        if base_type == "timestamptz":
            self.select_template, self.order_as_text = _TIMESTAMPTZ_SQL, False
        elif base_type == "timestamp":
            self.select_template, self.order_as_text = _TIMESTAMP_SQL, False
        elif base_type == "date":
            self.select_template, self.order_as_text = "{col}::text", False  # fixed width: text order is date order
        elif base_type in _NATIVE_TYPES or category == "A":
            self.select_template, self.order_as_text = "{col}", False
        else:  # numeric, uuid, enums (ordered by their text, not their declaration) and every
            # type without a JSON form of its own: PostgreSQL's text
            self.select_template, self.order_as_text = "{col}::text", True
        self.collatable = collatable
        #: None when psycopg's value is already the JSON form (ints, text, …): no call per row.
        self.convert: Callable[[Any], Any] | None = (
            json_value if base_type in ("float4", "float8", "bytea") or category == "A" else None
        )


class PostgresSource:
    """One ``REPEATABLE READ, READ ONLY`` transaction on a table (or query) of a PostgreSQL database."""

    def __init__(self, dsn: str, connection: Any, *, table: str | None, query: str | None, key: list[str] | None) -> None:
        from psycopg import sql

        self._sql = sql
        self._dsn = dsn
        self._connection: Any = connection
        self._table = table
        self._query = query
        if table is not None:
            self._source = self._table_source(table)
            readings, primary_key = self._table_columns(), self._primary_key()
        else:
            self._source = sql.SQL("({}) AS govern_query").format(sql.SQL(_strip_statement_end(query or "")))
            readings, primary_key = self._query_columns(), []
        self._readings = readings
        self._key = self._choose_key(key, primary_key)
        self._snapshot_id = self._read_snapshot_id()

    @property
    def _what(self) -> str:
        return f"table {self._table!r}" if self._table is not None else "the query"

    def _open_connection(self) -> Any:
        if self._connection is None:
            raise GovernError("E_INTERNAL", f"{self._dsn}: the read is already closed")
        return self._connection

    def _table_source(self, table: str) -> Any:
        """The table's name as SQL, after checking it names a readable relation (E_SQL_TABLE_MISSING)."""
        sql = self._sql
        # "schema.table" names a table of that schema; a bare name is looked up on the search path.
        schema, dot, name = table.rpartition(".")
        identifier = sql.Identifier(schema, name) if dot else sql.Identifier(name)
        connection = self._open_connection()
        found = connection.execute(
            "SELECT c.oid, c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", (identifier.as_string(connection),)
        ).fetchone()
        if found is None or found[1] not in READABLE_RELKINDS:
            raise GovernError("E_SQL_TABLE_MISSING", f"{self._dsn}: no table {table!r}")
        self._relation_oid = found[0]
        return identifier

    def _table_columns(self) -> list[_ColumnReading]:
        rows = self._open_connection().execute(_COLUMNS_SQL, (self._relation_oid,)).fetchall()
        return [
            _ColumnReading(Column(name=name, type=declared, nullable=nullable), base_type=base, category=category, collatable=collatable)
            for name, declared, nullable, base, category, collatable in rows
        ]

    def _primary_key(self) -> list[str]:
        return [row[0] for row in self._open_connection().execute(_PRIMARY_KEY_SQL, (self._relation_oid,)).fetchall()]

    def _query_columns(self) -> list[_ColumnReading]:
        """The result columns of the query (described without reading a row); their types from the catalog."""
        import psycopg

        connection = self._open_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(self._sql.SQL("SELECT * FROM {} LIMIT 0").format(self._source))
                described = [(entry.name, entry.type_code) for entry in cursor.description or ()]
        except psycopg.OperationalError as exc:
            raise GovernError("E_SQL_UNREACHABLE", f"{self._dsn}: reading the query failed: {_one_line(exc)}") from None
        except psycopg.Error as exc:
            raise GovernError("E_SQL_TABLE_MISSING", f"{self._dsn}: the query fails: {_one_line(exc)}") from None
        types = {row[0]: row[1:] for row in connection.execute(_TYPES_SQL, ([oid for _, oid in described],)).fetchall()}
        readings = []
        for name, oid in described:
            declared, base, category, collatable = types.get(oid, ("unknown", "unknown", "X", False))
            # A query's result says nothing about NULLs: every column may hold one.
            column = Column(name=name, type=declared, nullable=True)
            readings.append(_ColumnReading(column, base_type=base, category=category, collatable=collatable))
        return readings

    def _choose_key(self, configured: list[str] | None, primary_key: list[str]) -> list[str]:
        if configured:
            names = {reading.column.name for reading in self._readings}
            for name in configured:
                if name not in names:
                    raise GovernError("E_SQL_NO_KEY", f"{self._dsn}: key column {name!r} is not a column of {self._what}")
            return list(configured)
        if not primary_key:
            raise GovernError("E_SQL_NO_KEY", f"{self._dsn}: {self._what} has no primary key; configure key = [\"column\", ...]")
        return primary_key

    def _read_snapshot_id(self) -> str:
        xip_snapshot, lsn = self._open_connection().execute(_SNAPSHOT_SQL).fetchone()
        return f"pg_snapshot:{xip_snapshot} lsn:{lsn}"

    def columns(self) -> list[Column]:
        """The columns, in table order (a query's: in its result's order)."""
        return [reading.column for reading in self._readings]

    def key(self) -> list[str]:
        """The configured key, else the primary key (from ``pg_index``)."""
        return list(self._key)

    def _select_statement(self) -> Any:
        sql = self._sql
        by_name = {reading.column.name: reading for reading in self._readings}
        selected = sql.SQL(", ").join(
            sql.SQL(reading.select_template).format(col=sql.Identifier(reading.column.name)) for reading in self._readings
        )
        order = []
        for name in self._key:
            reading = by_name[name]
            expression: Any = sql.Identifier(name)
            if reading.order_as_text:
                expression = sql.SQL('({}::text) COLLATE "C"').format(expression)
            elif reading.collatable:
                expression = sql.SQL('{} COLLATE "C"').format(expression)
            order.append(sql.SQL("{} NULLS FIRST").format(expression))
        return sql.SQL("SELECT {} FROM {} ORDER BY {}").format(selected, self._source, sql.SQL(", ").join(order))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row in key order, streamed through a server-side cursor :data:`FETCH_ROWS` at a time."""
        import psycopg

        connection = self._open_connection()
        names = [reading.column.name for reading in self._readings]
        converters = [(index, reading.convert) for index, reading in enumerate(self._readings) if reading.convert is not None]
        try:
            with connection.cursor(name="govern_snapshot") as cursor:
                cursor.itersize = FETCH_ROWS
                cursor.execute(self._select_statement())
                for record in cursor:
                    if converters:
                        values = list(record)
                        for index, convert in converters:
                            if values[index] is not None:
                                values[index] = convert(values[index])
                        record = values
                    yield dict(zip(names, record))
        except psycopg.Error as exc:
            raise GovernError("E_SQL_UNREACHABLE", f"{self._dsn}: reading {self._what} failed: {_one_line(exc)}") from None

    def snapshot_id(self) -> str:
        """The read's transaction snapshot and WAL position: ``pg_snapshot:XMIN:XMAX:XIP lsn:LSN``."""
        return self._snapshot_id

    def close(self) -> None:
        """End the read transaction (a rollback: it wrote nothing) and the connection (safe twice)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                if not connection.closed:
                    connection.rollback()
            finally:
                connection.close()


def _strip_statement_end(query: str) -> str:
    """``query`` without the ``;`` that may end it (it is wrapped as a subquery)."""
    return query.strip().rstrip(";").rstrip()


def _one_line(error: BaseException, *, secret: str | None = None) -> str:
    """A driver's error message on one line (libpq's span several), never holding ``secret``."""
    text = "; ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__
    return text.replace(secret, "***") if secret else text


def open_postgres(dsn: str, *, table: str | None, query: str | None, key: list[str] | None, password: str | None) -> PostgresSource:
    """Connect to ``dsn`` with ``password`` and begin the ``REPEATABLE READ, READ ONLY`` read of
    ``table`` (or ``query``) (E_SQL_PASSWORD_IN_DSN, E_SQL_UNREACHABLE, E_SQL_TABLE_MISSING,
    E_SQL_NO_KEY)."""
    problem = dsn_password_problem(dsn)
    if problem:
        raise GovernError("E_SQL_PASSWORD_IN_DSN", f"{redacted_dsn(dsn)}: {problem}")
    import psycopg

    try:
        connection = psycopg.connect(dsn, password=password, connect_timeout=CONNECT_TIMEOUT_S, application_name="govern snapshot")
    except psycopg.Error as exc:
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: cannot connect: {_one_line(exc, secret=password)}") from None
    try:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        # The first statement begins the transaction; the settings are the read's text forms.
        for name, value in _SESSION_SETTINGS.items():
            connection.execute("SELECT set_config(%s, %s, false)", (name, value))
        return PostgresSource(dsn, connection, table=table, query=query, key=key)
    except psycopg.Error as exc:
        connection.close()
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: cannot begin the read: {_one_line(exc, secret=password)}") from None
    except BaseException:
        connection.close()
        raise
