"""Scale hygiene (issue 7): no quadratic step hides in sealing, verifying or building.

A 50,000-file run is sealed and verified, and a registry with 1,000 snapshots is built and
verified, all inside the suite's time budget. These are not timing assertions — a quadratic
step would simply take minutes here and trip the generous per-command timeout — and each test
checks what was produced, so it cannot pass by doing nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from delta_workspace import DeltaWorkspace, build_at
from helpers import run_govern

FILES = 50_000
SNAPSHOTS = 1_000
#: Far above what linear work needs on a loaded 2-core machine, far below a quadratic step.
TIMEOUT = 240


def test_a_50000_file_run_seals_and_verifies(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "2024-01-02__030405__wide"
    for folder in range(FILES // 100):
        directory = run / f"d{folder:03d}"
        directory.mkdir(parents=True)
        for index in range(100):
            (directory / f"f{index:02d}.txt").write_bytes(b"%d/%d\n" % (folder, index))
    sealed = run_govern("seal", run, "--at", "2024-01-02T03:04:05Z", "--json", timeout=TIMEOUT)
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.json()["result"]["files"] == FILES + 1  # and run.json
    manifest = json.loads((run / "manifest.json").read_bytes())
    assert len(manifest["files"]) == FILES + 1
    verified = run_govern("verify", run, "--json", timeout=TIMEOUT)
    assert verified.returncode == 0, verified.stdout
    assert verified.json()["result"]["runs"][0]["files"] == FILES + 1


def test_a_registry_with_1000_snapshots_builds_and_verifies(tmp_path: Path) -> None:
    ws = DeltaWorkspace.create(tmp_path / "ws", {"ledger": {"kind": "sealed", "artifact": "LEDGER.jsonl"}})
    lines = ""
    for index in range(SNAPSHOTS):
        lines += f'{{"entry": {index}}}\n'
        day, second = divmod(index, 86_400)
        ws.run(f"2024-01-{day + 1:02d}__{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}__snap", {"LEDGER.jsonl": lines[-64:]})
    built = ws.govern("delta", "build", "--at", build_at(1), "--json")
    assert built.returncode == 0, built.stderr
    assert built.json()["result"]["records_appended"] == SNAPSHOTS
    verified = ws.govern("verify", "--log")
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.splitlines()[-1] == f"delta log intact: 1 build, {SNAPSHOTS} records"
