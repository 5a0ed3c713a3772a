"""The benchmark harness runs end to end (``--quick``: tiny sizes) — no timing is asserted.

Timings depend on the machine and its load; what is checked here is that every workload
generates its data, runs govern and its peers, and prints a ratio row, and that the
harness's own measuring and generating are right.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govern.format.jsonio import dump_canonical

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `benchmarks` is a folder of the repository, not an installed package

from benchmarks.generate import manifest_bytes  # noqa: E402
from benchmarks.postgres import server_available as postgres_available  # noqa: E402
from benchmarks.timing import Command, run_once  # noqa: E402
from benchmarks.workloads import all_workloads  # noqa: E402

RATIO = re.compile(r"\s\d+\.\d\dx\s")


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("== "):
            current = line[3:].split(":", 1)[0]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


#: Workloads whose own tests below run them over several rounds (a round of them here would
#: only repeat the first of those).
_RUN_OVER_ROUNDS_BELOW = {"scale", "incremental", "delta_build"}


@pytest.mark.parametrize("name", [w.name for w in all_workloads() if w.name not in _RUN_OVER_ROUNDS_BELOW])
def test_quick_run_prints_a_ratio_row_per_workload(tmp_path, name):
    """One workload per test, so that the suite's workers share the harness's minute."""
    json_out = tmp_path / "results.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--heavy", "--scratch", str(scratch), "--json-out", str(json_out), name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sections = _sections(done.stdout)
    assert sorted(sections) == [name], done.stdout
    # Without their peer (openssl) or server (PostgreSQL, which `make test` installs) a
    # workload's rows are skipped, saying what to install (checked below), with no ratio.
    peerless = (name in {"large_files", "small_files"} and shutil.which("openssl") is None) or (name == "sql_table" and not postgres_available())
    if not peerless:
        assert any(RATIO.search(line) for line in sections[name]), f"no ratio row for {name}:\n" + "\n".join(sections[name])
    results = json.loads(json_out.read_text())
    assert [w["name"] for w in results["workloads"]] == [name]
    for workload in results["workloads"]:
        for row in workload["rows"]:
            assert row["status"] in {"met", "NOT met", "skipped", "reference"}, row
            if row["status"] == "skipped":
                assert "install" in row["note"], row  # a skipped peer says how to install it
    assert list(scratch.iterdir()) == []  # generated data is deleted


def test_the_list_names_every_workload_in_running_order():
    """`--list` names every workload the harness runs without names (what `make bench` does), in order."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--list"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines() if line.strip()] == [w.name for w in all_workloads()]


def test_unknown_workload_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "no_such_workload"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown workload" in done.stderr


@pytest.mark.parametrize(
    "entries",
    [
        [],
        [("a.txt", "0" * 64, 0)],
        [("data/d0/f1.bin", "ab" * 32, 4096), ("data/é/ñ \"q\".bin", "cd" * 32, 7), ("run.json", "ef" * 32, 12)],
    ],
)
def test_synthetic_manifest_is_canonical_json(entries):
    """The hand-formatted manifest is byte for byte the canonical JSON govern writes."""
    document = {
        "manifest_version": "0.1",
        "run_id": "2020-01-01__000000__x",
        "algorithm": "sha256",
        "files": [{"path": p, "sha256": d, "bytes": b} for p, d, b in entries],
    }
    assert manifest_bytes("2020-01-01__000000__x", entries) == dump_canonical(document)


def test_peak_memory_is_the_childs_not_the_harnesss():
    """A child's ru_maxrss would include its parent's memory if the harness forked it itself."""
    ballast = bytearray(300 << 20)
    ballast[:: 4096] = b"\1" * len(ballast[:: 4096])  # touch every page: resident
    small = run_once(Command.single("true", ["true"]))
    big = run_once(Command.single("alloc", [sys.executable, "-c", "b = bytearray(200 << 20); b[::4096] = b'\\1' * len(b[::4096])"]))
    del ballast
    assert small.peak_bytes < 100 << 20
    assert big.peak_bytes > 200 << 20


def _workload_results(tmp_path: Path, name: str, *options: str) -> dict:
    """The JSON results of one workload run at quick sizes with ``options`` (no warm-up),
    having checked what every run must do: print ratio rows, and delete its data."""
    json_out = tmp_path / "results.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", *options, "--warmup", "0", "--scratch", str(scratch), "--json-out", str(json_out), name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(RATIO.search(line) for line in _sections(done.stdout)[name]), done.stdout
    assert list(scratch.iterdir()) == []  # generated data is deleted
    (workload,) = json.loads(json_out.read_text())["workloads"]
    return workload


def test_scale_workload_measures_both_roots_and_every_commands_peak(tmp_path):
    """Issue 18's scale row: the +1 build and verify --log --checkpoint, large root against
    small, and a peak-vs-1 GiB row for every command run on the large root. Two rounds, so a
    round starts after the previous one's build was taken back (its run *and* its head)."""
    workload = _workload_results(tmp_path, "scale", "--heavy", "--repeat", "2")
    rows = {row["case"]: row for row in workload["rows"]}
    assert list(rows) == [
        "delta build +1 snapshot run: 12 vs 4 runs",
        "verify --log --checkpoint: 12 vs 4 runs",
        "delta build +1 snapshot run (12 runs): peak",
        "verify --log --checkpoint (12 runs): peak",
        "validate LOG (12 runs): peak",
        "check (12 runs): peak",
    ]
    for row in rows.values():
        assert row["status"] in {"met", "NOT met"} and row["ratio"] is not None, row
    assert [row["target"] for row in rows.values()] == ["<= 2.0"] * 2 + ["<= 1 GiB"] * 4
    assert any("bootstrap build of 48 records" in note for note in workload["notes"]), workload["notes"]


@pytest.mark.parametrize("name", ["incremental", "delta_build"])
def test_a_timed_build_is_taken_back_whole_between_rounds(tmp_path, name):
    """Each timed round of a build workload starts from the same log: a round's build is
    taken back with the head object that committed it (a run removed alone left a head naming
    it, and the next round's build stopped with E_LOG_TAMPERED)."""
    workload = _workload_results(tmp_path, name, "--repeat", "2")
    for row in workload["rows"]:
        assert row["status"] in {"met", "NOT met"} and row["ratio"] is not None, row
