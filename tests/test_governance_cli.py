"""The ``govern governance`` command line (docs/governance.md, docs/errors.md; issue 5): exit codes, messages, the
files written — and nothing written on refusal; a frozen document never modified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance_books import (
    ADDENDUM,
    CATALOG,
    CHANGE_AT,
    LATER_AT,
    MATRIX,
    OP_QA11,
    REGISTRY_CATALOG,
    SCORECARD,
    baseline_workspace,
    figures,
    gov,
    governance_state,
    read,
    write,
)
from helpers import run_govern

INIT_AT = "2024-01-01T00:00:00Z"
INIT_EPOCH = "1704067200"


def one_error_line(stderr: str, code: str) -> str:
    """stderr is one ``govern: error: CODE: …`` line (warnings aside), no traceback; return it."""
    errors = [line for line in stderr.splitlines() if not line.startswith("govern: warning:")]
    assert len(errors) == 1, stderr
    assert errors[0].startswith(f"govern: error: {code}: "), stderr
    assert "Traceback" not in stderr
    return errors[0]


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    """The seed's v0.1 books: 35 operations, frozen catalog of 12 registries."""
    return baseline_workspace(tmp_path / "ws")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A workspace just made by ``govern init`` (clock fixed by SOURCE_DATE_EPOCH)."""
    target = tmp_path / "fresh"
    result = run_govern("init", target, env={"SOURCE_DATE_EPOCH": INIT_EPOCH})
    assert result.returncode == 0, result.stderr
    return target


# --- init -----------------------------------------------------------------------------------


def test_init_writes_starter_books_with_default_points_and_levels(fresh: Path):
    matrix = read(fresh, MATRIX)
    assert [p["id"] for p in matrix["enforcement_points"]] == [f"E{i}" for i in range(1, 8)]
    assert [c["id"] for c in matrix["coverage_levels"]] == [f"C{i}" for i in range(0, 6)]
    assert all(p["name"] and p["description"] for p in matrix["enforcement_points"])
    for path in (CATALOG, MATRIX, SCORECARD, REGISTRY_CATALOG):
        document = read(fresh, path)
        # v0.1: the starter set; v0.2: synced with the installed plugins, by init itself.
        assert document["version"] == "0.2"
        assert [entry["date"] for entry in document["changelog"]] == [INIT_AT, INIT_AT]
        assert document["changelog"][0]["changes"] == [{"change": "CREATE", "details": "starting set written by govern init"}]
        # Canonical JSON: sorted keys, 2-space indent, final newline.
        assert (fresh / path).read_bytes() == (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    assert read(fresh, SCORECARD)["figures"]["at_or_above_threshold"] == {"level": "C3", "count": 1, "total": 1, "percent": 100.0}
    result = gov(fresh, "governance", "check")
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr


def test_init_leaves_the_books_in_sync_with_the_installed_plugins(tmp_path: Path):
    """Issue 11 point 11: a fresh workspace's reports failed on "OP-QA11 not catalogued"
    until one discovered 'governance sync'."""
    target = tmp_path / "fresh"
    result = run_govern("--json", "init", target, env={"SOURCE_DATE_EPOCH": INIT_EPOCH, "GOVERN_LOAD_PLUGINS": ""})
    assert result.returncode == 0, result.stderr
    made = result.json()["result"]
    assert (made["operations_synced"], made["registries_synced"]) == (["OP-QA11"], ["registry_delta_log"])
    assert "OP-QA11" in {op["op_id"] for op in read(target, CATALOG)["operations"]}
    assert "registry_delta_log" in {r["registry_id"] for r in read(target, REGISTRY_CATALOG)["registries"]}
    assert gov(target, "governance", "sync").stdout.startswith("up to date: nothing to add")
    for report in ("validation", "completion"):
        result = gov(target, "report", report)
        assert result.returncode == 0, result.stdout
        assert "❌" not in result.stdout and "not catalogued" not in result.stdout


# --- add-op ---------------------------------------------------------------------------------


def test_add_op_updates_catalog_matrix_and_scorecard_together(baseline: Path):
    registry_catalog = (baseline / REGISTRY_CATALOG).read_bytes()
    result = gov(baseline, "--json", "governance", "add-op", *OP_QA11, "--at", CHANGE_AT)
    assert result.returncode == 0, result.stderr
    assert sorted(result.json()["result"]["written"]) == sorted([CATALOG, MATRIX, SCORECARD])
    catalog, matrix, card = read(baseline, CATALOG), read(baseline, MATRIX), read(baseline, SCORECARD)
    assert (catalog["version"], matrix["version"], card["version"]) == ("0.2", "0.2", "0.2")
    assert {"op_id": "OP-QA11", "title": "Registry Delta Log Build", "executables": ["govern delta build"]} in catalog["operations"]
    assert {"op_id": "OP-QA11", "coverage": "C3", "enforcement": ["E1", "E2", "E5", "E6", "E7"]} in matrix["rows"]
    entry = catalog["changelog"][-1]
    assert entry["date"] == CHANGE_AT and entry["before"] == {"operations": 35, "executables": 164}
    assert entry["after"] == {"operations": 36, "executables": 165}
    assert figures(baseline) == (36, 31, 86.1, 165, "8/12")
    assert card["deltas"] == {"executables": "+1", "operations": "+1", "sealed_registries": "8/12 → 8/12", "at_or_above_threshold": "+0.4pp"}
    assert (baseline / REGISTRY_CATALOG).read_bytes() == registry_catalog
    assert gov(baseline, "governance", "check").returncode == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("OP-QA01", "--title", "Again", "--executable", "x", "--coverage", "C3", "--enforcement", "E1,E2,E5"), "E_OP_EXISTS"),
        (("OP-ZZ01", "--title", "Z", "--executable", "x", "--coverage", "C9"), "E_UNKNOWN_LEVEL"),
        (("OP-ZZ01", "--title", "Z", "--executable", "x", "--coverage", "C3", "--enforcement", "E1,E2,E5,E8"), "E_UNKNOWN_ENFORCEMENT"),
        (("OP-ZZ01", "--title", "Z", "--executable", "x", "--coverage", "C3", "--enforcement", "E1,E2"), "E_LEVEL_UNMET"),
        (("OP-ZZ01", "--title", "Z", "--executable", "x", "--coverage", "C5", "--enforcement", "E1,E2,E3,E5"), "E_LEVEL_UNMET"),
        (("op-zz01", "--title", "Z", "--executable", "x", "--coverage", "C1"), "E_OP_INVALID"),
        (("OP-ZZ01", "--title", "Z", "--executable", "x", "--executable", "x", "--coverage", "C1"), "E_OP_INVALID"),
    ],
    ids=["duplicate", "unknown-level", "unknown-point", "c3-unmet", "c5-unmet", "bad-id", "executable-twice"],
)
def test_add_op_refusals_write_nothing(baseline: Path, args: tuple[str, ...], code: str):
    before = governance_state(baseline)
    result = gov(baseline, "governance", "add-op", *args, "--at", CHANGE_AT)
    assert result.returncode == 2
    line = one_error_line(result.stderr, code)
    assert args[0] in line
    assert result.stdout == ""
    assert governance_state(baseline) == before


def test_unmet_level_names_what_is_missing(baseline: Path):
    result = gov(baseline, "governance", "add-op", "OP-ZZ01", "--title", "Z", "--executable", "x", "--coverage", "C3", "--enforcement", "E1")
    line = one_error_line(result.stderr, "E_LEVEL_UNMET")
    assert "requires E1, E2, E5" in line and "missing E2, E5" in line


def test_a_clock_before_the_last_change_is_refused(baseline: Path):
    before = governance_state(baseline)
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", "2020-01-01T00:00:00Z")
    assert result.returncode == 2
    one_error_line(result.stderr, "E_CLOCK_INVALID")
    assert governance_state(baseline) == before


def test_missing_and_invalid_documents_are_input_errors(baseline: Path):
    (baseline / MATRIX).unlink()
    result = gov(baseline, "governance", "add-op", *OP_QA11)
    assert result.returncode == 2
    assert "ENFORCEMENT_COVERAGE_MATRIX.json" in one_error_line(result.stderr, "E_GOVERNANCE_MISSING")
    catalog = read(baseline, CATALOG)
    catalog["operations"][0]["surprise"] = True
    write(baseline, CATALOG, catalog)
    result = gov(baseline, "governance", "scorecard")
    assert result.returncode == 2
    assert "surprise" in one_error_line(result.stderr, "E_GOVERNANCE_INVALID")


# --- frozen documents -----------------------------------------------------------------------


def test_a_frozen_registry_catalog_is_never_modified_by_any_command(baseline: Path):
    frozen = (baseline / REGISTRY_CATALOG).read_bytes()
    commands = [
        ("governance", "freeze", "--at", CHANGE_AT),
        ("governance", "sync", "--at", CHANGE_AT),
        ("governance", "addendum", "--label", "phase_2_2_3", "--at", CHANGE_AT),
        ("governance", "add-op", "OP-GV05", "--title", "Catalog Audit", "--executable", "scripts/audit.py", "--coverage", "C1", "--at", LATER_AT),
        ("governance", "sync", "--label", "later", "--at", LATER_AT),
        ("governance", "check"),
        ("governance", "scorecard"),
    ]
    for command in commands:
        result = gov(baseline, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert (baseline / REGISTRY_CATALOG).read_bytes() == frozen, command
    freeze = gov(baseline, "governance", "freeze")
    assert "already frozen" in freeze.stdout


def test_sync_without_a_label_leaves_registries_pending_on_a_frozen_catalog(baseline: Path):
    result = gov(baseline, "--json", "governance", "sync", "--at", CHANGE_AT)
    assert result.returncode == 0, result.stderr
    data = result.json()
    assert data["result"]["operations_added"] == ["OP-QA11"]
    assert data["result"]["registries_pending"] == ["registry_delta_log"]
    assert any("addendum --label" in warning for warning in data["warnings"])
    assert not (baseline / ADDENDUM).exists()


def test_any_frozen_document_refuses_changes(baseline: Path):
    catalog = read(baseline, CATALOG)
    catalog["frozen"] = True
    write(baseline, CATALOG, catalog)
    before = governance_state(baseline)
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT)
    assert result.returncode == 2
    assert "frozen" in one_error_line(result.stderr, "E_GOVERNANCE_FROZEN")
    assert governance_state(baseline) == before


# --- addendum -------------------------------------------------------------------------------


def test_addendum_regenerates_to_identical_bytes(baseline: Path):
    first = gov(baseline, "governance", "addendum", "--label", "phase_2_2_3", "--at", CHANGE_AT)
    assert first.returncode == 0, first.stderr
    addendum = read(baseline, ADDENDUM)
    assert addendum["extends"] == {"document": "REGISTRY_CATALOG", "version": "0.1"}
    assert [r["registry_id"] for r in addendum["registries"]] == ["registry_delta_log"]
    assert figures(baseline)[4] == "9/13"
    before = governance_state(baseline)
    again = gov(baseline, "governance", "addendum", "--at", LATER_AT)  # default label: the latest addendum
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert governance_state(baseline) == before


def test_addendum_needs_a_frozen_catalog_and_a_first_label(fresh: Path, baseline: Path):
    before = governance_state(fresh)
    result = gov(fresh, "governance", "addendum", "--label", "p1", "--at", CHANGE_AT)
    assert result.returncode == 2
    one_error_line(result.stderr, "E_GOVERNANCE_NOT_FROZEN")
    assert governance_state(fresh) == before
    result = gov(baseline, "governance", "addendum", "--at", CHANGE_AT)
    assert result.returncode == 2
    assert "--label" in one_error_line(result.stderr, "E_USAGE")
    result = gov(baseline, "governance", "addendum", "--label", "Bad Label", "--at", CHANGE_AT)
    assert result.returncode == 2
    one_error_line(result.stderr, "E_USAGE")


# --- sync on an unfrozen catalog, freeze ----------------------------------------------------


def test_sync_adds_plugin_operations_and_registries_then_is_up_to_date(fresh: Path):
    result = gov(fresh, "governance", "sync", "--at", CHANGE_AT)
    assert result.returncode == 0, result.stderr
    assert [op["op_id"] for op in read(fresh, CATALOG)["operations"]] == ["OP-QA11"]
    assert [r["registry_id"] for r in read(fresh, REGISTRY_CATALOG)["registries"]] == ["registry_delta_log"]
    assert figures(fresh) == (1, 1, 100.0, 1, "1/1")
    before = governance_state(fresh)
    again = gov(fresh, "governance", "sync", "--at", LATER_AT)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert governance_state(fresh) == before
    freeze = gov(fresh, "governance", "freeze", "--at", LATER_AT)
    assert freeze.returncode == 0, freeze.stderr
    catalog = read(fresh, REGISTRY_CATALOG)
    assert catalog["frozen"] is True and catalog["version"] == "0.3"
    assert catalog["changelog"][-1]["changes"][0]["change"] == "FREEZE"
    assert gov(fresh, "governance", "check").returncode == 0


# --- scorecard ------------------------------------------------------------------------------


def test_scorecard_shows_derived_figures_previous_and_deltas(baseline: Path):
    assert gov(baseline, "governance", "sync", "--label", "phase_2_2_3", "--at", CHANGE_AT).returncode == 0
    text = gov(baseline, "governance", "scorecard")
    assert text.returncode == 0
    assert "164 → 165 (+1)" in text.stdout and "35 → 36 (+1)" in text.stdout
    assert "8/12 → 9/13" in text.stdout and "30/35 (85.7%) → 31/36 (86.1%) (+0.4pp)" in text.stdout
    data = gov(baseline, "--json", "governance", "scorecard").json()["result"]
    assert data["version"] == "0.2" and data["previous"]["version"] == "0.1"
    assert data["deltas"] == {"executables": "+1", "operations": "+1", "sealed_registries": "8/12 → 9/13", "at_or_above_threshold": "+0.4pp"}
    assert data["stored_matches"] is True
