"""Issue 15: ``govern snapshot`` of a PostgreSQL table, through the real console script against
the real server (the ``postgres`` fixture): the password comes from the variable
``password_env`` names, the run holds the rows in key order with the read's snapshot id, and an
unreachable server is one line and exit 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from govern.config.workspace import load_workspace
from postgres import PASSWORD

PASSWORD_VARIABLE = "GOVERN_TEST_PG_PASSWORD"


def _runs(runs_root: Path) -> list[str]:
    """The runs root's entries but the workspace lock file every writer takes."""
    return sorted(path.name for path in runs_root.iterdir() if path.name != ".govern.lock")


def _add_table_registry(workspace: Path, dsn: str) -> None:
    config = workspace / "registry_config.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[registries.thresholds]\nkind = "sql_table"\ndsn = "{dsn}"\npassword_env = "{PASSWORD_VARIABLE}"\ntable = "threshold"\n',
        encoding="utf-8",
    )


def test_snapshot_of_a_postgres_table_is_a_sealed_run_of_its_rows_in_key_order(postgres, workspace, run_govern) -> None:
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE threshold (metric text PRIMARY KEY, bound numeric(12, 4) NOT NULL, since timestamptz)")
        setup.execute("INSERT INTO threshold VALUES ('psi', 0.2500, '2024-05-01 09:00+02'), ('auc', 0.7, NULL), ('Ks', 12, '2024-01-01Z')")
    _add_table_registry(workspace, postgres.dsn(database))
    env = {PASSWORD_VARIABLE: PASSWORD}
    code, stdout, stderr = run_govern("snapshot", "thresholds", "--at", "2024-06-01T00:00:00Z", "--json", cwd=workspace, env=env)
    assert code == 0, stderr
    result = json.loads(stdout)["result"]
    assert result["run_id"] == "2024-06-01__000000__thresholds"
    run = load_workspace(explicit=workspace).runs_root / result["run_id"]
    lines = (run / "table" / "rows-00000.jsonl").read_bytes().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"bound": "12.0000", "metric": "Ks", "since": "2024-01-01T00:00:00.000000Z"},
        {"bound": "0.7000", "metric": "auc", "since": None},
        {"bound": "0.2500", "metric": "psi", "since": "2024-05-01T07:00:00.000000Z"},
    ]
    schema = json.loads((run / "table" / "schema.json").read_text())
    assert schema["key"] == ["metric"]
    assert schema["source"]["dsn"] == postgres.dsn(database) and schema["source"]["rows"] == 3
    assert schema["source"]["snapshot_id"].startswith("pg_snapshot:")
    assert PASSWORD not in (run / "run.json").read_text() + (run / "table" / "schema.json").read_text()
    assert run_govern("verify", run, cwd=workspace).returncode == 0


def test_snapshot_of_an_unreachable_server_is_one_line_exit_2_and_writes_nothing(postgres, workspace, run_govern) -> None:
    database = postgres.fresh_database()
    wrong_port = postgres.dsn(database, port=1)
    _add_table_registry(workspace, wrong_port)
    runs_root = load_workspace(explicit=workspace).runs_root
    before = _runs(runs_root)
    code, stdout, stderr = run_govern("snapshot", "thresholds", "--at", "2024-06-01T00:00:00Z", cwd=workspace, env={PASSWORD_VARIABLE: PASSWORD})
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1 and stderr.startswith("govern: error: E_SQL_UNREACHABLE: registries.thresholds: ")
    assert wrong_port in stderr and "Connection refused" in stderr and PASSWORD not in stderr
    assert _runs(runs_root) == before == []  # no run, not even a staging folder


def test_a_row_inserted_and_one_updated_change_only_the_parts_holding_them(postgres, workspace, run_govern) -> None:
    """Issue 15 ("a change touches few parts") against the real server: between two snapshots of
    a table of many parts, one long row inserted near the start and one updated in the middle leave
    every other part byte for byte the same (splitting by a count of bytes changed all 70), and
    the row_diff record names exactly those rows."""
    database = postgres.fresh_database()
    with postgres.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE threshold (id bigint PRIMARY KEY, metric text NOT NULL, bound numeric(12, 4) NOT NULL)")
        setup.execute("INSERT INTO threshold SELECT g * 10, 'metric_' || g, g / 100.0 FROM generate_series(1, 2000) AS g")
    _add_table_registry(workspace, postgres.dsn(database))
    config = workspace / "registry_config.toml"
    text = config.read_text(encoding="utf-8").replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1)
    config.write_text(text + "part_bytes = 1500\n", encoding="utf-8")
    env = {PASSWORD_VARIABLE: PASSWORD}
    runs_root = load_workspace(explicit=workspace).runs_root
    first = run_govern("snapshot", "thresholds", "--at", "2024-06-01T00:00:00Z", "--json", cwd=workspace, env=env)
    assert first.returncode == 0, first.stderr
    with postgres.connect(database, autocommit=True) as change:
        change.execute("INSERT INTO threshold VALUES (15, 'inserted, ' || repeat('long ', 60), 1)")
        change.execute("UPDATE threshold SET bound = 99 WHERE id = 10000")
    second = run_govern("snapshot", "thresholds", "--at", "2024-06-02T00:00:00Z", "--json", cwd=workspace, env=env)
    assert second.returncode == 0, second.stderr
    before, after = (
        {path.read_bytes() for path in (runs_root / run / "table").glob("rows-*.jsonl")}
        for run in ("2024-06-01__000000__thresholds", "2024-06-02__000000__thresholds")
    )
    assert len(before) > 30
    assert len(after - before) <= 4 and len(before - after) <= 4
    assert run_govern("delta", "build", "--at", "2024-06-03T00:00:00Z", cwd=workspace).returncode == 0
    log = runs_root / "2024-06-03__000000__registry_delta_log_build" / "REGISTRY_DELTA_LOG_v0_1.jsonl"
    transition = [json.loads(line) for line in log.read_text().splitlines() if '"thresholds"' in line][-1]
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == (["rows/15"], [], ["rows/10000"])
