"""``govern governance check``: everything derivable recomputed, every disagreement named."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance_books import (
    CATALOG,
    CHANGE_AT,
    MATRIX,
    OP_QA11,
    REPO,
    SCORECARD,
    baseline_workspace,
    gov,
    governance_state,
    read,
    write,
)


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    return baseline_workspace(tmp_path / "ws")


def problems(root: Path) -> list[dict]:
    result = gov(root, "--json", "governance", "check")
    assert result.returncode == 1, result.stdout
    data = result.json()
    assert data["result"]["ok"] is False
    return data["result"]["problems"]


def test_the_reference_books_pass(tmp_path: Path):
    result = gov(REPO, "governance", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "governance check passed" in result.stdout


def test_a_hand_edited_scorecard_fails_naming_the_figure(baseline: Path):
    card = read(baseline, SCORECARD)
    card["figures"]["operations"] = 31
    card["figures"]["at_or_above_threshold"]["total"] = 31  # a careful forger keeps the JSON self-consistent…
    card["figures"]["at_or_above_threshold"]["percent"] = 96.8
    write(baseline, SCORECARD, card)
    found = problems(baseline)
    mismatch = [p for p in found if p["where"].endswith("figures.operations")]
    assert len(mismatch) == 1 and mismatch[0]["code"] == "E_GOVERNANCE_MISMATCH"
    assert "says 31" in mismatch[0]["message"] and "35" in mismatch[0]["message"]  # …but the catalog holds 35
    text = gov(baseline, "governance", "check")
    assert "E_GOVERNANCE_MISMATCH" in text.stdout and "FAILED" in text.stdout


def test_a_scorecard_contradicting_itself_is_named_too(baseline: Path):
    card = read(baseline, SCORECARD)
    card["figures"]["at_or_above_threshold"]["percent"] = 85.8
    write(baseline, SCORECARD, card)
    assert any("85.7%" in p["message"] for p in problems(baseline))


def test_writing_commands_refuse_to_build_on_a_contradicted_scorecard(baseline: Path):
    card = read(baseline, SCORECARD)
    card["figures"]["executables"] = 160
    write(baseline, SCORECARD, card)
    before = governance_state(baseline)
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT)
    assert result.returncode == 1
    assert "E_GOVERNANCE_MISMATCH" in result.stderr and "executables 160" in result.stderr
    assert governance_state(baseline) == before


def test_a_matrix_row_for_an_operation_not_in_the_catalog(baseline: Path):
    matrix = read(baseline, MATRIX)
    matrix["rows"].append({"op_id": "OP-XX99", "coverage": "C1", "enforcement": []})
    write(baseline, MATRIX, matrix)
    found = problems(baseline)
    assert any(p["code"] == "E_MATRIX_ORPHAN_ROW" and "OP-XX99" in p["where"] for p in found)


def test_an_operation_without_a_row(baseline: Path):
    matrix = read(baseline, MATRIX)
    matrix["rows"] = [row for row in matrix["rows"] if row["op_id"] != "OP-QA09"]
    write(baseline, MATRIX, matrix)
    found = problems(baseline)
    assert any(p["code"] == "E_MATRIX_ROW_MISSING" and "OP-QA09" in p["where"] for p in found)


def test_a_row_below_its_level_and_unknown_ids(baseline: Path):
    matrix = read(baseline, MATRIX)
    rows = {row["op_id"]: row for row in matrix["rows"]}
    rows["OP-QA01"]["enforcement"] = ["E1"]
    rows["OP-QA02"]["coverage"] = "C7"
    rows["OP-QA03"]["enforcement"].append("E9")
    write(baseline, MATRIX, matrix)
    codes = {p["code"] for p in problems(baseline)}
    assert {"E_LEVEL_UNMET", "E_UNKNOWN_LEVEL", "E_UNKNOWN_ENFORCEMENT"} <= codes


def test_a_configured_registry_absent_from_catalog_and_addenda(baseline: Path):
    config = baseline / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[registries.new_ledger]\nkind = "sealed"\nartifact = "NEW_LEDGER.jsonl"\n', encoding="utf-8")
    found = problems(baseline)
    assert any(p["code"] == "E_REGISTRY_UNCATALOGUED" and p["where"] == "new_ledger" for p in found)
    # The addendum is where it goes; afterwards the books agree again.
    assert gov(baseline, "governance", "addendum", "--label", "ledger", "--at", CHANGE_AT).returncode == 0
    assert gov(baseline, "governance", "check").returncode == 0


def test_a_catalog_entry_contradicting_the_configuration(baseline: Path):
    document = read(baseline, "governance/REGISTRY_CATALOG.json")
    for entry in document["registries"]:
        if entry["registry_id"] == "threshold_registry_db":
            entry["sealed"] = True
    write(baseline, "governance/REGISTRY_CATALOG.json", document)
    found = problems(baseline)
    assert any("threshold_registry_db" in p["where"] and p["code"] == "E_GOVERNANCE_MISMATCH" for p in found)


def test_a_duplicate_operation_and_a_broken_history(baseline: Path):
    catalog = read(baseline, CATALOG)
    catalog["operations"].append(dict(catalog["operations"][0]))
    catalog["version"] = "0.3"
    write(baseline, CATALOG, catalog)
    messages = [(p["code"], p["message"]) for p in problems(baseline)]
    assert ("E_GOVERNANCE_INVALID", "listed more than once") in messages
    assert any(code == "E_GOVERNANCE_INVALID" and "last changelog entry is 0.1" in message for code, message in messages)
