"""Issue 15 point 1: the ``sql_table`` kind — ``govern snapshot`` of a database table, its
snapshot runs, and the ``row_diff`` basis between them.

The behaviour tests take a ``driver`` fixture (a real database of that engine, with a way to
run SQL on it and the DSN a registry names it by): only SQLite here; PostgreSQL joins the
parametrisation with its engine. Snapshots are real runs in a temporary workspace, and the
refusals run the real ``govern`` console script.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from govern.plugins.sql_table.snapshot import PART_CAP_FACTOR
from govern.testing import ScratchWorkspace, make_run, seal_run
from helpers import tree_state

AT_1 = "2026-01-01T00:00:00Z"
AT_2 = "2026-01-02T00:00:00Z"
AT_BUILD = "2026-01-03T00:00:00Z"
#: A clock for the governance books: after the scaffold's (written now).
BOOKS_AT = "2099-01-01T00:00:00Z"
RUN_1 = "2026-01-01__000000__thresholds"
RUN_2 = "2026-01-02__000000__thresholds"


class SqliteDatabase:
    """A real SQLite file inside the workspace, named by a relative ``sqlite:///`` DSN."""

    name = "sqlite"

    def __init__(self, workspace_root: Path) -> None:
        self.path = workspace_root / "db" / "tables.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dsn = "sqlite:///db/tables.sqlite"

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def execute(self, *statements: str, rows: list[tuple[Any, ...]] | None = None) -> None:
        """Run ``statements`` in one transaction (the last one with ``rows`` as executemany)."""
        connection = self.connect()
        try:
            with connection:
                for index, statement in enumerate(statements):
                    if rows is not None and index == len(statements) - 1:
                        connection.executemany(statement, rows)
                    else:
                        connection.execute(statement)
        finally:
            connection.close()


DRIVERS = {"sqlite": SqliteDatabase}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteDatabase]:
    """A real database of each engine, in (or reached from) the test's workspace folder."""
    yield DRIVERS[request.param](tmp_path / "ws")


def table_workspace(root: Path, dsn: str, **registry: Any) -> ScratchWorkspace:
    """A workspace with the sql_table registry ``thresholds`` (record version 0.2: row_diff)."""
    table = {"kind": "sql_table", "dsn": dsn, "table": "thresholds", **registry}
    if "query" in registry:
        del table["table"]
    ws = ScratchWorkspace.create(root, {"thresholds": table})
    config = {
        "workspace": {"runs_root": ".codex/RUNS", "delta_log_artifact": "REGISTRY_DELTA_LOG_v0_1.jsonl", "record_version": "0.2"},
        "registries": ws.registries,
    }
    (root / "registry_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return ws


def written_state(root: Path) -> dict[bytes, tuple[Any, ...]]:
    """:func:`tree_state` of ``root`` but for the lock file (which a writer may leave: it is never a run)."""
    return {path: state for path, state in tree_state(root).items() if not path.endswith(b".govern.lock")}


def rows_of(run_dir: Path) -> list[dict[str, Any]]:
    """Every row of a snapshot run, part after part."""
    return [json.loads(line) for part in sorted((run_dir / "table").glob("rows-*.jsonl")) for line in part.read_text("utf-8").splitlines()]


def schema_of(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "table" / "schema.json").read_text("utf-8"))


