"""A ``sql_table`` registry's settings, and writing its snapshot run.

A snapshot run (docs/registry-kinds.md, "sql_table") holds the folder ``table/`` — the
registry's artifact: ``table/schema.json`` (columns, key, source) and the rows in key order as
canonical JSONL parts ``table/rows-00000.jsonl``, ``rows-00001.jsonl``… — and run.json naming
the registry and the source. Rows stream from the database to the parts: memory holds one row
at a time whatever the table's size.

Where a part ends is decided by each row alone (content-defined boundaries), so that a row
inserted, deleted or changed moves no boundary but its own and a change touches few parts —
a count of bytes would shift every later boundary. A part ends after a row when

    H(key) / 2**64 < len(line) / part_bytes

where ``H(key)`` is the first 8 bytes (big-endian) of the BLAKE2b digest of the row's key values
as a canonical JSON array (``[1]``, ``["auc","eu"]``) and ``line`` the row's JSONL line: each
byte written ends a part with probability ``1 / part_bytes``, so parts are ``part_bytes`` long
on average, and a row's key alone says whether a part ends after it. Parts stay bounded: a part
that reaches :data:`PART_CAP_FACTOR` × ``part_bytes`` ends after that row whatever its key (a
new part forced, the only boundary that depends on the rows before it — rare: a part reaches
four times its expected size with probability about e⁻⁴).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError
from govern.format.envelope import make_envelope
from govern.format.jsonio import dump_canonical, dump_jsonl_line
from govern.plugins.sql_table.source import (
    POSTGRES_SCHEMES,
    SQLITE_SCHEME,
    TableSource,
    dsn_password_problem,
    dsn_scheme,
    key_order,
    open_source,
)
from govern.runtime import environment
from govern.runtime.progress import Progress

KIND = "sql_table"
#: The registry's artifact in a snapshot run: a folder.
ARTIFACT = "table"
SCHEMA_PATH = f"{ARTIFACT}/schema.json"
PART_PREFIX = f"{ARTIFACT}/rows-"
PART_SUFFIX = ".jsonl"
#: The default expected size of a part.
DEFAULT_PART_BYTES = 8 * 1024 * 1024
#: A part that reaches this many times ``part_bytes`` ends after that row, whatever its key.
PART_CAP_FACTOR = 4
#: The run.json member naming the registry a snapshot run is of.
REGISTRY_PARAM = "registry_id"


@attrs.frozen
class TableSettings:
    """What a ``sql_table`` registry configures, checked."""

    dsn: str
    password_env: str | None
    table: str | None
    query: str | None
    key: list[str] | None
    part_bytes: int

    @property
    def driver(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return SQLITE_SCHEME if dsn_scheme(self.dsn) == SQLITE_SCHEME else "postgresql"


def table_settings(registry: Registry, workspace: Workspace) -> TableSettings:
    """The registry's settings; E_SQL_PASSWORD_IN_DSN for a password in ``dsn``,
    E_CONFIG_INVALID (naming the key) for anything else wrong."""
    config = registry.config
    where = f"{workspace.config_path}: registries.{registry.id}"
    if config.dsn is None:
        raise GovernError("E_CONFIG_INVALID", f"{where}.dsn: required for kind {KIND!r}")
    problem = dsn_password_problem(config.dsn)
    if problem:
        raise GovernError("E_SQL_PASSWORD_IN_DSN", f"{where}.dsn: {problem}")
    if dsn_scheme(config.dsn) not in (SQLITE_SCHEME, *POSTGRES_SCHEMES):
        raise GovernError("E_CONFIG_INVALID", f"{where}.dsn: {config.dsn!r} is not sqlite:///path or postgresql://user@host:port/db")
    if (config.table is None) == (config.query is None):
        raise GovernError("E_CONFIG_INVALID", f"{where}: give exactly one of table and query")
    if config.query is not None and not config.key:
        raise GovernError("E_SQL_NO_KEY", f"{where}.key: a query has no primary key; configure key = [\"column\", ...]")
    if config.key is not None and (not config.key or len(set(config.key)) != len(config.key)):
        raise GovernError("E_CONFIG_INVALID", f"{where}.key: expected a non-empty list of distinct column names")
    part_bytes = DEFAULT_PART_BYTES if config.part_bytes is None else config.part_bytes
    if part_bytes < 1:
        raise GovernError("E_CONFIG_INVALID", f"{where}.part_bytes: must be 1 or more")
    if config.artifact not in (None, ARTIFACT):
        raise GovernError("E_CONFIG_INVALID", f"{where}.artifact: a {KIND} snapshot's artifact is always {ARTIFACT!r}; leave it out")
    return TableSettings(config.dsn, config.password_env, config.table, config.query, config.key, part_bytes)


def connection_dsn(settings: TableSettings, workspace: Workspace) -> str:
    """The DSN to open: an SQLite path relative to the workspace made absolute."""
    if settings.driver == SQLITE_SCHEME:
        path = settings.dsn[len("sqlite:///") :]
        if path and not path.startswith("/"):
            return "sqlite:///" + str((workspace.root / path).absolute())
    return settings.dsn


def database_password(settings: TableSettings, registry: Registry, workspace: Workspace) -> str | None:
    """The password from the variable ``password_env`` names (E_SQL_UNREACHABLE when unset)."""
    if settings.password_env is None:
        return None
    password = environment.current().get(settings.password_env)
    if password is None:
        raise GovernError(
            "E_SQL_UNREACHABLE",
            f"{workspace.config_path}: registries.{registry.id}.password_env: the variable {settings.password_env} is not set",
        )
    return password


def snapshot_run_id(clock: dt.datetime, registry_id: str) -> str:
    """``YYYY-MM-DD__HHMMSS__<registry id>`` from the clock."""
    return f"{clock:%Y-%m-%d__%H%M%S}__{registry_id}"


def part_path(index: int) -> str:
    """The path of rows part ``index`` in a snapshot run."""
    return f"{PART_PREFIX}{index:05d}{PART_SUFFIX}"


@attrs.frozen
class TableWritten:
    """What :func:`write_table` wrote: rows, parts, and the schema document."""

    rows: int
    parts: int
    schema: dict[str, Any]


def ends_part(key_json: bytes, line_bytes: int, part_bytes: int) -> bool:
    """Whether a part ends after a row of key ``key_json`` (canonical JSON array of its key
    values) and line length ``line_bytes``: ``H(key) / 2**64 < line_bytes / part_bytes`` in
    integers, ``H`` the first 8 bytes (big-endian) of the key's BLAKE2b digest — deterministic,
    unlike Python's ``hash()``."""
    key_hash = int.from_bytes(hashlib.blake2b(key_json, digest_size=8).digest(), "big")
    return key_hash * part_bytes < line_bytes << 64


