"""The seed's change reproduced exactly (issue 5, item 6), and the figures' arithmetic."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from governance_books import (
    ADDENDUM,
    CATALOG,
    CHANGE_AT,
    MATRIX,
    OP_QA11,
    REGISTRY_CATALOG,
    REPO,
    SCORECARD,
    SCRIPT,
    baseline_workspace,
    figures,
    gov,
    read,
)

OWNED = (CATALOG, MATRIX, SCORECARD, REGISTRY_CATALOG, ADDENDUM)


def test_the_committed_books_hold_the_seeds_final_state():
    card = read(REPO, SCORECARD)
    assert card["version"] == "0.2" and card["previous"]["version"] == "0.1"
    previous = card["previous"]["figures"]
    assert (previous["operations"], previous["at_or_above_threshold"]["count"], previous["executables"]) == (35, 30, 164)
    assert previous["at_or_above_threshold"]["percent"] == 85.7
    assert previous["sealed_registries"] == {"sealed": 8, "total": 12}
    assert figures(REPO) == (36, 31, 86.1, 165, "9/13")
    assert card["deltas"] == {"executables": "+1", "operations": "+1", "sealed_registries": "8/12 → 9/13", "at_or_above_threshold": "+0.4pp"}
    catalog = read(REPO, REGISTRY_CATALOG)
    assert catalog["frozen"] is True and catalog["version"] == "0.1" and len(catalog["registries"]) == 12
    assert [r["registry_id"] for r in read(REPO, ADDENDUM)["registries"]] == ["registry_delta_log"]
    assert read(REPO, CATALOG)["version"] == read(REPO, MATRIX)["version"] == "0.2"
    row = next(r for r in read(REPO, MATRIX)["rows"] if r["op_id"] == "OP-QA11")
    assert row == {"op_id": "OP-QA11", "coverage": "C3", "enforcement": ["E1", "E2", "E5", "E6", "E7"]}


def test_rebuilding_from_scratch_through_the_cli_gives_the_committed_bytes(tmp_path: Path):
    out = tmp_path / "ws"
    out.mkdir()
    shutil.copyfile(REPO / "registry_config.toml", out / "registry_config.toml")
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for relpath in OWNED:
        assert (out / relpath).read_bytes() == (REPO / relpath).read_bytes(), relpath
    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr


def test_check_mode_reports_a_difference(tmp_path: Path):
    out = tmp_path / "ws"
    out.mkdir()
    shutil.copyfile(REPO / "registry_config.toml", out / "registry_config.toml")
    assert subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, timeout=300).returncode == 0
    (out / SCORECARD).write_bytes((out / SCORECARD).read_bytes().replace(b'"operations": 36', b'"operations": 31'))
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "differs:   governance/GOVERNANCE_COMPLETENESS_SCORECARD.json" in result.stderr


def test_add_op_then_addendum_reaches_the_same_figures(tmp_path: Path):
    ws = baseline_workspace(tmp_path / "ws")
    assert figures(ws) == (35, 30, 85.7, 164, "8/12")
    assert gov(ws, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT).returncode == 0
    assert gov(ws, "governance", "addendum", "--label", "phase_2_2_3", "--at", CHANGE_AT).returncode == 0
    assert figures(ws) == (36, 31, 86.1, 165, "9/13")
    # Two changes, two scorecard versions: 35 → 36 in the first, 8/12 → 9/13 in the second.
    changelog = read(ws, SCORECARD)["changelog"]
    assert [e["version"] for e in changelog] == ["0.1", "0.2", "0.3"]
    assert {"change": "C3+ operations", "details": "30/35 (85.7%) → 31/36 (86.1%) (+0.4pp)"} in changelog[1]["changes"]
    assert changelog[2]["changes"] == [{"change": "Sealed registries", "details": "8/12 → 9/13"}]
    assert (ws / ADDENDUM).read_bytes() == (REPO / ADDENDUM).read_bytes()
    assert gov(ws, "governance", "check").returncode == 0


@pytest.mark.parametrize(
    ("count", "total", "percent"),
    [(30, 35, "85.7"), (31, 36, "86.1"), (1, 8, "12.5"), (1, 16, "6.3"), (1, 3, "33.3"), (2, 3, "66.7"), (0, 5, "0.0"), (7, 7, "100.0")],
)
def test_percents_round_half_up_to_one_decimal(count: int, total: int, percent: str):
    from govern.governance.figures import share_percent

    assert share_percent(count, total) == Decimal(percent)


def test_percentage_point_deltas_come_from_the_rounded_percents():
    from govern.governance.figures import delta_points, share_percent

    assert delta_points(share_percent(30, 35), share_percent(31, 36)) == "+0.4pp"
    assert delta_points(share_percent(31, 36), share_percent(30, 35)) == "-0.4pp"
    assert delta_points(share_percent(1, 2), share_percent(2, 4)) == "0.0pp"
    assert delta_points(None, share_percent(1, 1)) == "n/a"
    assert share_percent(0, 0) is None


def test_versions_step_one_minor_at_a_time():
    from govern.governance.versioning import next_minor, parse_version

    assert next_minor("0.1") == "0.2" and next_minor("0.9") == "0.10" and next_minor("2.41") == "2.42"
    for bad in ("1", "01.2", "1.2.3", "v1.0", "1.02"):
        with pytest.raises(ValueError):
            parse_version(bad)