def snapshot(ws: ScratchWorkspace, at: str, *args: str) -> Any:
    result = ws.cli("--json", "snapshot", "thresholds", "--at", at, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.json()["result"]


# --- rows between snapshots -----------------------------------------------------------------


def test_rows_inserted_updated_deleted_between_snapshots_are_exactly_those_keys(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute(
        "CREATE TABLE thresholds (metric TEXT PRIMARY KEY, warn REAL, fail REAL)",
        "INSERT INTO thresholds VALUES (?, ?, ?)",
        rows=[("auc", 0.7, 0.6), ("f1", 0.5, 0.4), ("recall", 0.8, 0.7), ("a b/c", 1.0, 2.0)],
    )
    first = snapshot(ws, AT_1)
    assert (first["run_id"], first["counts"]) == (RUN_1, {"parts": 1, "rows": 4})
    driver.execute(
        "UPDATE thresholds SET warn = 0.75 WHERE metric = 'auc'",
        "DELETE FROM thresholds WHERE metric = 'f1'",
        "INSERT INTO thresholds VALUES ('precision', 0.9, 0.8)",
    )
    snapshot(ws, AT_2)
    build = ws.cli("delta", "build", "--at", AT_BUILD)
    assert build.returncode == 0, build.stderr
    bootstrap, transition = ws.log_records()
    assert bootstrap["delta_basis"] == transition["delta_basis"] == "row_diff"
    # The key is percent-encoded (RFC 3986 unreserved kept): "a b/c" is one path segment.
    assert bootstrap["added_paths"] == ["rows/a%20b%2Fc", "rows/auc", "rows/f1", "rows/recall", "schema"]
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == (
        ["rows/precision"],
        ["rows/f1"],
        ["rows/auc"],
    )
    assert transition["counts"] == {"added": 1, "removed": 1, "modified": 1}
    assert transition["to_ref"]["relpath"] == "table"
    assert ws.cli("verify", "--all", "--log").returncode == 0


def test_a_schema_change_is_the_path_schema_modified(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY, warn REAL)", "INSERT INTO thresholds VALUES (?, ?)", rows=[("auc", 0.7)])
    snapshot(ws, AT_1)
    driver.execute("ALTER TABLE thresholds ADD COLUMN owner TEXT")
    snapshot(ws, AT_2)
    assert ws.cli("delta", "build", "--at", AT_BUILD).returncode == 0
    transition = ws.log_records()[1]
    # Every row gained the column: its value changed too.
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == ([], [], ["rows/auc", "schema"])


def test_a_key_change_is_unknown_with_the_reason(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY, pack TEXT)", "INSERT INTO thresholds VALUES (?, ?)", rows=[("auc", "p1")])
    snapshot(ws, AT_1)
    ws.registries["thresholds"]["key"] = ["pack"]
    table_workspace_config = ws.root / "registry_config.toml"
    table_workspace_config.write_text(table_workspace_config.read_text("utf-8").replace('table = "thresholds"', 'table = "thresholds"\nkey = ["pack"]'))
    snapshot(ws, AT_2)
    assert ws.cli("delta", "build", "--at", AT_BUILD).returncode == 0
    transition = ws.log_records()[1]
    assert transition["delta_basis"] == "unknown"
    assert transition["counts"] == {"added": None, "removed": None, "modified": None}
    assert "the key changed from (metric) to (pack)" in transition["unknown_reason"]


def test_a_snapshot_with_duplicate_keys_is_recorded_unknown_not_guessed(tmp_path: Path):
    """A sealed snapshot run whose rows repeat a key (not written by govern snapshot, which
    refuses them) cannot be compared by key: row_diff says so."""
    ws = table_workspace(tmp_path / "ws", "sqlite:///unused.sqlite")
    schema = {"columns": [{"name": "metric", "nullable": False, "type": "TEXT"}], "key": ["metric"], "source": {}}
    envelope = {"run_id": RUN_1, "op_id": None, "params": {"registry_id": "thresholds"}}
    run = make_run(
        ws.runs_root,
        RUN_1,
        {
            "run.json": json.dumps(envelope),
            "table/schema.json": json.dumps(schema),
            "table/rows-00000.jsonl": '{"metric":"auc"}\n{"metric":"auc"}\n',
        },
    )
    seal_run(run)
    assert ws.cli("delta", "build", "--at", AT_BUILD).returncode == 0
    (record,) = ws.log_records()
    assert record["delta_basis"] == "unknown"
    assert "key rows/auc is not unique" in record["unknown_reason"]


# --- values ---------------------------------------------------------------------------------


def test_values_round_trip_in_their_json_forms(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute(
        "CREATE TABLE thresholds (id INTEGER PRIMARY KEY, big INTEGER, ratio REAL, label TEXT, payload BLOB, amount TEXT, missing TEXT)",
        "INSERT INTO thresholds VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows=[
            (1, 2**62, 0.1, "Grüße, 世界 🚀\nline two", b"\x00\xff\x10", "0.1000000000000000055511151231257827", None),
            (2, -(2**63), float("inf"), "", b"", "-12345678901234567890.000000000001", None),
            (3, 0, -1.5e-300, "\"quoted\" \\ back", None, "1E+2", None),
        ],
    )
    result = snapshot(ws, AT_1)
    rows = rows_of(ws.runs_root / result["run_id"])
    assert rows == [
        {"id": 1, "big": 2**62, "ratio": 0.1, "label": "Grüße, 世界 🚀\nline two", "payload": {"$base64": "AP8Q"},
         "amount": "0.1000000000000000055511151231257827", "missing": None},
        {"id": 2, "big": -(2**63), "ratio": "Infinity", "label": "", "payload": {"$base64": ""},
         "amount": "-12345678901234567890.000000000001", "missing": None},
        {"id": 3, "big": 0, "ratio": -1.5e-300, "label": "\"quoted\" \\ back", "payload": None, "amount": "1E+2", "missing": None},
    ]  # fmt: skip
    schema = schema_of(ws.runs_root / result["run_id"])
    assert schema["key"] == ["id"]
    assert schema["columns"][0] == {"name": "id", "type": "INTEGER", "nullable": False}
    assert [column["type"] for column in schema["columns"]] == ["INTEGER", "INTEGER", "REAL", "TEXT", "BLOB", "TEXT", "TEXT"]
    assert schema["source"] == {"driver": driver.name, "dsn": driver.dsn, "table": "thresholds", "rows": 3, "snapshot_id": None}
    # Each line is canonical JSONL: compact, keys sorted, UTF-8.
    first_line = (ws.runs_root / result["run_id"] / "table" / "rows-00000.jsonl").read_bytes().split(b"\n")[0]
    assert first_line == json.dumps(rows[0], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_query_with_a_configured_key_is_a_registry(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn, query="SELECT metric, warn FROM thresholds WHERE warn > 0.5", key=["metric"])
    driver.execute("CREATE TABLE thresholds (metric TEXT, warn REAL)", "INSERT INTO thresholds VALUES (?, ?)", rows=[("b", 0.9), ("a", 0.7), ("c", 0.1)])
    result = snapshot(ws, AT_1)
    assert rows_of(ws.runs_root / result["run_id"]) == [{"metric": "a", "warn": 0.7}, {"metric": "b", "warn": 0.9}]
    assert schema_of(ws.runs_root / result["run_id"])["source"]["query"].startswith("SELECT metric")


def test_parts_are_bounded_and_split_only_between_rows(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn, part_bytes=100)
    driver.execute("CREATE TABLE thresholds (id INTEGER PRIMARY KEY, label TEXT)", "INSERT INTO thresholds VALUES (?, ?)", rows=[(i, "x" * 30) for i in range(20)])
    result = snapshot(ws, AT_1)
    parts = sorted((ws.runs_root / result["run_id"] / "table").glob("rows-*.jsonl"))
    assert [part.name for part in parts[:2]] == ["rows-00000.jsonl", "rows-00001.jsonl"]
    assert result["counts"] == {"parts": len(parts), "rows": 20}
    line = len('{"id":10,"label":"' + "x" * 30 + '"}\n')
    # A part ends where a row's key chooses, and at the latest once it reaches its cap.
    assert all(part.stat().st_size < PART_CAP_FACTOR * 100 + line and part.read_bytes().endswith(b"\n") for part in parts)
    assert [row["id"] for row in rows_of(ws.runs_root / result["run_id"])] == list(range(20))


def test_a_row_inserted_in_the_first_part_changes_only_the_part_it_lands_in(driver: SqliteDatabase):
    """Issue 15: parts are split "so that a change touches few parts". One row inserted near
    the start of a table of many parts leaves every other part byte for byte as it was (a split
    counting bytes moved every later boundary, so every part changed), and row_diff reads only
    the parts that differ."""
    ws = table_workspace(driver.path.parent.parent, driver.dsn, part_bytes=400)
    driver.execute(
        "CREATE TABLE thresholds (id INTEGER PRIMARY KEY, label TEXT)",
        "INSERT INTO thresholds VALUES (?, ?)",
        rows=[(i * 10, f"label of row {i}") for i in range(300)],
    )
    first = ws.runs_root / snapshot(ws, AT_1)["run_id"]
    driver.execute("INSERT INTO thresholds VALUES (5, 'a row inserted between the first two')")
    second = ws.runs_root / snapshot(ws, AT_2)["run_id"]
    before, after = part_hashes(first), part_hashes(second)
    assert len(before) > 20
    assert len(after - before) <= 2 and len(before - after) <= 1
    assert ws.cli("delta", "build", "--at", AT_BUILD).returncode == 0
    transition = ws.log_records()[1]
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == (["rows/5"], [], [])


def part_hashes(run_dir: Path) -> set[str]:
    """The SHA-256s of a snapshot run's rows parts."""
    return {hashlib.sha256(part.read_bytes()).hexdigest() for part in (run_dir / "table").glob("rows-*.jsonl")}


# --- one consistent read ----------------------------------------------------------------------


def test_a_snapshot_while_another_connection_writes_is_consistent(driver: SqliteDatabase):
    """A writer moves amounts between accounts, one transaction per move: every snapshot's
    total is the constant total (never half a transaction)."""
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute("PRAGMA journal_mode=WAL")
    accounts = 200
    driver.execute("CREATE TABLE thresholds (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL)", "INSERT INTO thresholds VALUES (?, ?)", rows=[(i, 100) for i in range(accounts)])
    stop = threading.Event()
    moves = [0]

    def writer() -> None:
        connection = driver.connect()
        try:
            step = 0
            while not stop.is_set():
                step += 1
                source, target = step % accounts, (step * 7 + 3) % accounts
                with connection:
                    connection.execute("UPDATE thresholds SET amount = amount - 1 WHERE id = ?", (source,))
                    connection.execute("UPDATE thresholds SET amount = amount + 1 WHERE id = ?", (target,))
                moves[0] += 1
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        totals = []
        for second in range(5):
            result = snapshot(ws, f"2026-01-01T00:00:0{second}Z")
            totals.append(sum(row["amount"] for row in rows_of(ws.runs_root / result["run_id"])))
    finally:
        stop.set()
        thread.join()
    assert moves[0] > 0
    assert totals == [100 * accounts] * 5


# --- refusals ---------------------------------------------------------------------------------


BAD_INPUTS = {
    # name: (registry keys, SQL run first, code, exit code, words in the message)
    "missing-file": ({"dsn": "sqlite:///db/absent.sqlite"}, (), "E_SQL_UNREACHABLE", 2, "absent.sqlite (no such file)"),
    "missing-table": ({}, ("CREATE TABLE other (id INTEGER PRIMARY KEY)",), "E_SQL_TABLE_MISSING", 2, "no table 'thresholds'"),
    "no-key": ({}, ("CREATE TABLE thresholds (metric TEXT, warn REAL)",), "E_SQL_NO_KEY", 2, "has no primary key; configure key"),
    "duplicate-keys": (
        {"key": ["metric"]},
        ("CREATE TABLE thresholds (id INTEGER PRIMARY KEY, metric TEXT)", "INSERT INTO thresholds VALUES (1, 'auc'), (2, 'f1'), (3, 'auc')"),
        "E_SQL_KEY_NOT_UNIQUE",
        1,
        'key (metric) is not unique: two rows have ["auc"]',
    ),
    "password-in-dsn": ({"dsn": "postgresql://reader:s3cret@127.0.0.1:1/db"}, (), "E_SQL_PASSWORD_IN_DSN", 2, "registries.thresholds.dsn: holds a password"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_with_its_code_and_exit_and_nothing_is_written(driver: SqliteDatabase, case: str):
    keys, statements, code, exit_code, words = BAD_INPUTS[case]
    keys = dict(keys)
    ws = table_workspace(driver.path.parent.parent, keys.pop("dsn", driver.dsn), **keys)
    if statements:
        driver.execute(*statements)
    before = written_state(ws.root)
    result = ws.cli_subprocess("snapshot", "thresholds", "--at", AT_1)
    assert result.returncode == exit_code, result.stderr
    assert len(result.stderr_lines) == 1, result.stderr
    assert result.stderr.startswith(f"govern: error: {code}: ") and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert written_state(ws.root) == before


def test_a_kind_that_writes_no_snapshots_is_refused(tmp_path: Path):
    ws = ScratchWorkspace.create(tmp_path / "ws", {"packs": {"kind": "sealed", "artifact": "PACKS.json"}})
    result = ws.cli("snapshot", "packs")
    assert result.returncode == 2
    assert result.stderr_lines == [
        "govern: error: E_USAGE: registry packs is of kind 'sealed', whose snapshots govern snapshot does not write (kinds it writes: collection, sql_table)"
    ]


def test_a_run_of_that_name_is_never_overwritten(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY)", "INSERT INTO thresholds VALUES ('auc')")
    snapshot(ws, AT_1)
    before = written_state(ws.root)
    again = ws.cli("snapshot", "thresholds", "--at", AT_1)
    assert again.returncode == 1 and "E_RUN_EXISTS" in again.stderr
    assert written_state(ws.root) == before


# --- determinism ------------------------------------------------------------------------------


def test_the_same_table_and_clock_give_the_same_bytes(driver: SqliteDatabase, tmp_path: Path):
    ws = table_workspace(driver.path.parent.parent, driver.dsn, part_bytes=64)
    driver.execute(
        "CREATE TABLE thresholds (metric TEXT PRIMARY KEY, warn REAL, note TEXT)",
        "INSERT INTO thresholds VALUES (?, ?, ?)",
        rows=[(f"m{i:03d}", i / 7, "é" * (i % 5)) for i in range(50)],
    )
    first = snapshot(ws, AT_1)
    run = ws.runs_root / first["run_id"]
    photo = file_bytes(run)
    assert len([name for name in photo if name.startswith("table/rows-")]) > 10
    shutil.rmtree(run)
    second = snapshot(ws, AT_1)
    assert second["root_sha256"] == first["root_sha256"]
    assert file_bytes(run) == photo


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# --- bounded memory ---------------------------------------------------------------------------

LARGE_ROWS = 200_000

MEMORY_PROBE = r"""
import resource, sqlite3, sys
from pathlib import Path
from govern.cli import main
from govern.plugins.sql_table.discovery import discover_table_snapshots
from govern.plugins.sql_table.row_diff import row_delta
from govern.runs.views import RunView

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

root = Path(sys.argv[1])
assert main(["-C", str(root), "-q", "snapshot", "small", "--at", "2026-01-01T00:00:00Z"]) == 0
baseline = peak_mib()
assert main(["-C", str(root), "-q", "snapshot", "thresholds", "--at", "2026-01-01T00:00:01Z"]) == 0
snapshot_growth = peak_mib() - baseline
with sqlite3.connect(root / "db" / "tables.sqlite") as connection:
    connection.execute("UPDATE thresholds SET warn = -1 WHERE id IN (7, 100000, 199999)")
    connection.execute("DELETE FROM thresholds WHERE id = 5")
connection.close()
assert main(["-C", str(root), "-q", "snapshot", "thresholds", "--at", "2026-01-01T00:00:02Z"]) == 0
runs = root / ".codex" / "RUNS"
before, after = discover_table_snapshots("thresholds", [RunView(runs / f"2026-01-01__00000{s}__thresholds") for s in (1, 2)])
baseline = peak_mib()
delta = row_delta(before, after)
print(snapshot_growth, peak_mib() - baseline, ",".join(delta.modified), ",".join(delta.removed))
"""


def test_a_large_table_is_snapshotted_and_diffed_in_bounded_memory(tmp_path: Path):
    """200,000 rows (about 20 MB of JSONL) stream through: the process's peak memory grows far
    less than the table (holding the rows would take well over 100 MB of Python objects), when
    snapshotting and when row_diff compares two snapshots."""
    ws = table_workspace(tmp_path / "ws", "sqlite:///db/tables.sqlite", part_bytes=1 << 20)
    ws.registries["small"] = {"kind": "sql_table", "dsn": "sqlite:///db/tables.sqlite", "table": "small"}
    config = {"workspace": {"runs_root": ".codex/RUNS", "record_version": "0.2"}, "registries": ws.registries}
    (ws.root / "registry_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    database = SqliteDatabase(ws.root)
    database.execute(
        "CREATE TABLE small (id INTEGER PRIMARY KEY, label TEXT)",
        "CREATE TABLE thresholds (id INTEGER PRIMARY KEY, metric TEXT, warn REAL, label TEXT)",
        "INSERT INTO thresholds VALUES (?, ?, ?, ?)",
        rows=[(i, f"metric-{i:07d}", i / 3, "label of the row, a little longer") for i in range(LARGE_ROWS)],
    )
    database.execute("INSERT INTO small VALUES (1, 'one')")
    completed = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(ws.root)], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    snapshot_growth, diff_growth, modified, removed = completed.stdout.strip().splitlines()[-1].split()
    run = ws.runs_root / "2026-01-01__000001__thresholds"
    table_mib = sum(part.stat().st_size for part in (run / "table").glob("rows-*.jsonl")) / (1 << 20)
    assert table_mib > 15
    assert float(snapshot_growth) < 12, f"the snapshot's peak memory grew {snapshot_growth} MiB for a {table_mib:.1f} MiB table"
    assert schema_of(run)["source"]["rows"] == LARGE_ROWS
    # row_diff of two such snapshots merges them part by part: memory flat too.
    assert float(diff_growth) < 12, f"row_diff's peak memory grew {diff_growth} MiB"
    assert (modified, removed) == ("rows/100000,rows/199999,rows/7", "rows/5")


# --- an s3:// runs root -----------------------------------------------------------------------


def test_on_an_object_store_the_snapshot_is_sealed_locally_then_published(tmp_path: Path, seaweedfs):
    from s3_workspace import S3Workspace

    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, {"thresholds": {"kind": "sql_table", "dsn": "sqlite:///db/tables.sqlite", "table": "thresholds"}})
    database = SqliteDatabase(ws.root)
    database.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY, warn REAL)", "INSERT INTO thresholds VALUES (?, ?)", rows=[("auc", 0.7), ("f1", 0.5)])
    result = ws.govern("--json", "snapshot", "thresholds", "--at", AT_1)
    assert result.returncode == 0, result.stderr
    assert result.json()["result"]["run_id"] == RUN_1
    objects = ws.objects(RUN_1)
    assert objects["table/rows-00000.jsonl"] == b'{"metric":"auc","warn":0.7}\n{"metric":"f1","warn":0.5}\n'
    assert {"run.json", "manifest.json", "MANIFEST.sha256", "table/schema.json"} <= set(objects)
    assert hashlib.sha256(objects["manifest.json"]).hexdigest() == result.json()["result"]["root_sha256"]
    assert ws.govern("verify", "--all").returncode == 0
    # Nothing is left of the local copy it was sealed in.
    from govern.store.atomic import TEMP_PREFIX

    assert list(Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*/{RUN_1}")) == []


def test_op_names_the_operation_in_run_json_and_governance_check_holds_it_to_the_catalog(driver: SqliteDatabase):
    ws = table_workspace(driver.path.parent.parent, driver.dsn)
    driver.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY)", "INSERT INTO thresholds VALUES ('auc')")
    unknown_op = ws.cli("snapshot", "thresholds", "--at", AT_1, "--op", "OP-SNAP01")
    assert unknown_op.returncode == 0 and "OP-SNAP01" in unknown_op.stderr  # a warning: not in the catalog
    assert json.loads((ws.runs_root / RUN_1 / "run.json").read_text("utf-8"))["op_id"] == "OP-SNAP01"
    assert ws.cli("governance", "sync", "--at", BOOKS_AT).returncode == 0
    check = ws.cli("governance", "check")
    assert check.returncode == 1 and f"E_OP_UNCATALOGUED {RUN_1}" in check.stdout + check.stderr
    added = ws.cli("governance", "add-op", "OP-SNAP01", "--title", "Registry snapshot", "--executable", "govern snapshot", "--coverage", "C0", "--at", BOOKS_AT)
    assert added.returncode == 0, added.stderr
    assert ws.cli("governance", "check").returncode == 0


def test_registry_add_writes_a_sql_table_that_snapshots(tmp_path: Path):
    """``registry add --kind sql_table --dsn --table --key`` writes the table's keys; the
    registry it adds takes a snapshot keyed by those columns."""
    database = SqliteDatabase(tmp_path / "ws")
    database.execute("CREATE TABLE limits (metric TEXT, pack TEXT, warn REAL)", "INSERT INTO limits VALUES (?, ?, ?)", rows=[("auc", "p1", 0.7)])
    ws = table_workspace(tmp_path / "ws", database.dsn)
    added = ws.cli("registry", "add", "limits", "--kind", "sql_table", "--dsn", database.dsn, "--table", "limits", "--key", "pack", "--key", "metric")
    assert added.returncode == 0, added.stdout + added.stderr
    config = (tmp_path / "ws" / "registry_config.toml").read_text(encoding="utf-8")
    import tomllib

    assert tomllib.loads(config)["registries"]["limits"] == {"kind": "sql_table", "dsn": database.dsn, "table": "limits", "key": ["pack", "metric"]}
    taken = ws.cli("--json", "snapshot", "limits", "--at", AT_1)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    run = tmp_path / "ws" / ".codex" / "RUNS" / "2026-01-01__000000__limits"
    assert schema_of(run)["key"] == ["pack", "metric"]
