"""One writer at a time (issue 6, promises 2 and 5).

Eight ``govern delta build`` started together on one workspace make exactly one new build with
no duplicate record; every one exits 0 (the later ones "up to date") or, when it gives up
waiting, 3 with ``E_LOCKED`` and the holder's pid. Readers (``verify --all --log``) need no
lock: staging folders are hidden and a build appears by one rename, so a reader running
beside builds never sees a partial run.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading

import pytest

from helpers import clean_env
from reliability_workspace import ReliabilityWorkspace, build_id, clock

RIVALS = 8


def _start(ws: ReliabilityWorkspace, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        ws.command(*args), env=clean_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(processes: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append((process.returncode, stdout, stderr))
    return results


def _assert_one_build_no_duplicates(ws: ReliabilityWorkspace, builds_before: int, snapshots: int) -> None:
    assert len(ws.builds()) == builds_before + 1
    records = ws.log_records()
    keys = [(r["registry_id"], r["to_ref"]["run_id"]) for r in records]
    assert len(keys) == len(set(keys)) == snapshots * ws.registries
    assert ws.leftovers() == [] and ws.problems() == []


@pytest.mark.parametrize("clocked", [True, False], ids=["same --at", "wall clock"])
def test_eight_simultaneous_builds_make_exactly_one(tmp_path, clocked):
    ws = ReliabilityWorkspace(tmp_path / "ws", registries=2)
    for step in range(3):
        ws.add_snapshot(step)
    args = ["delta", "build", *(["--at", clock(10)] if clocked else [])]
    results = _finish([_start(ws, *args) for _ in range(RIVALS)])
    assert [code for code, _, _ in results].count(0) == RIVALS, results
    wrote = [out for _, out, _ in results if "appended 6 records" in out]
    up_to_date = [out for _, out, _ in results if out.startswith("up to date")]
    assert len(wrote) == 1 and len(up_to_date) == RIVALS - 1, results
    _assert_one_build_no_duplicates(ws, 0, 3)
    if clocked:
        assert ws.builds() == [build_id(10)]


def test_builds_that_give_up_waiting_exit_3_naming_the_holder(tmp_path):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    for step in range(2):
        ws.add_snapshot(step)
    # --lock-timeout 0: whoever does not get the lock at once gives up.
    results = _finish([_start(ws, "--lock-timeout", "0", "delta", "build", "--at", clock(10)) for _ in range(RIVALS)])
    codes = [code for code, _, _ in results]
    assert set(codes) <= {0, 3} and 0 in codes, results
    for code, _, stderr in results:
        if code == 3:
            # The holder is named either way: from the lock file, or, when the file still names
            # the previous (exited) holder because the new one has not written its pid yet,
            # found among the processes holding the lock.
            assert "E_LOCKED" in stderr and re.search(r"locked by another govern process \((held by )?pid \d+", stderr), stderr
    _assert_one_build_no_duplicates(ws, 0, 2)


def _hold_lock(ws: ReliabilityWorkspace) -> int:
    """Take the workspace lock in this process, as a govern process would (flock + pid)."""
    fd = os.open(ws.runs_root / ".govern.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


@pytest.mark.parametrize("command", [["delta", "build"], ["repair", "--log"], ["seal", "{run}"]])
def test_a_held_lock_is_exit_3_with_the_holders_pid(tmp_path, command):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    run_dir = ws.add_snapshot(0, seal=False)
    args = [str(run_dir) if arg == "{run}" else arg for arg in command]
    fd = _hold_lock(ws)
    try:
        text = ws.govern("--lock-timeout", "0.2", *args)
        as_json = ws.govern("--json", "--lock-timeout", "0.2", *args)
    finally:
        os.close(fd)
    assert text.returncode == 3, text
    [line] = text.stderr_lines
    assert line.startswith("govern: error: E_LOCKED: ") and f"(pid {os.getpid()}, running)" in line and "--lock-timeout" in line
    assert as_json.returncode == 3 and json.loads(as_json.stdout)["error"]["code"] == "E_LOCKED"
    assert not (run_dir / "MANIFEST.sha256").exists() and ws.builds() == []
    # A lock that is free again (its holder gone) does not block: flock dies with its holder.
    assert ws.govern("--lock-timeout", "0.2", *args).returncode == 0


def test_simultaneous_seals_of_one_run_seal_it_once(tmp_path):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    run_dir = ws.add_snapshot(0, seal=False)
    results = _finish([_start(ws, "seal", str(run_dir), "--at", clock(0)) for _ in range(4)])
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2, 2, 2], results
    assert all("E_ALREADY_SEALED" in err for code, _, err in results if code == 2)
    assert ws.problems(allow_unsealed=False) == []


def test_readers_beside_builds_never_see_a_partial_run(tmp_path):
    """``verify --all --log`` takes no lock; run beside builds, it always passes."""
    ws = ReliabilityWorkspace(tmp_path / "ws")
    ws.add_snapshot(0)
    assert ws.govern("delta", "build", "--at", clock(1)).returncode == 0
    failures: list[str] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for step in range(10, 60, 10):
                ws.add_snapshot(step)
                result = ws.govern("delta", "build", "--at", clock(step + 1))
                if result.returncode != 0:
                    failures.append(f"build: {result.stderr}")
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reads = 0
    while not done.is_set() or reads < 3:
        result = ws.govern("verify", "--all", "--log")
        reads += 1
        if result.returncode != 0:
            failures.append(f"verify: {result.stdout}{result.stderr}")
    thread.join()
    assert failures == []
    assert len(ws.builds()) == 6
