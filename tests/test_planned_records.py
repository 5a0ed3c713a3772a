"""Issue 11 point 3: a plugin could commit records that fail the schema.

A ``govern_delta_basis`` hookimpl returning basis ``record_diff`` was appended, sealed and
committed, and ``verify --log`` then failed for good. Every record a build plans is now held
to a declared basis, its record version and its schema before anything is written; a plugin
may declare its bases (``govern_delta_bases``) and record them from record version 0.2 on.
Plugins are registered as objects, in-process (``govern.testing.invoke_cli``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govern import hookimpl
from govern.format.models import Delta
from govern.testing import ScratchWorkspace
from helpers import tree_state

ARTIFACT = "RUN_REGISTRY_v0_1.jsonl"
FIRST = "2024-01-01__000000__first"
SECOND = "2024-01-02__000000__second"
THIRD = "2024-01-03__000000__third"


class RecordDiff:
    """Answers basis ``record_diff`` for every sealed snapshot — without declaring it."""

    @hookimpl(tryfirst=True)
    def govern_delta_basis(self, registry, before, after):
        if after.status != "sealed":
            return None
        return Delta("record_diff", modified=[ARTIFACT])


class DeclaredRecordDiff(RecordDiff):
    """The same, declaring its basis."""

    @hookimpl
    def govern_delta_bases(self):
        return ["record_diff"]


class EmptyPath:
    """A built-in basis, but a record the schema refuses (an empty path)."""

    @hookimpl(tryfirst=True)
    def govern_delta_basis(self, registry, before, after):
        return Delta("manifest_diff", added=[""])


@pytest.fixture
def ws(tmp_path: Path) -> ScratchWorkspace:
    """One registry, one build of two snapshots (record v0.1), a third snapshot pending."""
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}})
    workspace.run(FIRST, {ARTIFACT: '{"run_id": "a"}\n'})
    workspace.run(SECOND, {ARTIFACT: '{"run_id": "a"}\n{"run_id": "b"}\n'})
    built = workspace.cli("delta", "build", "--at", "2024-02-01T00:00:00Z")
    assert built.returncode == 0, built.stderr
    workspace.run(THIRD, {ARTIFACT: '{"run_id": "a"}\n{"run_id": "c"}\n'})
    return workspace


def set_record_version(ws: ScratchWorkspace, version: str) -> None:
    config = ws.root / "registry_config.toml"
    lines = [line for line in config.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("record_version")]
    text = "".join(lines)
    config.write_text(text.replace("[workspace]\n", f'[workspace]\nrecord_version = "{version}"\n', 1), encoding="utf-8")


def photograph(ws: ScratchWorkspace) -> dict:
    """Everything in the workspace but the lock file (a refused build still takes the lock)."""
    return {path: value for path, value in tree_state(ws.root).items() if not path.endswith(b".govern.lock")}


def error_line(result) -> str:
    errors = [line for line in result.stderr_lines if line.startswith("govern: error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def test_an_undeclared_basis_is_refused_naming_the_plugin_and_nothing_is_written(ws: ScratchWorkspace) -> None:
    before = photograph(ws)
    for extra in ((), ("--dry-run",)):
        result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z", *extra, plugins={"record_diff": RecordDiff()})
        assert result.returncode == 2, result.stdout + result.stderr
        line = error_line(result)
        assert line.startswith("govern: error: E_BASIS_UNDECLARED: plugin record_diff (test plugin) answered basis 'record_diff'")
        assert f"registry run_registry @ {THIRD}" in line and "2024-03-01__000000__registry_delta_log_build" in line
        assert "declared: manifest_diff, member_diff, row_diff, unknown" in line
        assert photograph(ws) == before  # no staging folder, no build run
    verify = ws.cli("verify", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_declared_basis_is_recorded_from_record_version_0_2_and_the_log_verifies(ws: ScratchWorkspace) -> None:
    set_record_version(ws, "0.2")
    result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z", plugins={"record_diff": DeclaredRecordDiff()})
    assert result.returncode == 0, result.stdout + result.stderr
    records = ws.log_records()
    assert [(r["delta_version"], r["delta_basis"]) for r in records] == [
        ("0.1", "manifest_diff"),
        ("0.1", "manifest_diff"),
        ("0.2", "record_diff"),
    ]
    assert records[2]["counts"] == {"added": 0, "removed": 0, "modified": 1}
    # verify --log and validate hold each record to its own version's schema; no plugin needed
    verify = ws.cli("verify", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    validate = ws.cli("validate", str(ws.latest_build() / "REGISTRY_DELTA_LOG_v0_1.jsonl"))
    assert validate.returncode == 0, validate.stdout + validate.stderr
    # going forward only: a build configured back to 0.1 is refused, naming the key
    set_record_version(ws, "0.1")
    ws.run("2024-01-04__000000__fourth", {ARTIFACT: '{"run_id": "d"}\n'})
    before = photograph(ws)
    back = ws.cli("delta", "build", "--at", "2024-04-01T00:00:00Z")
    assert back.returncode == 2
    line = error_line(back)
    assert "E_CONFIG_INVALID" in line and 'workspace.record_version = "0.1"' in line and "never back" in line
    assert photograph(ws) == before


def test_a_declared_basis_under_record_version_0_1_is_refused_explaining_record_version(ws: ScratchWorkspace) -> None:
    before = photograph(ws)
    result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z", plugins={"record_diff": DeclaredRecordDiff()})
    assert result.returncode == 2, result.stdout + result.stderr
    line = error_line(result)
    assert line.startswith("govern: error: E_RECORD_INVALID: plugin record_diff (test plugin) answered basis 'record_diff'")
    assert f"registry run_registry @ {THIRD}" in line
    assert "record version 0.1 does not admit" in line and 'record_version = "0.2"' in line
    assert photograph(ws) == before


def test_a_record_the_schema_refuses_is_refused_naming_the_plugin_and_the_violation(ws: ScratchWorkspace) -> None:
    before = photograph(ws)
    result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z", plugins={"empty_path": EmptyPath()})
    assert result.returncode == 2, result.stdout + result.stderr
    line = error_line(result)
    assert line.startswith("govern: error: E_RECORD_INVALID: plugin empty_path (test plugin) answered a delta for")
    assert f"registry run_registry @ {THIRD}" in line and "schema v0.1 refuses: $.added_paths[0]" in line
    assert photograph(ws) == before


def test_a_basis_name_that_is_not_a_name_is_a_plugin_failure(ws: ScratchWorkspace) -> None:
    class BadName(RecordDiff):
        @hookimpl
        def govern_delta_bases(self):
            return ["Record-Diff"]

    result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z", plugins={"bad_name": BadName()})
    assert result.returncode == 2
    assert "E_PLUGIN_FAILED: plugin bad_name (test plugin) declares delta basis 'Record-Diff'" in error_line(result)


def test_record_version_must_be_a_known_version(ws: ScratchWorkspace) -> None:
    set_record_version(ws, "0.3")
    result = ws.cli("delta", "build", "--at", "2024-03-01T00:00:00Z")
    assert result.returncode == 2
    assert 'workspace.record_version: \'0.3\' is not a record version (expected "0.1" or "0.2")' in error_line(result)


def test_the_built_in_bases_are_declared(ws: ScratchWorkspace) -> None:
    from govern.testing import plugin_host

    assert plugin_host().delta_bases() == {
        "manifest_diff": ("manifest_diff",),
        "member_diff": ("collection",),
        "row_diff": ("sql_table",),
        "unknown": ("unknown_basis",),
    }
    assert json.loads(ws.cli("--json", "delta", "build", "--at", "2024-03-01T00:00:00Z").stdout)["exit_code"] == 0
