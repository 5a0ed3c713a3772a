"""I/O faults: ``os.write``, ``os.fsync`` and ``os.replace`` failing with ENOSPC or EIO on the
Nth call of ``delta build``, ``seal``, ``repair --log`` and ``governance add-op`` (``GOVERN_FAULT_IO=<call>:<N>:<ERRNO>``, test-only) → one clear ``E_IO`` message
naming the path, a non-zero exit, and the previous state intact (issue 6, promise 4).

For each command and each kind of call, N runs from 1 up until the command has no Nth call
left (it then succeeds): every single write, fsync and rename on the command's write path is
made to fail once. Between failures the workspace must be byte-for-byte what it was — a failed
command takes back what it had written. An fsync failure is fatal, never retried: the command
fails even though the next fsync would succeed.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from helpers import run_govern, tree_state
from reliability_workspace import LOG_NAME, ReliabilityWorkspace, clock

CALLS = ("write", "fsync", "replace")
#: More calls than any command makes; reaching it means the loop never ended.
MAX_CALLS = 40


def _photo(root: Path) -> dict:
    """Everything under ``root`` but the lock file (whose holder pid each command rewrites)."""
    return {path: state for path, state in tree_state(root).items() if not path.endswith(b".govern.lock")}


def _errno_for(n: int) -> str:
    """Alternate the two errors, so both are met on every kind of call."""
    return "ENOSPC" if n % 2 else "EIO"


def _fail_each_call(
    root: Path, call: str, args: list[str], *, may_commit_last_fsync: bool = False, env: dict[str, str] | None = None
) -> int:
    """Run ``govern -C ROOT ARGS`` with its 1st, 2nd, … ``call`` failing until it succeeds.

    Returns how many calls of that kind the command makes. ``may_commit_last_fsync``: a
    failure of the very last fsync may leave the new state instead (the work is complete but
    its durability is unknown), which the caller then checks.
    """
    for n in range(1, MAX_CALLS):
        before = _photo(root)
        name = _errno_for(n)
        result = run_govern("-C", root, *args, env={**(env or {}), "GOVERN_FAULT_IO": f"{call}:{n}:{name}"})
        if result.returncode == 0:
            assert n > 1, f"{args}: no {call} call at all on the write path"
            return n - 1
        context = f"{args} with {call} #{n} failing ({name}): {result.stderr}"
        assert result.returncode == 2, context
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("govern: error: E_IO: "), context
        assert str(root) in lines[0] and os.strerror(getattr(errno, name)) in lines[0], context
        assert "Traceback" not in result.stderr, context
        if _photo(root) != before:
            assert may_commit_last_fsync and call == "fsync", context + "\nthe workspace changed"
            return n
    pytest.fail(f"{args}: still failing after {MAX_CALLS} {call} calls")


@pytest.mark.parametrize("call", CALLS)
def test_delta_build_io_fault_leaves_the_runs_root_as_it_was(tmp_path, call):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    ws.add_snapshot(0)
    assert ws.govern("delta", "build", "--at", clock(1)).returncode == 0
    ws.add_snapshot(2)
    calls = _fail_each_call(ws.root, call, ["delta", "build", "--at", clock(3)])
    # 4 files (log, run.json, manifest.json, MANIFEST.sha256) sealed in the staging folder,
    # then the same 4 published (put if-absent: a link, not a rename), the seal last.
    assert calls >= {"write": 8, "fsync": 16, "replace": 4}[call]
    assert ws.problems() == [] and ws.leftovers() == []
    assert len(ws.builds()) == 2  # the last, fault-free run wrote the build


@pytest.mark.parametrize("call", CALLS)
def test_seal_io_fault_leaves_the_run_unsealed_and_unchanged(tmp_path, call):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    run_dir = ws.add_snapshot(0, seal=False)
    calls = _fail_each_call(ws.root, call, ["seal", str(run_dir), "--at", clock(0)])
    assert calls >= {"write": 3, "fsync": 6, "replace": 3}[call]
    assert (run_dir / "MANIFEST.sha256").exists()
    assert ws.problems(allow_unsealed=False) == []


@pytest.mark.parametrize("call", CALLS)
def test_repair_io_fault_leaves_the_torn_log_or_finishes_the_cut(tmp_path, call):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    ws.add_snapshot(0)
    assert ws.govern("delta", "build", "--at", clock(1)).returncode == 0
    log = ws.runs_root / ws.builds()[0] / LOG_NAME
    sealed = log.read_bytes()
    log.write_bytes(sealed + b'{"torn')
    calls = _fail_each_call(ws.root, call, ["repair", "--log"], may_commit_last_fsync=True)
    assert calls >= 1
    # Either the fault-free run cut the tail, or the final fsync failed after the cut: the
    # log is the sealed one and the backup of the torn file is kept.
    assert log.read_bytes() == sealed
    backups = list((ws.root / ".govern" / "repairs").glob("*/" + LOG_NAME))
    assert [b.read_bytes() for b in backups] == [sealed + b'{"torn']
    assert ws.problems(allow_unsealed=False) == []


# --------------------------------------------------------------------------- in process


@pytest.fixture
def fresh_faults(monkeypatch):
    """The fault module with its counts reset, and no fault armed."""
    from govern.runtime import faults

    monkeypatch.delenv("GOVERN_FAULT", raising=False)
    monkeypatch.delenv("GOVERN_FAULT_IO", raising=False)
    faults.reset()
    yield faults
    faults.reset()


@pytest.mark.parametrize("spec", ["write", "write:1", "write:x:EIO", "chmod:1:EIO", "write:1:ENOTANERRNO", "write:1:EIO:x"])
def test_a_malformed_io_fault_spec_is_a_usage_error(tmp_path, monkeypatch, fresh_faults, spec):
    from govern.errors import GovernError
    from govern.store.atomic import write_atomic

    monkeypatch.setenv("GOVERN_FAULT_IO", spec)
    with pytest.raises(GovernError) as raised:
        write_atomic(tmp_path / "x", b"data")
    assert raised.value.code == "E_USAGE" and "GOVERN_FAULT_IO" in raised.value.message


def test_an_injected_fault_fails_the_nth_call_only(tmp_path, monkeypatch, fresh_faults):
    from govern.errors import GovernError
    from govern.store.atomic import write_atomic

    monkeypatch.setenv("GOVERN_FAULT_IO", "fsync:3:EIO")
    write_atomic(tmp_path / "a", b"1")  # fsync 1 (file), 2 (directory)
    with pytest.raises(GovernError) as raised:
        write_atomic(tmp_path / "b", b"2")  # fsync 3 fails: the file is never renamed into place
    assert raised.value.code == "E_IO"
    assert str(tmp_path / "b") in raised.value.message and "fsync failed" in raised.value.message
    assert sorted(os.listdir(tmp_path)) == ["a"]
    write_atomic(tmp_path / "c", b"3")  # the 4th call and later succeed again
    assert sorted(os.listdir(tmp_path)) == ["a", "c"]


def test_a_write_never_leaves_its_temporary_file(tmp_path, monkeypatch, fresh_faults):
    from govern.errors import GovernError
    from govern.store.atomic import write_atomic

    (tmp_path / "doc.json").write_bytes(b"old\n")
    for call in CALLS:
        fresh_faults.reset()
        monkeypatch.setenv("GOVERN_FAULT_IO", f"{call}:1:ENOSPC")
        with pytest.raises(GovernError, match="No space left on device"):
            write_atomic(tmp_path / "doc.json", b"new\n")
        assert os.listdir(tmp_path) == ["doc.json"] and (tmp_path / "doc.json").read_bytes() == b"old\n"


def test_unarmed_fault_hooks_cost_next_to_nothing(fresh_faults):
    """With no fault armed, a hook is one environment lookup: well under a microsecond or
    two, against the tens of microseconds of the system call it sits next to."""
    started = time.perf_counter()
    for _ in range(100_000):
        fresh_faults.crash_point("after-write:atomic")
    per_call = (time.perf_counter() - started) / 100_000
    assert per_call < 20e-6, f"{per_call * 1e6:.2f} µs per unarmed crash point"


def test_fault_points_are_read_at_call_time_not_import_time(monkeypatch, fresh_faults):
    """Arming a fault after import works (nothing is read when the module is imported)."""
    import signal

    killed = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(sig))
    monkeypatch.setenv("GOVERN_FAULT", "after-manifest:seal@2")
    fresh_faults.crash_point("after-manifest:seal")
    assert killed == []
    fresh_faults.crash_point("after-seal:seal")
    fresh_faults.crash_point("after-manifest:seal")
    assert killed == [signal.SIGKILL]


DOCUMENTS = (
    "governance/ALLOWED_OPERATIONS_CATALOG.json",
    "governance/ENFORCEMENT_COVERAGE_MATRIX.json",
    "governance/GOVERNANCE_COMPLETENESS_SCORECARD.json",
)


@pytest.mark.parametrize("call", CALLS)
def test_governance_add_op_io_fault_leaves_all_three_documents_as_they_were(tmp_path, call):
    from governance_books import LATER_AT, OP_QA11, baseline_workspace

    root = baseline_workspace(tmp_path / "ws")
    args = ["governance", "add-op", *OP_QA11, "--at", LATER_AT]
    before = {name: (root / name).read_bytes() for name in DOCUMENTS}
    calls = _fail_each_call(root, call, args, may_commit_last_fsync=True, env={"GOVERN_LOAD_PLUGINS": ""})
    assert calls >= 3
    # The fault-free run made the change — or the very last fsync failed after it was made:
    # either way all three documents are new, and the books agree with themselves.
    assert all((root / name).read_bytes() != before[name] for name in DOCUMENTS)
    assert run_govern("-C", root, "governance", "check", env={"GOVERN_LOAD_PLUGINS": ""}).returncode == 0
