"""Honest wording and exits (issue 11, point 10): what govern says is what happened.

Each test reproduces one complaint of the issue: "verified" for runs that failed, "1 files",
a dry run that "holds", ``-q`` printing OK lines, ``--json`` naming only the command group, a
bad ``--at`` answered with Python's format string, ``registry show nope`` under a generic code,
``verify /etc`` reported as a run without a seal, and ``make demo`` printing paths it deletes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govern.format.plurals import plural
from helpers import DEFAULT_AT, make_run, run_govern, seal_in_process

REPO = Path(__file__).resolve().parent.parent
GOOD = "2024-01-01__000000__good"
BAD = "2024-01-01__000001__bad"


@pytest.fixture
def two_runs(workspace: Path, runs_root: Path) -> Path:
    """A workspace with a run holding one file (run.json aside: two) that verifies, and a run
    tampered with after sealing; one registry whose artifact the good run holds."""
    config = workspace / "registry_config.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[registries.run_registry]\nkind = "sealed"\nartifact = "R.jsonl"\n',
        encoding="utf-8",
    )
    seal_in_process(make_run(runs_root, GOOD, {"R.jsonl": b"{}\n"}))
    bad = make_run(runs_root, BAD, {"a.txt": b"a\n"})
    seal_in_process(bad)
    (bad / "a.txt").write_bytes(b"b\n")
    return workspace


# --- plurals ----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**6))
def test_one_noun_is_singular_every_other_count_plural(count: int):
    assert plural(count, "file") == (f"{count} file" if count == 1 else f"{count} files")
    assert plural(count, "registry", "registries") == (f"{count} registry" if count == 1 else f"{count} registries")


def test_verify_says_how_many_passed_and_failed_not_verified(two_runs: Path):
    result = run_govern("-C", two_runs, "verify", "--all")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 runs: 1 ok, 1 failed"
    assert "verified" not in result.stdout
    assert any(line.startswith(f"FAILED  {BAD}  1 problem") and not line.endswith("problems") for line in lines)
    # The good run holds R.jsonl and run.json: the count is the manifest's.
    assert any(line.startswith(f"OK      {GOOD}  2 files  ROOT_SHA256 ") for line in lines)
    one = run_govern("verify", two_runs / ".codex/RUNS" / GOOD)
    assert one.stdout.splitlines()[-1] == "1 run: 1 ok, 0 failed"


def test_a_run_of_one_file_says_1_file(tmp_path: Path):
    run = make_run(tmp_path, GOOD, {})
    sealed = run_govern("seal", run, "--at", DEFAULT_AT)
    assert sealed.stdout.splitlines()[0].startswith(f"sealed {GOOD}: 1 file, ")  # run.json alone
    assert f"{GOOD}  1 file  ROOT_SHA256" in run_govern("verify", run).stdout


def test_delta_build_and_verify_log_count_in_the_singular(two_runs: Path):
    built = run_govern("-C", two_runs, "delta", "build", "--at", DEFAULT_AT)
    assert built.returncode == 0, built.stderr
    assert ": appended 1 record; the log holds 1" in built.stdout.splitlines()[0]
    assert "1 registry: 1 covered, 0 skipped, 0 excluded by design" in built.stdout
    assert "1 record  (+1 bootstrap, +0 transitions)" in built.stdout
    log = run_govern("-C", two_runs, "verify", "--log")
    assert log.stdout.splitlines()[-1] == "delta log intact: 1 build, 1 record"
    listed = run_govern("-C", two_runs, "registry", "list")
    assert listed.stdout.splitlines()[0].startswith("1 registry: 1 covered")
    assert "1 snapshot; last recorded " in listed.stdout and "(1 record, 0 new)" in listed.stdout


def test_a_dry_run_says_what_the_log_would_hold(two_runs: Path):
    result = run_govern("-C", two_runs, "delta", "build", "--dry-run", "--at", DEFAULT_AT)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.endswith(": would append 1 record; the log would hold 1"), first
    assert " holds" not in result.stdout


def test_validate_counts_files_and_records_in_the_right_number(two_runs: Path):
    built = run_govern("-C", two_runs, "delta", "build", "--at", DEFAULT_AT)
    assert built.returncode == 0
    result = run_govern("-C", two_runs, "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 file checked: 1 valid, 0 invalid (1 record)"


# --- -q ---------------------------------------------------------------------------------------


def test_quiet_prints_only_the_problems(two_runs: Path):
    loud = run_govern("-C", two_runs, "verify", "--all")
    quiet = run_govern("-C", two_runs, "-q", "verify", "--all")
    assert quiet.returncode == loud.returncode == 1
    assert any(line.startswith("OK ") for line in loud.stdout.splitlines())
    assert quiet.stdout.splitlines() == [line for line in loud.stdout.splitlines() if not line.startswith("OK ")]
    assert quiet.stdout.splitlines()[0].startswith(f"FAILED  {BAD}")
    # Passing: nothing at all.
    passing = run_govern("-C", two_runs, "-q", "verify", two_runs / ".codex/RUNS" / GOOD)
    assert (passing.returncode, passing.stdout, passing.stderr) == (0, "", "")


# --- --json command ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,command",
    [
        (["registry", "show", "run_registry"], "registry show"),
        (["registry", "list"], "registry list"),
        (["delta", "build", "--dry-run", "--at", DEFAULT_AT], "delta build"),
        (["governance", "add-op", "OP-X1"], "governance add-op"),  # a usage error: still named in full
        (["verify", "--all"], "verify"),
        (["plugins", "list"], "plugins list"),
    ],
)
def test_json_names_the_full_command(two_runs: Path, args: list[str], command: str):
    document = run_govern("-C", two_runs, "--json", *args).json()
    assert document["command"] == command


# --- refusals with their own words -------------------------------------------------------------


@pytest.mark.parametrize("at", ["2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "yesterday"])
def test_a_bad_at_says_the_expected_form_not_pythons_format(two_runs: Path, at: str):
    result = run_govern("-C", two_runs, "delta", "build", "--at", at)
    assert result.returncode == 2
    (line,) = result.stderr_lines
    assert line.startswith(f"govern: error: E_CLOCK_INVALID: --at: '{at}' ")
    assert "YYYY-MM-DDTHH:MM:SSZ" in line
    assert "%" not in line and "does not match format" not in line


def test_registry_show_of_an_unknown_registry_has_its_own_code(two_runs: Path):
    result = run_govern("-C", two_runs, "registry", "show", "nope")
    assert result.returncode == 2
    assert result.stderr_lines == [
        f"govern: error: E_REGISTRY_UNKNOWN: {two_runs / 'registry_config.toml'}: no registry 'nope' (configured: run_registry)"
    ]
    as_json = run_govern("-C", two_runs, "--json", "delta", "build", "--registry", "nope", "--dry-run").json()
    assert as_json["error"]["code"] == "E_REGISTRY_UNKNOWN"


@pytest.mark.parametrize("folder", ["/etc", "not_a_run"])
def test_verify_of_a_folder_that_is_not_a_run_is_not_a_run(tmp_path: Path, folder: str):
    target = Path(folder) if folder.startswith("/") else tmp_path / folder
    target.mkdir(exist_ok=True)
    result = run_govern("verify", target)
    assert result.returncode == 2
    assert result.stderr_lines == [
        f"govern: error: E_NOT_A_RUN: {target}: not a run folder; a run is named YYYY-MM-DD__HHMMSS__slug (slug: a-z, 0-9, _)"
    ]
    assert result.stdout == ""


# --- make demo --------------------------------------------------------------------------------


def test_the_demo_prints_no_path_into_its_scratch_directory(tmp_path: Path):
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--html-out", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GOVERN_")}, "TMPDIR": str(scratch_parent)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "wrote reports/PHASE_2_2_3_COMPLETION_REPORT.md" in completed.stdout
    # The seed's HTML report outlives the scratch directory, and the demo says where it is.
    assert f"wrote {tmp_path / 'site'}: HTML report, 27 files (8 registries covered, 24 records)\nopen {tmp_path / 'site' / 'index.html'}\n" in completed.stdout
    assert (tmp_path / "site" / "index.html").is_file()
    # The seed's reproduction comes first, unchanged; then the covered configuration's part
    # (examples/covered/) runs to completion on the same copy.
    seed, covered_header, covered = completed.stdout.partition("=== The same workspace with 11 of 12 registries covered")
    assert covered_header, completed.stdout
    assert "12 registries: 8 covered, 0 skipped, 4 excluded by design" in seed and "delta log intact: 1 build, 24 records" in seed
    assert "12 registries: 11 covered, 0 skipped, 1 excluded by design" in covered
    assert "system_health_report         presentation   excluded by design: Presentation-only" in covered
    assert "appended 3 records; the log holds 27" in covered and "appended 1 record; the log holds 28" in covered
    assert "[row_diff]  0 added, 0 removed, 1 modified\nM\trows/TP-DRIFT-01/mean_shift\n" in covered
    assert "delta log intact: 3 builds, 28 records" in covered
    assert "governance check passed: 5 documents agree (36 operations, 12/13 sealed registries)" in covered
    output = completed.stdout + completed.stderr
    assert str(scratch_parent) not in output and "govern-demo-" not in output
    assert list(scratch_parent.iterdir()) == []  # …and the scratch directory is gone