class PartBoundaries:
    """Where the parts of a snapshot end: after a row :func:`ends_part` chooses, or once a part
    reaches its cap of :data:`PART_CAP_FACTOR` × ``part_bytes``."""

    def __init__(self, part_bytes: int) -> None:
        self._part_bytes = part_bytes
        self._cap = PART_CAP_FACTOR * part_bytes
        self._written = 0

    def ends_after(self, key_json: bytes, line_bytes: int) -> bool:
        """Whether the current part ends after this row (the next row then starts a new one)."""
        self._written += line_bytes
        if self._written >= self._cap or ends_part(key_json, line_bytes, self._part_bytes):
            self._written = 0
            return True
        return False


class _Parts:
    """The rows parts of a snapshot, written one after the other, each fsynced when done."""

    def __init__(self, folder: Path, part_bytes: int) -> None:
        self._folder = folder
        self._boundaries = PartBoundaries(part_bytes)
        self._handle: BinaryIO | None = None
        self.count = 0

    def write(self, line: bytes, key_json: bytes) -> None:
        if self._handle is None:
            self._handle = (self._folder / part_path(self.count)).open("xb")
            self.count += 1
        self._handle.write(line)
        if self._boundaries.ends_after(key_json, len(line)):
            self.close()

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()


#: Types of values that are, or may hold, a float: only those need the standard library's float text.
_MAY_HOLD_FLOATS = frozenset({float, dict, list})


def _may_hold_floats(values: Iterable[Any]) -> bool:
    # A set test over the values' types runs in C: a generator over them was a tenth of a
    # snapshot's time.
    return not _MAY_HOLD_FLOATS.isdisjoint(map(type, values))


def row_line(row: dict[str, Any]) -> bytes:
    """The row's canonical JSONL line. A row with no float anywhere in it is written by orjson
    (``floats=False``: the same bytes, several times faster — most of a large snapshot's time
    was this serialisation); one with a float, or a JSON value that may hold one, by the
    standard library, whose float text is the canonical one."""
    return dump_jsonl_line(row, floats=_may_hold_floats(row.values()))


