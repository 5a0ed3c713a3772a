"""``govern publish`` killed with SIGKILL at random points never leaves a visible half-run (no
MANIFEST.sha256 without every object, whole), and a re-run completes it, uploading only what
the killed publish had not (issue 13, point 2)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from govern.cli import main
from helpers import RUN_ID, govern_executable, make_run, seal_in_process, verify_in_process
from reliability_workspace import start_and_kill

#: The crash points of a publish (tests/test_crash_safety.py checks every point is killed at).
PUBLISH_POINTS = ["after-object:publish@3", "before-seal:publish", "after-write:atomic@5"]
RANDOM_KILLS = 20
SEED = random.SystemRandom().randrange(1, 2**31)

# Enough objects, some large, that a random moment falls inside the upload window.
PAYLOAD = {f"data/{index:02d}.bin": random.Random(index).randbytes(20_000 * (1 + index % 4)) for index in range(30)}


def _run_objects(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def _published_keys(target: Path, expected: dict[str, bytes]) -> set[str]:
    """The run's objects present (whole) in ``target``; anything else there is debris."""
    folder = target / RUN_ID
    return {name for name, data in expected.items() if (folder / name).is_file() and (folder / name).read_bytes() == data}


def _kill_then_resume(run_dir: Path, target: Path, expected: dict[str, bytes], capsys, what: str, **kill) -> bool:
    """Kill one publish as ``kill`` says, check what it left, re-run it; True when it was killed."""
    target.mkdir()
    outcome = start_and_kill([govern_executable(), "publish", str(run_dir), "--to", str(target)], **kill)
    present = _published_keys(target, expected)
    if (target / RUN_ID / "MANIFEST.sha256").exists():
        # Visible as sealed: then it must be complete, every object with the run's bytes.
        assert present == expected.keys(), f"{what}: sealed, but {sorted(expected.keys() - present)} missing"
    capsys.readouterr()
    assert main(["--json", "publish", str(run_dir), "--to", str(target)]) == 0, what
    result = json.loads(capsys.readouterr().out)["result"]
    missing = len(expected) - len(present)
    assert result["uploaded"] == missing, f"{what}: re-run uploaded {result['uploaded']}, {missing} were missing"
    assert result["skipped"] == len(present), what
    assert _published_keys(target, expected) == expected.keys(), what
    assert not verify_in_process(target / RUN_ID).problems, what  # no debris of the killed writer either
    return outcome.killed


def test_publish_killed_at_random_points_never_leaves_a_visible_half_run(tmp_path, capsys):
    rng = random.Random(SEED)
    run_dir = make_run(tmp_path / "local", RUN_ID, PAYLOAD)
    seal_in_process(run_dir)
    expected = _run_objects(run_dir)
    for index, point in enumerate(PUBLISH_POINTS):
        assert _kill_then_resume(run_dir, tmp_path / f"point{index}", expected, capsys, point, fault=point), point
    kills = 0
    for round_ in range(RANDOM_KILLS):
        if round_ % 2:  # at a random object's put
            kill = {"fault": f"after-object:publish@{rng.randint(1, len(expected) - 1)}"}
        else:  # a random moment after the first object is stored (inside the upload window)
            kill = {"fault": "after-object:publish@1", "stop_then_kill_after": rng.uniform(0, 0.08)}
        what = f"seed {SEED}, round {round_}: {kill}"
        kills += _kill_then_resume(run_dir, tmp_path / f"random{round_}", expected, capsys, what, **kill)
    assert kills >= RANDOM_KILLS // 2, f"seed {SEED}: only {kills} publishes were killed"
