"""Reading a database table: the seam between the ``sql_table`` kind and its engines.

An engine (SQLite in :mod:`govern.plugins.sql_table.sqlite`, PostgreSQL in
:mod:`govern.plugins.sql_table.postgres`) implements :class:`TableSource`; :func:`open_source`
picks it by the DSN's scheme. The whole read is ONE transaction, opened by :func:`open_source`
and ended by :meth:`TableSource.close` (SQLite: a read transaction; PostgreSQL: REPEATABLE READ,
READ ONLY), so a snapshot never holds half of another connection's transaction.

Values reach the snapshot writer already in their JSON forms (docs/registry-kinds.md, "Row
values"): integers as JSON integers, exact decimals as strings, floats as JSON numbers only when
finite (else the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``), timestamps as UTC ISO-8601
with ``Z``, dates ISO, bytes as ``{"$base64": "..."}``, NULL as null, JSON columns as their
JSON value. Rows come in ascending :func:`key_order` of their key values: the order the
snapshot's parts are written in and the order ``row_diff`` merges two snapshots in.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import attrs

from govern.errors import GovernError

#: DSN schemes and the engine each one opens.
SQLITE_SCHEME = "sqlite"
POSTGRES_SCHEMES = ("postgresql", "postgres")


@attrs.frozen
class Column:
    """A column of a table (or of a query's result): its name, its declared type as the
    database spells it (``""`` when it declares none), and whether it may hold NULL."""

    name: str
    type: str
    nullable: bool


class TableSource(Protocol):
    """One consistent read of a table (or query), opened by :func:`open_source`."""

    def columns(self) -> list[Column]:
        """The columns, in table order."""

    def key(self) -> list[str]:
        """The key columns: the configured ``key``, else the primary key (``E_SQL_NO_KEY`` if none)."""

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row as ``{column: JSON value}``, in ascending :func:`key_order`, streamed."""

    def snapshot_id(self) -> str | None:
        """The database's own id of this read (transaction id, LSN), or None when it has none."""

    def close(self) -> None:
        """End the read transaction and the connection (safe to call twice)."""


def open_source(dsn: str, *, table: str | None, query: str | None, key: list[str] | None, password: str | None) -> TableSource:
    """Open one read transaction on the table ``table`` (or the result of ``query``) of ``dsn``.

    ``sqlite:///path`` opens an SQLite file read-only (a relative path is relative to the
    current directory; ``sqlite:////abs/path`` is absolute); ``postgresql://user@host:port/db``
    a PostgreSQL server with ``password``. A DSN holding a password is ``E_SQL_PASSWORD_IN_DSN``;
    a database that cannot be opened ``E_SQL_UNREACHABLE``; a missing table
    ``E_SQL_TABLE_MISSING``.
    """
    problem = dsn_password_problem(dsn)
    if problem:
        raise GovernError("E_SQL_PASSWORD_IN_DSN", f"{redacted_dsn(dsn)}: {problem}")
    if (table is None) == (query is None):
        raise GovernError("E_USAGE", f"{dsn}: give exactly one of table and query")
    scheme = dsn_scheme(dsn)
    if scheme == SQLITE_SCHEME:
        from govern.plugins.sql_table.sqlite import open_sqlite

        return open_sqlite(dsn, table=table, query=query, key=key)
    if scheme in POSTGRES_SCHEMES:
        # Imported only for a PostgreSQL DSN: psycopg is needed only by those who use it.
        postgres = importlib.import_module("govern.plugins.sql_table.postgres")
        source: TableSource = postgres.open_postgres(dsn, table=table, query=query, key=key, password=password)
        return source
    raise GovernError("E_SQL_UNREACHABLE", f"{dsn}: unknown database scheme {scheme!r} (expected sqlite:/// or postgresql://)")


def dsn_scheme(dsn: str) -> str:
    """The scheme of ``dsn`` (``sqlite``, ``postgresql``…), lower-cased; ``""`` when it has none."""
    scheme, sep, _ = dsn.partition("://")
    return scheme.lower() if sep else ""


def dsn_password_problem(dsn: str) -> str | None:
    """Why ``dsn`` may not be used because it holds a password, or None.

    A DSN lives in ``registry_config.toml``, which is shared and committed: a password is
    only ever read from the variable ``password_env`` names.
    """
    try:
        parts = urlsplit(dsn)
        has_password = parts.password is not None
    except ValueError:
        return None  # not a URL at all: open_source reports that as unreachable
    if has_password or "password" in parse_qs(parts.query):
        return "holds a password; remove it and name the environment variable holding it in password_env"
    return None


def redacted_dsn(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***`` (for messages about a refused DSN)."""
    try:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
    except ValueError:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def json_float(value: float) -> float | str:
    """A float in its JSON form: itself when finite, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_bytes(value: bytes) -> dict[str, str]:
    """Bytes in their JSON form: ``{"$base64": standard base64}``."""
    return {"$base64": base64.b64encode(value).decode("ascii")}


def key_order(values: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    """The sort key of a row's key values (JSON forms), column by column.

    NULL sorts first, then numbers (by value), then strings (by code point, which is the
    order of their UTF-8 bytes: SQLite's ``BINARY`` collation, PostgreSQL's ``COLLATE "C"``),
    then bytes (by their bytes), then any other JSON value (by its canonical text). Engines
    deliver rows in this order; the snapshot writer checks it (it also finds duplicate keys so)
    and ``row_diff`` merges two snapshots by it.
    """
    return tuple([_value_order(value) for value in values])


#: The rank of a value of exactly these types (no bool: it is an int to ``isinstance``).
_PLAIN_RANKS: dict[type, int] = {int: 1, float: 1, str: 2}


def _value_order(value: Any) -> tuple[int, Any]:
    """:func:`_plain_value_order`, looked up by type for an int, a float or a string: most key
    values, taken in one dictionary look-up rather than a chain of ``isinstance`` (half of the
    time a snapshot spent checking its key order)."""
    rank = _PLAIN_RANKS.get(type(value))
    if rank is not None:
        return (rank, value)
    return _plain_value_order(value)


def _plain_value_order(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (4, "true" if value else "false")  # before int: a bool is an int in Python
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return (3, base64.b64decode(value["$base64"]))
    return (4, json.dumps(value, sort_keys=True, separators=(",", ":")))