def key_json(values: list[Any]) -> bytes:
    """The canonical JSON array of a row's key values (no newline): what :func:`ends_part` hashes."""
    return dump_jsonl_line(values, floats=_may_hold_floats(values))[:-1]


def write_table(folder: Path, source: TableSource, describe: dict[str, Any], part_bytes: int, progress: Progress) -> TableWritten:
    """Stream ``source``'s rows into ``folder/table/`` in parts of about ``part_bytes`` (the
    content-defined boundaries of the module's docstring) and
    write ``schema.json`` (``describe``: the schema's ``source`` member, without ``rows`` and
    ``snapshot_id``, which are added). Two rows with the same key are E_SQL_KEY_NOT_UNIQUE."""
    columns = source.columns()
    key = source.key()
    (folder / ARTIFACT).mkdir()
    parts = _Parts(folder, part_bytes)
    count = 0
    previous: tuple[tuple[int, Any], ...] | None = None
    previous_values: list[Any] = []
    progress.start(0, "rows read")
    try:
        for row in source.rows():
            values = [row[name] for name in key]
            order = key_order(values)
            if previous is not None and order <= previous:
                if order == previous:
                    raise GovernError.found(
                        "E_SQL_KEY_NOT_UNIQUE",
                        f"key ({', '.join(key)}) is not unique: two rows have {dump_jsonl_line(values).decode().strip()}",
                    )
                raise GovernError(
                    "E_INTERNAL",
                    f"the database returned key {values!r} after {previous_values!r}: not in key order (docs/registry-kinds.md, \"Row order\")",
                )
            previous, previous_values = order, values
            parts.write(row_line(row), key_json(values))
            count += 1
            if count % 10000 == 0:
                progress.advance(10000)
    finally:
        parts.close()
    schema = {
        "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in columns],
        "key": key,
        "source": {**describe, "rows": count, "snapshot_id": source.snapshot_id()},
    }
    (folder / SCHEMA_PATH).write_bytes(dump_canonical(schema))
    return TableWritten(count, parts.count, schema)


def take_snapshot(registry: Registry, workspace: Workspace, clock: dt.datetime, progress: Progress, op_id: str | None) -> Path:
    """Read the registry's table in one transaction and write it as a new sealed run
    (:func:`govern.runs.new_run.write_new_run`: nothing is left of it on any error); its folder."""
    from govern.runs.new_run import write_new_run

    settings = table_settings(registry, workspace)
    run_id = snapshot_run_id(clock, registry.id)
    password = database_password(settings, registry, workspace)
    describe: dict[str, Any] = {"driver": settings.driver, "dsn": settings.dsn}
    describe.update({"table": settings.table} if settings.table is not None else {"query": settings.query})
    source = _open(settings, registry, workspace, password)

    def fill(folder: Path) -> dict[str, Any]:
        written = write_table(folder, source, describe, settings.part_bytes, progress)
        return make_envelope(
            run_id,
            op_id=op_id,
            clock=clock,
            inputs={"source": written.schema["source"]},
            outputs={"artifact": ARTIFACT, "rows": written.rows, "parts": written.parts},
            params={REGISTRY_PARAM: registry.id},
        )

    try:
        return write_new_run(workspace, run_id, fill, progress)
    except GovernError as error:
        if error.code.startswith("E_SQL_") and not error.message.startswith("registries."):
            raise _named(error, registry) from None
        raise
    finally:
        source.close()


def _named(error: GovernError, registry: Registry) -> GovernError:
    """``error`` with the registry named first (the exit code kept: a finding stays exit 1)."""
    named = GovernError(error.code, f"registries.{registry.id}: {error.message}")
    named.exit_code = error.exit_code
    return named


def _open(settings: TableSettings, registry: Registry, workspace: Workspace, password: str | None) -> TableSource:
    """Open the source, naming the registry (and the DSN as configured) in any refusal."""
    dsn = connection_dsn(settings, workspace)
    try:
        return open_source(dsn, table=settings.table, query=settings.query, key=settings.key, password=password)
    except GovernError as error:
        raise _named(GovernError(error.code, error.message.replace(dsn, settings.dsn)), registry) from None
