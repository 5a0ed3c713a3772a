"""A ``sql_table`` registry over a PostgreSQL table of ``pg_rows`` rows (issue 15's performance rows).

The workload starts its own PostgreSQL server (``benchmarks/postgres.py``: the tests' launcher)
and stops it before it returns. The table — ``id bigint`` primary key, a text, two exact
decimals, a timestamp and a 32-character text per row — is loaded with one ``INSERT … SELECT
generate_series`` (set-up, untimed). Two rows:

- **snapshot**: ``govern snapshot`` of the table (one REPEATABLE READ transaction, rows streamed
  in key order into canonical JSONL parts, sealed) against the floor of reading the same rows in
  the same order out of the same server and hashing them:
  ``psql -c "\\copy (SELECT * FROM t ORDER BY id) TO STDOUT" | sha256sum``, over the same TCP
  connection settings. Target ≤ 1.5×. Each round first removes the previous round's run.
- **row_diff**: two snapshots of the table, the second after 1% of the rows were modified, 0.5%
  deleted and 0.5% inserted; ``govern delta build`` recording the ``row_diff`` transition between
  them (the first snapshot's bootstrap record is written beforehand, untimed; the build reads the
  log, hashes the second snapshot's parts for its record, merges the two snapshots' parts by key
  and writes the record naming every changed row) against GNU ``diff`` of the same sorted rows —
  the two snapshots' JSONL parts, concatenated. Target ≤ 3×. Each round first removes the
  previous round's build run.
- **row_diff, a few rows**: the common case — a third snapshot after 3 rows were modified, 1
  deleted and 1 inserted; ``govern delta build`` recording that transition (the second
  snapshot's record written beforehand, untimed) against GNU ``diff`` of the second and third
  snapshots' rows. The parts identical in both snapshots are not read (their SHA-256s are the
  same in the manifests), so the build reads a few parts, not the table. Target ≤ 3× as above.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks import postgres
from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import build_undoer, write_workspace
from benchmarks.report import Row, WorkloadReport, compare_row
from benchmarks.timing import Command, Measurement, measure_alternately
from benchmarks.workloads import Workload

SNAPSHOT_TARGET = 1.5
ROW_DIFF_TARGET = 3.0
TABLE = "bench_rows"
REGISTRY = "bench_table"
PASSWORD_ENV = "GOVERN_BENCH_PG_PASSWORD"
#: The clocks: the timed snapshot's, the three snapshots compared, the bootstrap build, the
#: timed build of the 1% change, the timed build of the few rows' change.
TIMED_SNAPSHOT_AT, FIRST_AT, SECOND_AT, THIRD_AT, BOOTSTRAP_AT, TIMED_BUILD_AT, FEW_BUILD_AT = (
    "2030-01-01T00:00:00Z",
    "2030-01-02T00:00:00Z",
    "2030-01-03T00:00:00Z",
    "2030-01-04T00:00:00Z",
    "2030-01-02T01:00:00Z",
    "2030-01-03T01:00:00Z",
    "2030-01-04T01:00:00Z",
)


def _run_name(clock: str, slug: str) -> str:
    date, _, time = clock.rstrip("Z").partition("T")
    return f"{date}__{time.replace(':', '')}__{slug}"


def _load_table(connection, rows: int) -> None:
    """The table and its ``rows`` rows (one statement: the server generates them)."""
    connection.execute(
        f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, metric text NOT NULL, warn numeric(12,4) NOT NULL, "
        "fail numeric(12,4) NOT NULL, updated_at timestamptz NOT NULL, note text)"
    )
    connection.execute(
        f"INSERT INTO {TABLE} SELECT g, 'metric_' || (g %% 97), (g %% 1000) / 1000.0, (g %% 1000) / 500.0, "
        "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', md5(g::text) FROM generate_series(1, %s::bigint) AS g",
        (rows,),
    )
    connection.execute(f"ANALYZE {TABLE}")


def _change_table(connection, rows: int) -> None:
    """1% of the rows modified, 0.5% deleted, 0.5% inserted (what the second snapshot sees)."""
    connection.execute(f"UPDATE {TABLE} SET warn = warn + 0.0001 WHERE id % 100 = 0")
    connection.execute(f"DELETE FROM {TABLE} WHERE id % 200 = 1")
    connection.execute(
        f"INSERT INTO {TABLE} SELECT g, 'metric_new', 0.5, 1.0, timestamptz '2026-06-01 00:00:00+00', NULL "
        "FROM generate_series(%s::bigint, %s::bigint) AS g",
        (rows + 1, rows + max(1, rows // 200)),
    )


def _change_few_rows(connection, rows: int) -> None:
    """3 rows modified (near the start, middle and end), 1 deleted, 1 inserted."""
    connection.execute(f"UPDATE {TABLE} SET note = 'changed' WHERE id IN (%s, %s, %s)", (7, rows // 2, rows - 7))
    connection.execute(f"DELETE FROM {TABLE} WHERE id = %s", (rows // 3,))
    connection.execute(f"INSERT INTO {TABLE} SELECT max(id) + 1, 'metric_few', 0.5, 1.0, timestamptz '2026-07-01 00:00:00+00', NULL FROM {TABLE}")


def _concatenate_parts(run_dir: Path, target: Path) -> int:
    """The snapshot's rows (its JSONL parts, in order) into one file; its size."""
    with open(target, "wb") as out:
        for part in sorted((run_dir / "table").glob("rows-*.jsonl")):
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 8 << 20)
    return target.stat().st_size


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    report = WorkloadReport(WORKLOAD.name, WORKLOAD.title)
    if not postgres.server_available():
        skipped = Measurement.skip("PostgreSQL", "its server binaries (initdb, postgres) are missing; install them with: apt-get install postgresql")
        report.rows.append(compare_row("snapshot vs psql \\copy | sha256sum", skipped, skipped, SNAPSHOT_TARGET, f"<= {SNAPSHOT_TARGET}"))
        return report
    with postgres.running_server() as server:
        database = server.fresh_database("bench")
        with server.connect(database, autocommit=True) as connection:
            _load_table(connection, sizes.pg_rows)
        workspace = root / "workspace"
        config = f'[registries.{REGISTRY}]\nkind = "sql_table"\ndsn = "{server.dsn(database)}"\npassword_env = "{PASSWORD_ENV}"\ntable = "{TABLE}"\n'
        runs_root = write_workspace(ctx, workspace, config)
        config_path = workspace / "registry_config.toml"
        config_path.write_text(config_path.read_text(encoding="utf-8").replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1), encoding="utf-8")
        env = {**os.environ, PASSWORD_ENV: postgres.password(), "PGPASSWORD": postgres.password()}
        report.setup = (
            f"PostgreSQL table of {sizes.pg_rows:,} rows (server started and stopped by the workload); "
            f"{sizes.repeat} rounds after {sizes.warmup} warm-up, alternating"
        )

        # --- snapshot vs psql \copy | sha256sum ----------------------------------------------
        timed_run = runs_root / _run_name(TIMED_SNAPSHOT_AT, REGISTRY)

        def remove_timed_snapshot() -> None:
            shutil.rmtree(timed_run, ignore_errors=True)

        snapshot = Command.single(
            "govern snapshot", ctx.govern("-q", "-C", workspace, "snapshot", REGISTRY, "--at", TIMED_SNAPSHOT_AT), prepare=remove_timed_snapshot, env=env
        )
        copy_sql = f"\\copy (SELECT * FROM {TABLE} ORDER BY id) TO STDOUT"
        psql = f"psql -X -q -h {server.host} -p {server.port} -U {postgres_user(server)} -d {database} -c {_quoted(copy_sql)} | sha256sum"
        peer = Command.single("psql \\copy | sha256sum", ["bash", "-o", "pipefail", "-c", psql], env=env)
        missing = ctx.missing(peer.label, "psql", "sha256sum")
        results = measure_alternately([snapshot] + ([] if missing else [peer]), sizes.repeat, sizes.warmup)
        report.rows.append(
            compare_row(f"snapshot of {sizes.pg_rows:,} rows vs psql \\copy | sha256sum", results[snapshot.label], missing or results[peer.label], SNAPSHOT_TARGET, f"<= {SNAPSHOT_TARGET}")
        )
        remove_timed_snapshot()

        # --- row_diff of two snapshots vs diff -----------------------------------------------
        ctx.setup(ctx.govern("-q", "-C", workspace, "snapshot", REGISTRY, "--at", FIRST_AT), env=env)
        ctx.setup(ctx.govern("-q", "-C", workspace, "delta", "build", "--at", BOOTSTRAP_AT))
        with server.connect(database, autocommit=True) as connection:
            _change_table(connection, sizes.pg_rows)
        ctx.setup(ctx.govern("-q", "-C", workspace, "snapshot", REGISTRY, "--at", SECOND_AT), env=env)
        with server.connect(database, autocommit=True) as connection:
            _change_few_rows(connection, sizes.pg_rows)
        ctx.setup(ctx.govern("-q", "-C", workspace, "snapshot", REGISTRY, "--at", THIRD_AT), env=env)
    # The third snapshot waits outside the runs root until the second one's record is written:
    # each timed build records one transition.
    third = runs_root / _run_name(THIRD_AT, REGISTRY)
    held = root / "held" / third.name
    held.parent.mkdir()
    third.rename(held)
    first_rows = _concatenate_parts(runs_root / _run_name(FIRST_AT, REGISTRY), root / "a.jsonl")
    _concatenate_parts(runs_root / _run_name(SECOND_AT, REGISTRY), root / "b.jsonl")
    _concatenate_parts(held, root / "c.jsonl")
    report.rows.append(_time_build(ctx, workspace, runs_root, TIMED_BUILD_AT, root / "a.jsonl", root / "b.jsonl", f"row_diff of two {sizes.pg_rows:,}-row snapshots vs diff"))
    ctx.setup(ctx.govern("-q", "-C", workspace, "delta", "build", "--at", TIMED_BUILD_AT))
    held.rename(third)
    report.rows.append(
        _time_build(ctx, workspace, runs_root, FEW_BUILD_AT, root / "b.jsonl", root / "c.jsonl", f"row_diff, 5 rows changed of {sizes.pg_rows:,}, vs diff")
    )
    report.notes.append(f"a snapshot's rows: {first_rows / (1 << 20):.1f} MiB of canonical JSONL")
    return report


