"""``govern publish`` to ``s3://`` killed with SIGKILL at random points, 50 times, against a
real SeaweedFS (issue 13, Tests): never a visible half-run — ``MANIFEST.sha256`` in the bucket
means every object of the run is there with the run's bytes, read back through the store —
and a re-run completes it, uploading only what the killed publish had not (at most what was
missing when we looked: a put the killed client had sent may still complete at the server).

Each kill publishes to a fresh prefix (``--to s3://bucket/<prefix>``, the workspace giving the
``[storage]`` options); the killed publish is the real console script, the re-run in-process.
"""

from __future__ import annotations

import json
import random

from govern.cli import main
from govern.store.backend import KeyNotFound
from govern.testing import isolated_environment
from helpers import RUN_ID, govern_executable
from publish_crash import PUBLISH_STEPS, Killed, kill_then_resume, kills_landed, payload, run_objects
from s3_workspace import S3Workspace

RANDOM_KILLS = 50
SEED = random.SystemRandom().randrange(1, 2**31)
#: Small, so that 50 kills take seconds, yet enough objects that a random moment falls inside
#: the upload window. Measured against the test server: the whole publish of these 25 objects
#: takes about 30 ms once the client is warm, and the upload threads run ahead of the first
#: object's crash point, so a random kill within 10 ms of it lands mid-upload 9 or 10 times in
#: 25 (a 20 ms window did no better).
PAYLOAD = payload(24, 4_000)
UPLOAD_WINDOW_S = 0.01
#: The floor of kills at a random moment that must land mid-upload, of 25: far below the
#: measured 9-10 (a binomial's tail: about one run in a thousand under it), far above none.
RANDOM_MOMENT_FLOOR = 4


def _holding(store, expected: dict[str, bytes]) -> set[str]:
    """The run's objects the bucket holds whole, read back through the store."""
    held = set()
    for name, data in expected.items():
        try:
            if store.get(f"{RUN_ID}/{name}") == data:
                held.add(name)
        except KeyNotFound:
            pass
    return held


def test_publish_to_s3_killed_at_random_points_never_leaves_a_visible_half_run(tmp_path, seaweedfs, capsys):
    rng = random.Random(SEED)
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, {})
    run_dir = ws.sealed_run(RUN_ID, PAYLOAD)
    expected = run_objects(run_dir)
    environ = isolated_environment(ws.environ)

    def attempt(what: str, kill: dict) -> Killed:
        target = seaweedfs.url(seaweedfs.fresh_prefix("crash"))
        store = ws.open(target)
        argv = ["-C", str(ws.root), "publish", str(run_dir), "--to", target]

        def rerun() -> dict:
            capsys.readouterr()
            assert main(["--json", *argv], environ=environ) == 0, what
            return json.loads(capsys.readouterr().out)["result"]

        ended = kill_then_resume(
            [govern_executable(), *argv],
            expected=expected,
            present=lambda: _holding(store, expected),
            sealed=lambda: store.stat(f"{RUN_ID}/MANIFEST.sha256") is not None,
            rerun=rerun,
            what=f"seed {SEED}, {what}",
            env=ws.environ,
            lands_late=True,
            **kill,
        )
        # Nothing but the run's objects, each with its bytes: no debris of the killed writer.
        assert {key for key, _ in store.list()} == {f"{RUN_ID}/{name}" for name in expected}, what
        return ended

    for point in PUBLISH_STEPS:
        assert attempt(point, {"fault": point}).mid_upload, point
    ended = kills_landed(rng, RANDOM_KILLS, len(expected), UPLOAD_WINDOW_S, attempt)
    # Odd rounds kill at an object's put: always mid-upload. The floor is on the even rounds,
    # killed at a random moment: enough of them must land inside the upload window, or the
    # window is mis-measured and they prove little.
    assert all(item.mid_upload for item in ended[1::2]), f"seed {SEED}"
    at_random = sum(item.mid_upload for item in ended[0::2])
    print(f"seed {SEED}: {at_random} of {len(ended[0::2])} kills at a random moment landed mid-upload")
    assert at_random >= RANDOM_MOMENT_FLOOR, f"seed {SEED}: only {at_random} kills at a random moment landed mid-upload"
