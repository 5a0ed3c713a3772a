"""``govern publish`` killed with SIGKILL at random points never leaves a visible half-run (no
MANIFEST.sha256 without every object, whole), and a re-run completes it, uploading only what
the killed publish had not (issue 13, point 2). The same kills on s3://: tests/test_s3_publish_crash.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from govern.cli import main
from helpers import RUN_ID, govern_executable, make_run, seal_in_process, verify_in_process
from publish_crash import PUBLISH_STEPS, Killed, kill_then_resume, kills_landed, payload, run_objects

#: The crash points of a publish (tests/test_crash_safety.py checks every point is killed at).
PUBLISH_POINTS = [*PUBLISH_STEPS, "after-write:atomic@5"]
RANDOM_KILLS = 20
SEED = random.SystemRandom().randrange(1, 2**31)

# Enough objects, some large, that a random moment falls inside the upload window.
PAYLOAD = payload(30, 20_000)
#: How long after its first object a random kill may come.
UPLOAD_WINDOW_S = 0.08


def _published_keys(target: Path, expected: dict[str, bytes]) -> set[str]:
    """The run's objects present (whole) in ``target``; anything else there is debris."""
    folder = target / RUN_ID
    return {name for name, data in expected.items() if (folder / name).is_file() and (folder / name).read_bytes() == data}


def _kill_then_resume(run_dir: Path, target: Path, expected: dict[str, bytes], capsys, what: str, **kill) -> Killed:
    """Kill one publish as ``kill`` says, check what it left, re-run it; how it ended."""
    target.mkdir()

    def rerun() -> dict:
        capsys.readouterr()
        assert main(["--json", "publish", str(run_dir), "--to", str(target)]) == 0, what
        return json.loads(capsys.readouterr().out)["result"]

    ended = kill_then_resume(
        [govern_executable(), "publish", str(run_dir), "--to", str(target)],
        expected=expected,
        present=lambda: _published_keys(target, expected),
        sealed=lambda: (target / RUN_ID / "MANIFEST.sha256").exists(),
        rerun=rerun,
        what=what,
        **kill,
    )
    assert not verify_in_process(target / RUN_ID).problems, what  # no debris of the killed writer either
    return ended


def test_publish_killed_at_random_points_never_leaves_a_visible_half_run(tmp_path, capsys):
    rng = random.Random(SEED)
    run_dir = make_run(tmp_path / "local", RUN_ID, PAYLOAD)
    seal_in_process(run_dir)
    expected = run_objects(run_dir)
    for index, point in enumerate(PUBLISH_POINTS):
        assert _kill_then_resume(run_dir, tmp_path / f"point{index}", expected, capsys, point, fault=point).killed, point
    rounds = iter(range(RANDOM_KILLS))
    ended = kills_landed(
        rng, RANDOM_KILLS, len(expected), UPLOAD_WINDOW_S, lambda what, kill: _kill_then_resume(run_dir, tmp_path / f"random{next(rounds)}", expected, capsys, f"seed {SEED}, {what}", **kill)
    )
    kills = sum(item.killed for item in ended)
    assert kills >= RANDOM_KILLS // 2, f"seed {SEED}: only {kills} publishes were killed"
