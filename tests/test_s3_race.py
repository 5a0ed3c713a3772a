"""8 builders on 8 processes racing on one runs root in a real SeaweedFS bucket, 20 rounds
(issue 13, Tests; docs/object-storage.md, "The commit protocol").

On ``s3://`` a builder takes no lock: only the create-if-absent put of the head object
``_log/<seq:020>.json`` (``If-None-Match: *``) keeps one build per sequence number. obstore's
client is not fork-safe, so the builders are not forked from this process (which has used
it): they are started by a ``multiprocessing`` "forkserver" context, whose server process has
imported govern (never used obstore) and forks each builder from that clean state — 160
builds in seconds rather than 160 interpreter start-ups.
"""

from __future__ import annotations

import json
import multiprocessing

from commit_race import (
    ARTIFACT,
    BUILD_SUFFIX,
    BUILDERS,
    ROUNDS,
    build_in_this_process,
    check_outcomes,
    check_round,
    heads_in,
    race_clock,
    snapshot_files,
    snapshot_id,
)
from govern.cli import main
from govern.host.manager import DEFAULT_PLUGINS
from govern.testing import isolated_environment
from helpers import run_govern
from s3_workspace import S3Workspace

#: What the forkserver imports once, before forking any builder: govern's command line, its
#: build and its built-in plugins (obstore only as a module, no client made: a client is what
#: is not fork-safe).
PRELOAD = ["govern.cli.app", "govern.log.build", "govern.store.s3", *DEFAULT_PLUGINS, "commit_race"]


def _race_context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def test_eight_builders_race_twenty_rounds_on_s3_one_commit_per_sequence_number(tmp_path, seaweedfs):
    """8 builder processes on one s3:// runs root, 20 rounds with a new snapshot published
    between rounds: exactly one head per round, every loser exits 3 (E_COMMIT_RACE_LOST) or
    finds itself up to date, no build run is left in the bucket without a head, every snapshot
    is recorded exactly once, and ``verify --log`` passes after every round."""
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})
    context = _race_context()
    environ = isolated_environment(ws.environ)
    snapshots: list[str] = []
    losses = 0
    for round_ in range(ROUNDS):
        snapshots.append(ws.publish(snapshot_id(round_), snapshot_files(round_)))
        heads_before = len(heads_in(ws.store))
        errors = [tmp_path / f"builder-{second}.err" for second in range(BUILDERS)]
        builders = [
            context.Process(target=build_in_this_process, args=(str(ws.root), race_clock(round_, second), str(error), environ))
            for second, error in enumerate(errors)
        ]
        for builder in builders:
            builder.start()
        for builder in builders:
            builder.join(timeout=120)
        losses += check_outcomes([(builder.exitcode, error.read_text()) for builder, error in zip(builders, errors)])
        build_runs = [name for name in ws.run_names() if name.endswith(BUILD_SUFFIX)]
        committed = check_round(heads_in(ws.store), heads_before, round_ == 0, build_runs)
        records = ws.log_records(committed[-1])
        assert [r["to_ref"]["run_id"] for r in records] == snapshots  # none lost, none twice
        assert main(["-C", str(ws.root), "verify", "--log"], environ=environ) == 0
    # The console script's verdict at the end, deep: every object of every run hashed.
    verified = run_govern("-C", ws.root, "verify", "--all", "--log", "--strict", env=ws.environ)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert losses > 0, "no builder ever lost a race: the test did not race"


def test_a_run_taken_back_leaves_no_leftover_where_the_store_keeps_its_empty_folder(tmp_path, seaweedfs):
    """SeaweedFS lists a folder after its last object is deleted: the run a losing builder took
    back, or a half-published run removed, still has a name in the listing and nothing under
    it. That name is no run: ``verify --all --strict`` passes with no warning, and ``gc`` finds
    nothing to remove (it reported 8 phantom "uncommitted build runs" after the race above)."""
    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.publish(snapshot_id(0), snapshot_files(0))
    assert ws.govern("delta", "build", "--at", race_clock(0)).returncode == 0
    for run_id in (f"2024-03-01__000001__{BUILD_SUFFIX}", snapshot_id(1)):  # a build taken back, a half-published run removed
        ws.store.put(f"{run_id}/{ARTIFACT}", b"{}\n")
        ws.store.delete(f"{run_id}/{ARTIFACT}")
    assert f"2024-03-01__000001__{BUILD_SUFFIX}" in [name for name, _ in ws.store.list_level("")]  # the empty folder
    verified = ws.govern("--json", "verify", "--all", "--log", "--strict")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)["result"]
    assert result["uncommitted_builds"] == [] and result["unsealed"] == 0 and verified.stderr == ""
    swept = ws.govern("--json", "gc", "--older-than", "1d", "--dry-run", "--at", "2024-06-01T00:00:00Z")
    assert swept.returncode == 0 and json.loads(swept.stdout)["result"]["removed"] == [], swept.stdout + swept.stderr