def _time_build(ctx: BenchContext, workspace: Path, runs_root: Path, clock: str, rows_a: Path, rows_b: Path, case: str) -> Row:
    """``govern delta build --at clock`` (recording one row_diff transition) against ``diff``
    of the two snapshots' rows; each round first removes the previous round's build run and
    the commit it added to the log's head chain (``_log/``), so every round records the same
    transition."""
    undo_build = build_undoer(runs_root, _run_name(clock, "registry_delta_log_build"))

    def remove_timed_build() -> None:
        undo_build()
        for path in runs_root.glob(".govern-tmp*"):
            shutil.rmtree(path, ignore_errors=True)

    build = Command.single("govern delta build (row_diff)", ctx.govern("-q", "-C", workspace, "delta", "build", "--at", clock), prepare=remove_timed_build)
    diff = Command.single("diff", ["diff", rows_a, rows_b], ok_codes=frozenset({0, 1}))
    missing = ctx.missing("diff", "diff")
    results = measure_alternately([build] + ([] if missing else [diff]), ctx.sizes.repeat, ctx.sizes.warmup)
    remove_timed_build()
    return compare_row(case, results[build.label], missing or results["diff"], ROW_DIFF_TARGET, f"<= {ROW_DIFF_TARGET}")


def postgres_user(server) -> str:
    """The superuser the server was made with (the one govern's DSN names)."""
    return server.dsn("x").removeprefix("postgresql://").partition("@")[0]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _disk(sizes: Sizes) -> int:
    # the table in PostgreSQL (~150 B/row), four snapshots' parts and their three concatenations (~130 B/row each)
    return sizes.pg_rows * (150 + 7 * 130)


WORKLOAD = Workload("sql_table", "snapshot of a PostgreSQL table vs psql \\copy | sha256sum; row_diff vs diff", _run, _disk)
