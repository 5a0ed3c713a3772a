"""Crash safety: SIGKILL ``govern delta build``, ``govern seal``, ``govern repair --log`` and
``govern governance add-op`` at every crash point and at random moments, and check what is
left on disk (issue 6, promise 3).

After every kill: no visible run folder is partial (each is unsealed-and-untouched or sealed
and verified, every build complete), every log line is complete, the delta log's history
verifies (``govern verify --all --log``), the governance documents are all old or all new, and
the next command completes normally and removes the debris. Three kinds of kill (``reliability_workspace.start_and_kill``):

* deterministic — ``GOVERN_FAULT=<point>`` makes the process SIGKILL itself at each crash
  point of the write path in turn (every state a crash can leave is visited);
* targeted random — the process SIGSTOPs itself at the start of its write window and is
  SIGKILLed a random few milliseconds after being continued;
* plain random — SIGKILL at a random moment of the whole run.

The suite makes at least :data:`MINIMUM_KILLS` kills (each test asserts its share). The seed
comes from ``GOVERN_CRASH_SEED`` (printed on failure) and ``GOVERN_CRASH_ROUNDS`` scales the
random rounds for a soak (``make soak``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from reliability_workspace import (
    LOG_NAME,
    TEMP_PREFIX,
    Outcome,
    ReliabilityWorkspace,
    build_id,
    clock,
    start_and_kill,
)

MINIMUM_KILLS = 100
SEED = int(os.environ.get("GOVERN_CRASH_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
#: Multiplies the random rounds (``make soak`` sets it).
SCALE = max(1, int(os.environ.get("GOVERN_CRASH_ROUNDS", "1")))

#: Every crash point a build passes, in order: the log, run.json, manifest.json and
#: MANIFEST.sha256 written in the staging folder (atomic writes 1-4), then the build published
#: through the run store: the log, run.json and manifest.json each put if-absent (exclusive
#: creates 5-7), then MANIFEST.sha256 put if-absent (8), then its head _log/<seq>.json put
#: if-absent (9) — the commit point. (The genesis head, put by a workspace's first build just
#: before it publishes, is exclusive create 5 of that build only; no kill below is aimed at it.)
BUILD_POINTS = [
    "after-staging:build",
    "after-create:atomic@1",
    "after-write:atomic@1",
    "after-replace:atomic@1",
    "after-write:build",
    "after-create:atomic@2",
    "after-replace:atomic@2",
    "after-envelope:seal",
    "after-create:atomic@3",
    "after-write:atomic@3",
    "after-replace:atomic@3",
    "after-manifest:seal",
    "after-create:atomic@4",
    "after-write:atomic@4",
    "after-replace:atomic@4",
    "after-seal:seal",
    "before-publish:build",
    "after-create:atomic@5",
    "after-write:atomic@6",
    "after-replace:atomic@7",
    "after-create:atomic@8",
    "after-write:atomic@8",
    "after-replace:atomic@8",
    "after-publish:build",
    "after-create:atomic@9",
    "after-write:atomic@9",
    "after-replace:atomic@9",
    "after-commit:build",
]
#: Every crash point of sealing a run that has no run.json yet (atomic writes 1-3).
SEAL_POINTS = [
    "after-create:atomic@1",
    "after-write:atomic@1",
    "after-replace:atomic@1",
    "after-envelope:seal",
    "after-create:atomic@2",
    "after-write:atomic@2",
    "after-replace:atomic@2",
    "after-manifest:seal",
    "after-create:atomic@3",
    "after-write:atomic@3",
    "after-replace:atomic@3",
    "after-seal:seal",
]
#: Kills each random test must reach (with the deterministic ones: >= MINIMUM_KILLS).
BUILD_RANDOM_KILLS = 9  # per batch, 3 batches
SEAL_RANDOM_KILLS = 8  # per batch, 3 batches
REPAIR_RANDOM_KILLS = 4


def test_the_suite_kills_at_least_one_hundred_times():
    """The shares asserted by the tests below add up to the promised minimum."""
    deterministic = len(BUILD_POINTS) + len(SEAL_POINTS) + len(RESEAL_POINTS) + len(REPAIR_POINTS) + len(ADD_OP_POINTS)
    random_kills = 3 * BUILD_RANDOM_KILLS + 3 * SEAL_RANDOM_KILLS + REPAIR_RANDOM_KILLS + ADD_OP_RANDOM_KILLS
    assert deterministic + random_kills >= MINIMUM_KILLS


@pytest.fixture
def rng(request) -> random.Random:
    """A random generator seeded per test (the seed is in the failure message)."""
    return random.Random(f"{SEED}:{request.node.name}")


def _context(what: str, outcome: Outcome) -> str:
    return f"{what} (GOVERN_CRASH_SEED={SEED}); exit {outcome.returncode}; stderr: {outcome.stderr.strip()[-400:]}"


def _assert_verify_all_log(ws: ReliabilityWorkspace) -> None:
    """The real command: ``govern verify --all --log`` passes."""
    result = ws.govern("verify", "--all", "--log")
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------- builds


def _kill_build(ws: ReliabilityWorkspace, step: int, snapshots: list[int], **kill) -> Outcome:
    """A new snapshot, then a build killed as ``kill`` says; checks the state it left."""
    snapshots.append(step)
    ws.add_snapshot(step)
    before = ws.builds()
    outcome = start_and_kill(ws.command("delta", "build", "--at", clock(step + 1)), **kill)
    what = f"delta build killed with {kill}"
    # Old state or new state, nothing in between; debris only in hidden staging folders (this
    # build's, or an earlier killed one's that no build has cleaned up yet).
    assert ws.builds() in (before, before + [build_id(step + 1)]), _context(what, outcome)
    assert set(ws.leftovers()) <= {TEMP_PREFIX + build_id(s + 1) for s in snapshots}, _context(what, outcome)
    # A publish cut short before its seal leaves a build run without it: never a build.
    assert set(ws.half_published()) <= {build_id(s + 1) for s in snapshots}, _context(what, outcome)
    assert ws.problems() == [], _context(what, outcome)
    return outcome


def _complete_build(ws: ReliabilityWorkspace, step: int, snapshots: list[int], context: str) -> None:
    """The next build completes normally, cleans up, and every snapshot is recorded once."""
    result = ws.govern("delta", "build", "--at", clock(step))
    assert result.returncode == 0, context + result.stderr
    assert ws.leftovers() == [] and ws.half_published() == [], context
    assert ws.problems() == [], context
    records = ws.log_records()
    for registry in range(ws.registries):
        recorded = [r["to_ref"]["run_id"] for r in records if r["registry_id"] == f"reg_{registry}"]
        assert len(recorded) == len(snapshots) == len(set(recorded)), context


@pytest.mark.parametrize("half", [0, 1])
def test_build_killed_at_every_crash_point(tmp_path, half):
    ws = ReliabilityWorkspace(tmp_path / "ws", registries=2)
    snapshots: list[int] = []
    for index, point in enumerate(BUILD_POINTS[half::2]):
        outcome = _kill_build(ws, 10 * index, snapshots, fault=point)
        assert outcome.killed, f"crash point {point} was never reached: {outcome}"
        _complete_build(ws, 10 * index + 2, snapshots, _context(f"after a kill at {point}", outcome))
    _assert_verify_all_log(ws)


@pytest.mark.parametrize("batch", range(3))
def test_build_killed_at_random_moments(tmp_path, rng, batch):
    """Kills come back to back (a crash on top of a crash's debris); every third round the
    next build runs to completion."""
    ws = ReliabilityWorkspace(tmp_path / "ws", registries=2)
    snapshots: list[int] = []
    ws.add_snapshot(0)
    snapshots.append(0)
    assert ws.govern("delta", "build", "--at", clock(1)).returncode == 0  # a history to append to
    kills = rounds = 0
    wanted = BUILD_RANDOM_KILLS * SCALE
    while kills < wanted:
        rounds += 1
        assert rounds <= 3 * wanted, f"only {kills} kills in {rounds} rounds"
        if rng.random() < 0.75:  # aimed at the write window
            kill = {"fault": "after-staging:build", "stop_then_kill_after": rng.uniform(0, 0.03)}
        else:  # anywhere in the run
            kill = {"kill_after": rng.uniform(0.05, 0.5)}
        outcome = _kill_build(ws, 10 * rounds, snapshots, **kill)
        kills += outcome.killed
        if rounds % 3 == 0:
            _complete_build(ws, 10 * rounds + 2, snapshots, _context(f"after a kill with {kill}", outcome))
    _complete_build(ws, 10 * rounds + 5, snapshots, "at the end")
    _assert_verify_all_log(ws)


# ---------------------------------------------------------------------------------- seals


def _kill_seal(ws: ReliabilityWorkspace, run_dir: Path, step: int, **kill) -> Outcome:
    """``govern seal RUN`` killed as ``kill`` says; checks the state it left."""
    outcome = start_and_kill(ws.command("seal", str(run_dir), "--at", clock(step)), **kill)
    # Unsealed (no MANIFEST.sha256: the old state) or sealed and verified (the new one).
    assert ws.problems() == [], _context(f"seal killed with {kill}", outcome)
    return outcome


def _complete_seal(ws: ReliabilityWorkspace, run_dir: Path, step: int, context: str) -> None:
    """Sealing again completes normally (or the run verifies) and leaves no debris."""
    if (run_dir / "MANIFEST.sha256").exists():
        result = ws.govern("verify", str(run_dir))
    else:
        result = ws.govern("seal", str(run_dir), "--at", clock(step))
    assert result.returncode == 0, context + result.stdout + result.stderr
    debris = [name for _, dirs, files in os.walk(run_dir) for name in dirs + files if name.startswith(TEMP_PREFIX)]
    assert debris == [], context
    assert ws.problems(allow_unsealed=False) == [], context


def test_seal_killed_at_every_crash_point(tmp_path):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    for index, point in enumerate(SEAL_POINTS):
        run_dir = ws.add_snapshot(10 * index, seal=False)
        outcome = _kill_seal(ws, run_dir, 10 * index, fault=point)
        assert outcome.killed, f"crash point {point} was never reached: {outcome}"
        _complete_seal(ws, run_dir, 10 * index, _context(f"after a kill at {point}", outcome))
    # Everything sealed composes: a build records every snapshot, and the whole verifies.
    assert ws.govern("delta", "build", "--at", clock(1000)).returncode == 0
    _assert_verify_all_log(ws)


#: Every crash point of ``seal --reseal`` of a sealed run: the new manifest.json and
#: MANIFEST.sha256 staged beside the run (atomic writes 1-2), then the two renames.
RESEAL_POINTS = [
    "after-create:atomic@1",
    "after-write:atomic@1",
    "after-replace:atomic@1",
    "after-create:atomic@2",
    "after-write:atomic@2",
    "after-replace:atomic@2",
    "after-stage:reseal",
    "after-swap-manifest:reseal",
    "after-seal:seal",
]


def test_reseal_killed_at_every_crash_point(tmp_path):
    """``--reseal`` never passes through an unsealed state (issue 11, point 5): killed before
    the first rename the old seal stands, after the second the new one; killed between the two
    renames the staged seal pinning the new manifest is moved in by the next ``govern seal``
    (or ``delta build``) — the run is never left without a seal to finish it with."""
    ws = ReliabilityWorkspace(tmp_path / "ws")
    run_dir = ws.add_snapshot(0, extra={"late.txt": b"version 0\n"})
    staging = ws.runs_root / f"{TEMP_PREFIX}reseal-{run_dir.name}"
    for index, point in enumerate(RESEAL_POINTS, start=1):
        old_root = _root(run_dir)
        (run_dir / "late.txt").write_bytes(b"version %d\n" % index)
        outcome = start_and_kill(ws.command("seal", "--reseal", str(run_dir)), fault=point)
        context = _context(f"reseal killed at {point}", outcome)
        assert outcome.killed, f"crash point {point} was never reached: {outcome}"
        assert (run_dir / "MANIFEST.sha256").is_file(), context  # never unsealed
        if point == "after-swap-manifest:reseal":
            # Between the renames: the new manifest is in, the staged seal pins exactly it.
            assert (staging / "MANIFEST.sha256").is_file() and not (staging / "manifest.json").exists(), context
            caught = ws.govern("verify", str(run_dir))  # says how to finish it, not only that it fails
            assert caught.returncode == 1 and "an interrupted --reseal is staged beside it" in caught.stdout, context + caught.stdout
            finish = ws.govern("seal", str(run_dir))
            assert finish.returncode == 0, context + finish.stderr
            assert _root(run_dir) != old_root, context
        elif point == "after-seal:seal":
            assert _root(run_dir) != old_root, context
        else:
            # Before the first rename the old seal stands, untouched, and nothing stray is in
            # the run: only the payload changed since sealing is reported.
            assert _root(run_dir) == old_root, context
            stale = ws.govern("verify", str(run_dir))
            assert stale.returncode == 1 and "E_DIGEST_MISMATCH late.txt" in stale.stdout, context + stale.stdout
            assert "E_FILE_UNLISTED" not in stale.stdout and "E_SEAL" not in stale.stdout, context + stale.stdout
            again = ws.govern("seal", "--reseal", str(run_dir))
            assert again.returncode == 0, context + again.stderr
            assert _root(run_dir) != old_root, context
        result = ws.govern("verify", str(run_dir))
        assert result.returncode == 0, context + result.stdout
        assert ws.leftovers() == [], context
        assert ws.problems(allow_unsealed=False) == [], context
    # A crash between the renames is also finished by the next build (it cleans the runs root).
    (run_dir / "late.txt").write_bytes(b"version last\n")
    outcome = start_and_kill(ws.command("seal", "--reseal", str(run_dir)), fault="after-swap-manifest:reseal")
    assert outcome.killed
    build = ws.govern("delta", "build", "--at", clock(1000))
    assert build.returncode == 0, build.stderr
    assert ws.leftovers() == []
    _assert_verify_all_log(ws)


def _root(run_dir: Path) -> str:
    return (run_dir / "MANIFEST.sha256").read_text(encoding="ascii").split()[0]


@pytest.mark.parametrize("batch", range(3))
def test_seal_killed_at_random_moments(tmp_path, rng, batch):
    """The same run is sealed again and again, each attempt killed on top of the last one's
    debris, until an attempt lands; every third round sealing runs to completion."""
    ws = ReliabilityWorkspace(tmp_path / "ws")
    kills = rounds = 0
    wanted = SEAL_RANDOM_KILLS * SCALE
    run_dir = ws.add_snapshot(0, seal=False)
    while kills < wanted:
        rounds += 1
        assert rounds <= 3 * wanted, f"only {kills} kills in {rounds} rounds"
        if rng.random() < 0.75:
            kill = {"fault": "after-create:atomic@1", "stop_then_kill_after": rng.uniform(0, 0.02)}
        else:
            kill = {"kill_after": rng.uniform(0.05, 0.45)}
        outcome = _kill_seal(ws, run_dir, 10 * rounds, **kill)
        kills += outcome.killed
        if rounds % 3 == 0:
            _complete_seal(ws, run_dir, 10 * rounds, _context(f"after a kill with {kill}", outcome))
        if (run_dir / "MANIFEST.sha256").exists():
            run_dir = ws.add_snapshot(10 * rounds + 5, seal=False)
    _complete_seal(ws, run_dir, 10 * rounds + 5, "at the end")
    assert ws.govern("delta", "build", "--at", clock(100_000)).returncode == 0
    _assert_verify_all_log(ws)


# ---------------------------------------------------------------------------------- repair

REPAIR_POINTS = ["after-create:atomic@1", "after-replace:atomic@2", "after-backup:repair", "after-truncate:repair"]


def _tear(ws: ReliabilityWorkspace, tail: bytes) -> bytes:
    """Append a torn line to the latest build's log (as an interrupted external append would)."""
    log = ws.runs_root / ws.builds()[-1] / LOG_NAME
    sealed = log.read_bytes()
    with open(log, "ab") as handle:
        handle.write(tail)
    return sealed


def _repair_round(ws: ReliabilityWorkspace, round_: int, **kill) -> Outcome:
    sealed = _tear(ws, b'{"registry_id":"torn_%d"' % round_)
    log = ws.runs_root / ws.builds()[-1] / LOG_NAME
    outcome = start_and_kill(ws.command("repair", "--log"), **kill)
    what = f"repair killed with {kill}"
    # The log is the torn one or the sealed one, never anything else.
    assert log.read_bytes() in (sealed, sealed + b'{"registry_id":"torn_%d"' % round_), _context(what, outcome)
    result = ws.govern("repair", "--log")
    assert result.returncode == 0, _context(what, outcome) + result.stderr
    assert log.read_bytes() == sealed
    assert ws.problems(allow_unsealed=False) == [], _context(what, outcome)
    return outcome


def test_repair_killed_at_crash_points_and_random_moments(tmp_path, rng):
    ws = ReliabilityWorkspace(tmp_path / "ws")
    ws.add_snapshot(0)
    assert ws.govern("delta", "build", "--at", clock(1)).returncode == 0
    for index, point in enumerate(REPAIR_POINTS):
        assert _repair_round(ws, index, fault=point).killed, point
    kills = rounds = 0
    while kills < REPAIR_RANDOM_KILLS * SCALE:
        rounds += 1
        assert rounds <= 6 * REPAIR_RANDOM_KILLS * SCALE
        kill = {"fault": "after-create:atomic@1", "stop_then_kill_after": rng.uniform(0, 0.01)}
        kills += _repair_round(ws, 100 + rounds, **kill).killed
    print(f"repair: {kills} random kills in {rounds} rounds")
    # The repaired build is the same sealed build: the next build appends to it normally.
    ws.add_snapshot(10_000)
    assert ws.govern("delta", "build", "--at", clock(10_001)).returncode == 0
    _assert_verify_all_log(ws)


# ---------------------------------------------------------------------------------- governance

#: add-op stages catalog, matrix and scorecard (atomic writes 1-3) and the journal (4, the
#: commit point), then replaces the three documents (``apply:governance@N`` is just before the
#: Nth replacement) — see core/governance/transaction.py.
ADD_OP_POINTS = [
    "after-create:atomic@1",
    "after-replace:atomic@1",
    "after-write:atomic@2",
    "after-replace:atomic@3",
    "after-create:atomic@4",
    "after-replace:atomic@4",
    "after-journal:governance",
    "apply:governance@1",
    "apply:governance@2",
    "apply:governance@3",
]
ADD_OP_RANDOM_KILLS = 6
GOVERNANCE_DOCUMENTS = (
    "governance/ALLOWED_OPERATIONS_CATALOG.json",
    "governance/ENFORCEMENT_COVERAGE_MATRIX.json",
    "governance/GOVERNANCE_COMPLETENESS_SCORECARD.json",
)


def _documents(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in GOVERNANCE_DOCUMENTS}


def _op_ids(root: Path) -> tuple[set[str], set[str]]:
    """The op ids of the catalog and of the matrix (each document must parse: it is whole)."""
    import json

    catalog, matrix, scorecard = (json.loads(data) for data in _documents(root).values())
    assert isinstance(scorecard, dict)
    return {op["op_id"] for op in catalog["operations"]}, {row["op_id"] for row in matrix["rows"]}


def _add_op_round(root: Path, index: int, **kill) -> Outcome:
    """``governance add-op`` killed as ``kill`` says. On disk each document is whole, and old
    and new are mixed only while a committed journal waits for the next command; once that
    command has run (it completes or discards the change) they are all old or all new."""
    from governance_books import LATER_AT, gov
    from helpers import govern_executable

    op_id = f"OP-CRASH{index:03d}"
    old = _documents(root)
    argv = [govern_executable(), "-C", str(root), "governance", "add-op", op_id, "--title", f"Crash round {index}",
            "--executable", f"crash_{index}.py", "--coverage", "C3", "--enforcement", "E1,E2,E5,E6,E7", "--at", LATER_AT]
    outcome = start_and_kill(argv, env={"GOVERN_LOAD_PLUGINS": ""}, **kill)
    what = f"governance add-op killed with {kill}"
    catalog_ops, matrix_ops = _op_ids(root)
    unchanged = [data == old[name] for name, data in _documents(root).items()]
    if (any(unchanged) and not all(unchanged)) or (op_id in catalog_ops) != (op_id in matrix_ops):
        assert (root / "governance" / ".govern-tmp-txn" / "JOURNAL.json").is_file(), _context(what, outcome)
    check = gov(root, "governance", "check")
    assert check.returncode == 0, _context(what, outcome) + check.stdout + check.stderr
    now = _documents(root)
    catalog_ops, matrix_ops = _op_ids(root)
    if now == old:
        assert op_id not in catalog_ops | matrix_ops, _context(what, outcome)
    else:
        assert all(now[name] != old[name] for name in GOVERNANCE_DOCUMENTS), _context(what, outcome)
        assert op_id in catalog_ops and op_id in matrix_ops, _context(what, outcome)
    assert not (root / "governance" / ".govern-tmp-txn").exists(), _context(what, outcome)
    return outcome


def test_governance_add_op_killed_at_crash_points_and_random_moments(tmp_path, rng):
    from governance_books import baseline_workspace, gov

    root = baseline_workspace(tmp_path / "ws")
    for index, point in enumerate(ADD_OP_POINTS):
        assert _add_op_round(root, index, fault=point).killed, point
    kills = rounds = 0
    while kills < ADD_OP_RANDOM_KILLS * SCALE:
        rounds += 1
        assert rounds <= 4 * ADD_OP_RANDOM_KILLS * SCALE
        kill = {"fault": "after-create:atomic@1", "stop_then_kill_after": rng.uniform(0, 0.03)}
        kills += _add_op_round(root, 100 + rounds, **kill).killed
    # The next add-op completes normally on whatever the kills left.
    assert _add_op_round(root, 999).returncode == 0
    result = gov(root, "verify", "--all", "--log")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_crash_point_is_listed_and_killed_at():
    """Every crash point in the code is in faults.CRASH_POINTS (hence docs/reliability.md), and
    the harness kills at every one of them."""
    import re

    from govern.runtime.faults import CRASH_POINTS

    core = Path(__file__).resolve().parent.parent / "core"
    in_code = {
        name for path in core.rglob("*.py") for name in re.findall(r'crash_point\("([^"]+)"\)', path.read_text(encoding="utf-8"))
    }
    assert in_code == set(CRASH_POINTS)
    from test_publish_crash import PUBLISH_POINTS

    points = BUILD_POINTS + SEAL_POINTS + RESEAL_POINTS + REPAIR_POINTS + ADD_OP_POINTS + PUBLISH_POINTS
    killed_at = {point.split("@")[0] for point in points}
    assert set(CRASH_POINTS) == killed_at
    docs = (core.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert all(f"| `{point}` |" in docs for point in CRASH_POINTS)


def test_crash_harness_kill_helper_reports_processes_that_finish(tmp_path):
    """A process that ends before its kill is reported with its own exit code, not as killed."""
    ws = ReliabilityWorkspace(tmp_path / "ws")
    # verify never reaches a build's crash point: it exits on its own, and is reaped as such.
    outcome = start_and_kill(ws.command("verify", "--all"), fault="after-staging:build", stop_then_kill_after=0.0)
    assert not outcome.killed and outcome.returncode == 0
    outcome = start_and_kill(ws.command("--version"), kill_after=2.0)
    assert not outcome.killed and outcome.returncode == 0
