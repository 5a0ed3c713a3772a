"""The SQLite engine of the ``sql_table`` kind (standard library :mod:`sqlite3`).

The file is opened read-only (``mode=ro``: govern never creates or changes a database), and
the whole read is one read transaction begun at open: in WAL mode a writer goes on and this
read sees the database as of its start; in rollback-journal mode a writer waits for it. Key
columns are ordered ``COLLATE BINARY`` whatever collation the table declares, which is
:func:`~govern.plugins.sql_table.source.key_order`'s order for text. SQLite has no durable
transaction id, so :meth:`SqliteSource.snapshot_id` is None.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govern.errors import GovernError
from govern.plugins.sql_table.source import Column, json_bytes, json_float

#: How long a read waits for a writer holding the database's lock (rollback-journal mode).
BUSY_TIMEOUT_SECONDS = 30.0
#: Rows fetched from SQLite at a time (memory stays flat however large the table).
FETCH_ROWS = 1000
DSN_PREFIX = "sqlite:///"


def quote_identifier(name: str) -> str:
    """``name`` as an SQL identifier (double quotes, inner quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sqlite_path(dsn: str) -> Path:
    """The database file a ``sqlite:///path`` DSN names (``sqlite:////abs`` is absolute)."""
    if not dsn.startswith(DSN_PREFIX) or len(dsn) == len(DSN_PREFIX):
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: not an SQLite DSN (expected sqlite:///relative/path or sqlite:////absolute/path)")
    return Path(dsn[len(DSN_PREFIX) :])


def json_value(value: Any) -> Any:
    """A value SQLite returned, in its JSON form (INTEGER, REAL, TEXT, BLOB, NULL)."""
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, bytes):
        return json_bytes(value)
    return value


class SqliteSource:
    """One read transaction on a table (or query) of an SQLite file."""

    def __init__(self, dsn: str, connection: sqlite3.Connection, *, table: str | None, query: str | None, key: list[str] | None) -> None:
        self._dsn = dsn
        self._connection: sqlite3.Connection | None = connection
        self._table = table
        self._query = query
        self._columns = self._read_columns()
        self._key = self._choose_key(key)

    @property
    def _what(self) -> str:
        return f"table {self._table!r}" if self._table is not None else "the query"

    def _source_sql(self) -> str:
        if self._table is not None:
            return quote_identifier(self._table)
        return f"({self._query})"

    def _read_columns(self) -> list[Column]:
        connection = self._open_connection()
        if self._table is not None:
            found = connection.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (self._table,)).fetchone()
            if found is None:
                raise GovernError("E_SQL_TABLE_MISSING", f"{self._dsn}: no table {self._table!r}")
            info = connection.execute(f"PRAGMA table_info({quote_identifier(self._table)})").fetchall()
            self._primary_key = [row[1] for row in sorted((row for row in info if row[5]), key=lambda row: row[5])]
            return [Column(name=row[1], type=row[2] or "", nullable=not row[3] and not self._is_rowid_alias(row)) for row in info]
        self._primary_key = []
        try:
            cursor = connection.execute(f"SELECT * FROM {self._source_sql()} LIMIT 0")
        except sqlite3.Error as exc:
            raise GovernError("E_SQL_TABLE_MISSING", f"{self._dsn}: the query fails: {exc}") from None
        return [Column(name=entry[0], type="", nullable=True) for entry in cursor.description]

    @staticmethod
    def _is_rowid_alias(row: tuple[Any, ...]) -> bool:
        # An INTEGER PRIMARY KEY is the rowid: never NULL, whatever NOT NULL says.
        return bool(row[5]) and str(row[2]).upper() == "INTEGER"

    def _choose_key(self, configured: list[str] | None) -> list[str]:
        if configured:
            names = {column.name for column in self._columns}
            for name in configured:
                if name not in names:
                    raise GovernError("E_SQL_NO_KEY", f"{self._dsn}: key column {name!r} is not a column of {self._what}")
            return list(configured)
        if not self._primary_key:
            raise GovernError("E_SQL_NO_KEY", f"{self._dsn}: {self._what} has no primary key; configure key = [\"column\", ...]")
        return self._primary_key

    def _open_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise GovernError("E_INTERNAL", f"{self._dsn}: the read is already closed")
        return self._connection

    def columns(self) -> list[Column]:
        """The columns, in table order."""
        return list(self._columns)

    def key(self) -> list[str]:
        """The configured key, else the primary key."""
        return list(self._key)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row in key order (``COLLATE BINARY``), fetched :data:`FETCH_ROWS` at a time."""
        connection = self._open_connection()
        order = ", ".join(f"{quote_identifier(name)} COLLATE BINARY" for name in self._key)
        names = [column.name for column in self._columns]
        selected = ", ".join(quote_identifier(name) for name in names)
        try:
            cursor = connection.execute(f"SELECT {selected} FROM {self._source_sql()} ORDER BY {order}")
            while batch := cursor.fetchmany(FETCH_ROWS):
                for row in batch:
                    yield {name: json_value(value) for name, value in zip(names, row, strict=True)}
        except sqlite3.Error as exc:
            raise GovernError("E_SQL_UNREACHABLE", f"{self._dsn}: reading {self._what} failed: {exc}") from None

    def snapshot_id(self) -> str | None:
        """None: SQLite has no durable transaction id."""
        return None

    def close(self) -> None:
        """End the read transaction and close the file."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.rollback()  # a read transaction: nothing to commit
            finally:
                connection.close()


def open_sqlite(dsn: str, *, table: str | None, query: str | None, key: list[str] | None) -> SqliteSource:
    """Open ``dsn``'s file read-only and begin the read transaction (E_SQL_UNREACHABLE,
    E_SQL_TABLE_MISSING, E_SQL_NO_KEY)."""
    path = sqlite_path(dsn)
    if not path.is_file():
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: cannot open the database file {path} (no such file)")
    try:
        connection = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: cannot open the database file {path}: {exc}") from None
    try:
        connection.execute("BEGIN")
        # The first read starts the transaction's snapshot: everything after sees this state.
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        connection.close()
        raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: cannot read the database file {path}: {exc}") from None
    try:
        return SqliteSource(dsn, connection, table=table, query=query, key=key)
    except BaseException:
        connection.close()
        raise
