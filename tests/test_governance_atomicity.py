"""add-op writes catalog, matrix and scorecard all or none (docs/governance.md, "All or nothing").

Faults are injected into the real console script through :mod:`govern.runtime.faults`:
``GOVERN_FAULT_IO`` makes one rename fail with EIO (the in-process rollback), ``GOVERN_FAULT``
SIGKILLs the process at a crash point (recovery by the next governance command).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from governance_books import (
    ADDENDUM,
    CATALOG,
    CHANGE_AT,
    MATRIX,
    OP_QA11,
    SCORECARD,
    baseline_workspace,
    gov,
    governance_state,
    read,
)

#: add-op stages 3 files and the journal (a rename each, through write_atomic), then renames
#: the 3 staged files into place: the 7th rename of the process is the third document's.
THIRD_DOCUMENT_RENAME = 7
TXN = ".govern-tmp-txn"


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    return baseline_workspace(tmp_path / "ws")


def test_an_io_error_on_the_third_write_leaves_all_three_documents_unchanged(baseline: Path):
    before = governance_state(baseline)
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT, env={"GOVERN_FAULT_IO": f"replace:{THIRD_DOCUMENT_RENAME}:EIO"})
    assert result.returncode == 2
    assert result.stderr.startswith("govern: error: E_IO: ")
    assert "restored" in result.stderr and "Traceback" not in result.stderr
    # Byte for byte and mtime for mtime: the originals are back (they were never copied).
    assert governance_state(baseline) == before
    assert gov(baseline, "governance", "check").returncode == 0


@pytest.mark.parametrize("point", ["after-journal:governance", "apply:governance@1", "apply:governance@2", "apply:governance@3"])
def test_a_crash_after_the_commit_point_is_completed_by_the_next_command(baseline: Path, point: str):
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT, env={"GOVERN_FAULT": point})
    assert result.returncode == -signal.SIGKILL
    assert (baseline / "governance" / TXN / "JOURNAL.json").is_file()  # the commit point was reached
    check = gov(baseline, "governance", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "completed a governance change interrupted by a crash" in check.stderr
    assert not (baseline / "governance" / TXN).exists()
    assert "OP-QA11" in [op["op_id"] for op in read(baseline, CATALOG)["operations"]]
    assert "OP-QA11" in [row["op_id"] for row in read(baseline, MATRIX)["rows"]]
    assert read(baseline, SCORECARD)["figures"]["operations"] == 36


def test_a_crash_before_the_commit_point_leaves_all_three_unchanged(baseline: Path):
    documents = {path: (baseline / path).read_bytes() for path in (CATALOG, MATRIX, SCORECARD)}
    # The 2nd staged file is written but the journal is not: the change was never committed.
    result = gov(baseline, "governance", "add-op", *OP_QA11, "--at", CHANGE_AT, env={"GOVERN_FAULT": "after-write:atomic@2"})
    assert result.returncode == -signal.SIGKILL
    check = gov(baseline, "governance", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "discarded an uncommitted governance change" in check.stderr
    assert {path: (baseline / path).read_bytes() for path in documents} == documents
    assert not (baseline / "governance" / TXN).exists()


def test_a_directory_in_the_way_of_a_document_is_refused_before_anything_is_written(baseline: Path):
    (baseline / ADDENDUM).mkdir(parents=True)
    before = governance_state(baseline)
    result = gov(baseline, "governance", "addendum", "--label", "phase_2_2_3", "--at", CHANGE_AT)
    assert result.returncode == 2
    assert "directory" in result.stderr and "Traceback" not in result.stderr
    assert governance_state(baseline) == before
