"""The covered workspace (examples/covered/, issue 15 point 4): the reference runs with 11 of
their 12 registries covered — the threshold table as ``sql_table``, the two collections with
their members selected — and exactly the records that adds, on a copy of the reference
workspace; the committed files are what scripts/make_covered_workspace.py generates.
(``make demo``, which shows the same, is run by tests/test_cli_wording.py.)"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import run_govern

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import demo  # noqa: E402
import make_covered_workspace  # noqa: E402

COVERED = ("-C", demo.COVERED)
LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"
QA_GATE = "2026-01-16__110730__qa_gate"
REPORT_DERIVE = "2026-01-26__120500__validation_report_derive"
MODEL_EVAL = "2026-01-22__150000__model_eval"
THRESHOLD_ROWS = ["rows/TP-DRIFT-01/mean_shift", "rows/TP-DRIFT-01/null_rate", "rows/TP-DRIFT-01/psi", "rows/TP-QA-01/duplicate_rate", "rows/TP-QA-01/row_count_delta"]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the reference workspace with the covered configuration at examples/covered/,
    its delta log built at the seed's moment with the reference configuration (24 records)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    demo.copy_reference_workspace(workspace)
    demo.copy_covered_config(workspace)
    built = run_govern("-C", workspace, "delta", "build", "--at", demo.SEED_CLOCK)
    assert built.returncode == 0, built.stderr
    return workspace


def _govern(workspace: Path, *args: str) -> Any:
    """``govern -C <copy>/examples/covered --json ARGS``: its result, after checking it succeeded."""
    result = run_govern("-C", workspace / demo.COVERED, "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["result"]


def _log(workspace: Path, build: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (workspace / demo.RUNS_ROOT / build / LOG_NAME).read_text(encoding="utf-8").splitlines()]


def _record(record: dict[str, Any]) -> tuple:
    """What a record says about a registry: id, basis, from and to runs, paths."""
    ref = record["from_ref"]
    return (
        record["registry_id"],
        record["delta_basis"],
        None if ref is None else ref["run_id"],
        record["to_ref"]["run_id"],
        record["to_ref"]["relpath"],
        record["added_paths"],
        record["removed_paths"],
        record["modified_paths"],
    )


def test_the_covered_configuration_covers_11_of_12_registries_and_excludes_the_presentation_one(copy: Path):
    listed = _govern(copy, "registry", "list")
    assert listed["counts"] == {"covered": 11, "excluded": 1, "skipped": 0}
    status = {r["registry_id"]: (r["kind"], r["status"], r["reason"]) for r in listed["registries"]}
    assert status["threshold_registry_db"] == ("sql_table", "covered", None)
    assert status["validation_range_results"] == ("collection", "covered", None)
    assert status["evidence_pack_registry"] == ("collection", "covered", None)
    assert status["system_health_report"] == ("presentation", "excluded", "Presentation-only — no active pointer, no meaningful delta semantics")
    # The reference configuration, as written, is the seed's: 8 covered, 4 excluded.
    seed = run_govern("-C", copy, "--json", "registry", "list")
    assert json.loads(seed.stdout)["result"]["counts"] == {"covered": 8, "excluded": 4, "skipped": 0}


def test_the_covered_configuration_adds_exactly_the_bootstrap_records_then_the_changed_row(copy: Path):
    first_snapshot, first_build, second_snapshot, second_build = demo.COVERED_CLOCKS
    _govern(copy, "snapshot", "threshold_registry_db", "--at", first_snapshot)
    _govern(copy, "delta", "build", "--snapshot-collections", "--at", first_build)
    log = _log(copy, "2026-02-06__090500__registry_delta_log_build")
    assert len(log) == 27
    assert [_record(r) for r in log[24:]] == [
        ("evidence_pack_registry", "member_diff", None, "2026-02-06__090500__evidence_pack_registry", "collection",
         [f"members/{QA_GATE}", f"members/{REPORT_DERIVE}"], [], []),
        ("threshold_registry_db", "row_diff", None, "2026-02-06__090000__threshold_registry_db", "table", [*THRESHOLD_ROWS, "schema"], [], []),
        ("validation_range_results", "member_diff", None, "2026-02-06__090500__validation_range_results", "collection", [f"members/{MODEL_EVAL}"], [], []),
    ]
    # The seed's 24 records are the prefix, untouched.
    assert _log(copy, "2026-02-05__031005__registry_delta_log_build") == log[:24]

    demo.change_threshold_row(copy / demo.COVERED / "db" / "thresholds.sqlite")
    _govern(copy, "snapshot", "threshold_registry_db", "--at", second_snapshot)
    _govern(copy, "delta", "build", "--snapshot-collections", "--at", second_build)
    log = _log(copy, "2026-02-09__090500__registry_delta_log_build")
    assert [_record(r) for r in log[27:]] == [
        ("threshold_registry_db", "row_diff", "2026-02-06__090000__threshold_registry_db", "2026-02-09__090000__threshold_registry_db", "table",
         [], [], ["rows/TP-DRIFT-01/mean_shift"]),
    ]
    verified = run_govern("-C", copy / demo.COVERED, "verify", "--all", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    checked = run_govern("-C", copy / demo.COVERED, "governance", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "12/13 sealed registries" in checked.stdout


def test_the_threshold_table_holds_the_reference_threshold_packs():
    database = REPO / demo.COVERED / "db" / "thresholds.sqlite"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT pack_id, metric, warn, fail FROM thresholds ORDER BY pack_id, metric").fetchall()
        key = [r[1] for r in connection.execute("PRAGMA table_info(thresholds)").fetchall() if r[5]]
    packs = json.loads((REPO / demo.RUNS_ROOT / make_covered_workspace.THRESHOLD_PACKS_RUN / make_covered_workspace.THRESHOLD_PACKS).read_text())
    assert rows == sorted((p["pack_id"], r["metric"], r["warn"], r["fail"]) for p in packs["packs"] for r in p["rules"])
    assert key == ["pack_id", "metric"]


def test_the_committed_covered_workspace_is_what_its_script_generates(capsys: pytest.CaptureFixture[str]):
    assert make_covered_workspace.main(["--check"]) == 0, capsys.readouterr().err


def test_the_catalog_lists_the_folder_a_table_or_collection_snapshot_run_holds():
    """A sql_table or collection registry's catalog entry names its snapshot runs' artifact
    (``table``, ``collection``), not the config's ``artifact`` (none for a table)."""
    catalog = json.loads((REPO / demo.COVERED / "governance" / "REGISTRY_CATALOG.json").read_text())
    artifacts = {e["registry_id"]: (e["kind"], e["sealed"], e["artifact"]) for e in catalog["registries"]}
    assert artifacts["threshold_registry_db"] == ("sql_table", True, "table")
    assert artifacts["validation_range_results"] == ("collection", True, "collection")
    assert artifacts["evidence_pack_registry"] == ("collection", True, "collection")
    # An excluded collection (the reference configuration's) keeps its configured artifact.
    reference = json.loads((REPO / "governance" / "REGISTRY_CATALOG.json").read_text())
    assert {e["registry_id"]: e["artifact"] for e in reference["registries"]}["evidence_pack_registry"] == "EVIDENCE_PACK"


def test_the_covered_configuration_works_in_place_from_the_repository_root():
    listed = run_govern("-C", demo.COVERED, "registry", "list", cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("12 registries: 11 covered, 0 skipped, 1 excluded by design")
    checked = run_govern("-C", demo.COVERED, "governance", "check", cwd=REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr
