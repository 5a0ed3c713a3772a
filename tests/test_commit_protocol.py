"""Committing a build by its head object ``_log/<seq:020>.json`` (issue 13 point 3; docs/object-storage.md, "The commit protocol").

Builders race as real processes on one local runs root (the console script; in the 20-round
race, processes forked from the test with govern already imported, so that 160 builds take
seconds, not minutes). ``GOVERN_FAULT_NO_LOCK=1`` makes each
take no workspace lock — a builder on another host, as on object storage — so that only the
create-if-absent put of the head (LocalStore: a hard link) keeps one build per sequence number.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commit_race import ARTIFACT, BUILDERS, check_outcomes, check_round, heads_in, snapshot_files, snapshot_id
from commit_race import race_clock as _at
from delta_workspace import DeltaWorkspace, assert_refused, build_id, parse_log
from govern.format.heads import HeadFormatError, HeadLink, LogHead, head_key, parse_head
from govern.log.commit import CommitRaceLost, commit_build
from govern.store.local import LocalStore
from govern.store.memory import MemoryStore
from helpers import clean_env, govern_executable

#: The issue's 20 rounds race on object storage (tests/test_s3_race.py); on a local root the
#: same protocol (a hard link for create-if-absent) races fewer rounds.
LOCAL_ROUNDS = 8
NO_LOCK = {"GOVERN_FAULT_NO_LOCK": "1"}


def _workspace(tmp_path: Path) -> DeltaWorkspace:
    return DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})


def _snapshot(ws: DeltaWorkspace, n: int) -> str:
    run_id = snapshot_id(n)
    ws.run(run_id, snapshot_files(n))
    return run_id


def _heads(ws: DeltaWorkspace) -> list[dict]:
    """Every head object in the runs root, by sequence number."""
    return heads_in(LocalStore(ws.runs))


def _builder(ws: DeltaWorkspace, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [govern_executable(), "-C", str(ws.root), "delta", "build", *args],
        env=clean_env({**NO_LOCK, **(env or {})}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _forked_builder(ws: DeltaWorkspace, at: str, stderr: Path) -> int:
    """A builder process forked from this one (govern already imported): ``delta build --at AT``
    through :func:`govern.cli.main`, its stderr in the file ``stderr``; its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 99
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process ends below)
        sys.stderr = open(stderr, "w")  # noqa: SIM115
        from govern.cli import main

        code = main(["-C", str(ws.root), "delta", "build", "--at", at], environ=clean_env(NO_LOCK))
        sys.stderr.flush()
    finally:
        os._exit(code)


def _verify_log_ok(ws: DeltaWorkspace) -> None:
    result = ws.govern("verify", "--log")
    assert result.returncode == 0, result.stdout + result.stderr


def test_eight_builders_race_on_a_local_root_one_commit_per_sequence_number(tmp_path):
    """8 builder processes, no shared lock, LOCAL_ROUNDS rounds with a new snapshot between rounds:
    exactly one head per round, every loser exits 3 (E_COMMIT_RACE_LOST) or finds itself up
    to date, no build run is left without a head, every snapshot is recorded exactly once,
    and ``verify --log`` passes after every round."""
    import govern.cli.app  # noqa: F401 (imported once, before the forks)
    import govern.log.build  # noqa: F401
    from govern.cli import main

    ws = _workspace(tmp_path)
    snapshots: list[str] = []
    losses = 0
    for round_ in range(LOCAL_ROUNDS):
        snapshots.append(_snapshot(ws, round_))
        heads_before = len(_heads(ws))
        errors = [tmp_path / f"builder-{second}.err" for second in range(BUILDERS)]
        pids = [_forked_builder(ws, _at(round_, second), error) for second, error in enumerate(errors)]
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        losses += check_outcomes([(code, error.read_text()) for code, error in zip(codes, errors)])
        build_runs = [p.name for p in ws.runs.iterdir() if p.name.endswith("registry_delta_log_build")]
        committed = check_round(_heads(ws), heads_before, round_ == 0, build_runs)
        records = ws.records(committed[-1])
        assert [r["to_ref"]["run_id"] for r in records] == snapshots  # none lost, none twice
        assert main(["-C", str(ws.root), "verify", "--log"], environ=clean_env()) == 0  # in-process: 20 of them
    _verify_log_ok(ws)  # and the console script's verdict at the end
    assert losses > 0, "no builder ever lost a race: the test did not race"


def _stopped_after_publish(ws: DeltaWorkspace, *args: str) -> subprocess.Popen:
    """A builder stopped (SIGSTOP) with its build run uploaded and sealed, its head not yet put."""
    process = _builder(ws, *args, env={"GOVERN_FAULT": "after-publish:build", "GOVERN_FAULT_ACTION": "stop"})
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), process.stderr.read()
    return process


def _resume(process: subprocess.Popen) -> tuple[int, str]:
    os.kill(process.pid, signal.SIGCONT)
    _, status = os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode()
    process.stdout.close()
    process.stderr.close()
    return process.returncode, stderr


def test_the_loser_of_the_head_race_takes_its_build_back_and_exits_3(tmp_path):
    """Builder A uploads its build; builder B commits the next head first; A's put of the head
    finds B's: A removes its run (nothing of it visible) and exits 3 naming B's build and seq."""
    ws = _workspace(tmp_path)
    _snapshot(ws, 0)
    ws.build_ok(at=_at(1))
    _snapshot(ws, 1)
    loser = _stopped_after_publish(ws, "--at", _at(2))
    assert (ws.runs / build_id(_at(2)) / "MANIFEST.sha256").is_file()  # uploaded, sealed, not committed
    shown = ws.govern("--json", "delta", "show")
    assert json.loads(shown.stdout)["result"]["build"] == build_id(_at(1))  # never read as a build
    winner = ws.build("--at", _at(3), env=NO_LOCK)
    assert winner.returncode == 0, winner.stderr
    # Everything but the loser's uploaded run, which it must take back.
    loser_run = build_id(_at(2)).encode()
    after_winner = {path: value for path, value in ws.photograph().items() if not path.startswith(loser_run)}
    code, stderr = _resume(loser)
    assert code == 3, stderr
    assert stderr.splitlines() == [
        f"govern: error: E_COMMIT_RACE_LOST: another build committed first: {build_id(_at(3))} at seq 2; "
        "this build was taken back ('govern delta build --retry' rebuilds on the new head)"
    ]
    assert not (ws.runs / build_id(_at(2))).exists()
    assert ws.photograph() == after_winner
    _verify_log_ok(ws)


def test_retry_rebuilds_on_the_new_head(tmp_path):
    """With --retry, the loser plans again on the winner's head and commits the next one."""
    ws = _workspace(tmp_path)
    _snapshot(ws, 0)
    ws.build_ok(at=_at(1))
    _snapshot(ws, 1)
    loser = _stopped_after_publish(ws, "--retry", "--at", _at(5))
    assert ws.build("--at", _at(3), env=NO_LOCK).returncode == 0
    late = _snapshot(ws, 2)  # arrives after the winner planned: only the retry records it
    code, stderr = _resume(loser)
    assert code == 0, stderr
    assert f"another build committed first: {build_id(_at(3))} at seq 2" in stderr and "retrying on the new head (1 of 5)" in stderr
    heads = _heads(ws)
    assert [(h["seq"], h["run_id"]) for h in heads[2:]] == [(2, build_id(_at(3))), (3, build_id(_at(5)))]
    assert heads[3]["previous"] == {"seq": 2, "run_id": build_id(_at(3))}
    records = ws.records(build_id(_at(5)))
    assert [r["to_ref"]["run_id"] for r in records][-1] == late and len(records) == 3
    _verify_log_ok(ws)


class _AnswerLost:
    """A store whose head puts land but whose answers are lost: the put raises after writing
    (``retry_answer``: the store's own retry of it answers "already exists" instead)."""

    def __init__(self, inner, *, retry_answer: bool) -> None:
        self.inner = inner
        self.retry_answer = retry_answer

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        self.inner.put(key, data, if_absent=if_absent)
        if key.startswith("_log/"):
            if self.retry_answer:
                self.inner.put(key, data, if_absent=if_absent)  # raises AlreadyExists
            raise TimeoutError(f"{key}: the answer was lost")


ROOT = "a" * 64


@pytest.mark.parametrize("backend", ["local", "memory"])
@pytest.mark.parametrize("retry_answer", [False, True])
def test_a_lost_response_is_recognised_by_the_writer_id(tmp_path, backend, retry_answer):
    """The head was written but the writer never heard so: reading it back, the writer finds
    its own writer id and knows it committed; another writer's head there is a lost race."""
    inner = LocalStore(tmp_path) if backend == "local" else MemoryStore()
    store = _AnswerLost(inner, retry_answer=retry_answer)
    base = HeadLink(0, None)
    head = commit_build(store, base, "2024-03-01__000000__registry_delta_log_build", ROOT, "writer-a", "2024-03-01T00:00:00Z")
    assert head.writer_id == "writer-a" and parse_head(inner.get(head_key(1)), head_key(1)) == head
    with pytest.raises(CommitRaceLost) as lost:
        commit_build(store, base, "2024-03-02__000000__registry_delta_log_build", ROOT, "writer-b", "2024-03-02T00:00:00Z")
    assert lost.value.winner.run_id == "2024-03-01__000000__registry_delta_log_build" and lost.value.winner.seq == 1


def test_gc_removes_exactly_the_leftovers(tmp_path):
    """Leftovers of crashed lock-free builders (a sealed build run without its head, a build
    run without its seal) are listed by ``verify --all`` (a failure only with --strict) and
    removed by ``gc`` once older than the duration; committed builds and snapshots stay."""
    ws = _workspace(tmp_path)
    _snapshot(ws, 0)
    ws.build_ok(at=_at(1))
    _snapshot(ws, 1)
    for at, point in ((_at(2), "after-publish:build"), (_at(3), "after-create:atomic@8")):
        crashed = _builder(ws, "--at", at, env={"GOVERN_FAULT": point})
        assert crashed.wait(timeout=60) == -signal.SIGKILL
        crashed.stdout.close()
        crashed.stderr.close()
    leftovers = [build_id(_at(2)), build_id(_at(3))]
    assert (ws.runs / leftovers[0] / "MANIFEST.sha256").exists() and not (ws.runs / leftovers[1] / "MANIFEST.sha256").exists()
    assert ws.build("--at", _at(4), env=NO_LOCK).returncode == 0  # another host commits on
    verify = ws.govern("--json", "verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["result"]["uncommitted_builds"] == leftovers
    text = ws.govern("verify", "--all")
    assert f"{leftovers[0]}: a delta-log build run never committed (no head object)" in text.stderr
    assert_refused(ws.govern("verify", "--all", "--strict"), "E_STRICT", "2 uncommitted build runs")

    young = ws.govern("gc", "--older-than", "1d", "--at", "2024-03-01T12:00:00Z")
    assert young.returncode == 0 and "nothing to remove older than 1d" in young.stdout
    before = ws.photograph()
    dry = ws.govern("--json", "gc", "--older-than", "1d", "--dry-run", "--at", "2024-03-05T00:00:00Z")
    assert [item["run_id"] for item in json.loads(dry.stdout)["result"]["removed"]] == leftovers
    assert ws.photograph() == before
    done = ws.govern("gc", "--older-than", "1d", "--at", "2024-03-05T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 runs removed (older than 1d)"
    assert not any((ws.runs / run_id).exists() for run_id in leftovers)
    assert sorted(p.name for p in ws.runs.iterdir() if p.name.endswith("registry_delta_log_build")) == [build_id(_at(1)), build_id(_at(4))]
    after = ws.govern("--json", "verify", "--all", "--log", "--strict")
    assert after.returncode == 0 and json.loads(after.stdout)["result"]["uncommitted_builds"] == []
    assert_refused(ws.govern("gc", "--older-than", "soon"), "E_USAGE", "--older-than 'soon'", exit_code=2)


def test_gc_on_an_object_store_removes_half_published_runs_never_sealed_or_recorded_ones(tmp_path):
    """On a store that is not a local folder a run arrives only by publishing: one without its
    seal is a publish cut short, and gc removes it when old enough; a sealed run stays."""
    from govern.log.gc import HALF_PUBLISHED, find_garbage, parse_duration, remove_garbage
    from govern.runs.run_store import RunStore
    from govern.runtime.clock import parse_utc

    runs = RunStore(MemoryStore())
    runs.backend.put("2024-01-01__000000__alpha/ALPHA_v0_1.json", b"{}\n")  # half-published
    runs.backend.put("2024-01-03__000000__alpha/ALPHA_v0_1.json", b"{}\n")  # half-published, young
    source = tmp_path / "2024-01-02__000000__alpha"
    ws = _workspace(tmp_path)
    sealed = ws.run(source.name, {ARTIFACT: "{}\n"})
    runs.publish_run(
        source.name, {ARTIFACT: b"{}\n"}, *((sealed / name).read_bytes() for name in ("run.json", "manifest.json", "MANIFEST.sha256"))
    )
    garbage = find_garbage(runs, now=parse_utc("2024-01-03T12:00:00Z"), older_than=parse_duration("1d"))
    assert [(item.run_id, item.reason) for item in garbage] == [("2024-01-01__000000__alpha", HALF_PUBLISHED)]
    remove_garbage(runs, garbage)
    assert runs.list_runs().names == ("2024-01-02__000000__alpha", "2024-01-03__000000__alpha")


def test_a_workspace_without_heads_keeps_reading_and_gains_a_head_on_its_next_build(tmp_path):
    """A runs root with builds and no ``_log/`` (made before heads existed) reads as before;
    its next build first puts the genesis head naming its latest build, then its own head."""
    ws = _workspace(tmp_path)
    first = _snapshot(ws, 0)
    ws.build_ok(at=_at(1))
    _snapshot(ws, 1)
    ws.build_ok(at=_at(2))
    for path in (ws.runs / "_log").iterdir():
        path.unlink()
    (ws.runs / "_log").rmdir()  # exactly what a build of govern before heads left
    shown = ws.govern("--json", "delta", "show")
    assert json.loads(shown.stdout)["result"]["build"] == build_id(_at(2))
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0 and "head chain" not in verify.stdout, verify.stdout + verify.stderr
    assert verify.stdout.splitlines()[-1] == "delta log intact: 2 builds, 2 records"
    assert "uncommitted" not in verify.stderr

    third = _snapshot(ws, 2)
    ws.build_ok(at=_at(3))
    heads = _heads(ws)
    assert [(h["seq"], h["run_id"], h["previous"]) for h in heads] == [
        (0, build_id(_at(2)), None),
        (1, build_id(_at(3)), {"seq": 0, "run_id": build_id(_at(2))}),
    ]
    assert heads[0]["root_sha256"] == ws.root_sha256(build_id(_at(2)))
    assert heads[1]["root_sha256"] == ws.root_sha256(build_id(_at(3)))
    assert [r["to_ref"]["run_id"] for r in parse_log(ws.log_bytes(build_id(_at(3))))] == [first, snapshot_id(1), third]
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK      head chain  _log/ genesis and 1 commit" in verify.stdout


def test_verify_log_checks_the_head_chain(tmp_path):
    """A head whose root is not its build's seal, a broken link, or a gap fails ``verify --log``."""
    ws = _workspace(tmp_path)
    for n in range(3):
        _snapshot(ws, n)
        ws.build_ok(at=_at(n + 1))
    head_2 = ws.runs / "_log" / f"{2:020d}.json"
    original = head_2.read_bytes()
    forged = json.loads(original)
    forged["root_sha256"] = "0" * 64
    head_2.write_text(json.dumps(forged, indent=2, sort_keys=True) + "\n")
    verify = ws.govern("--json", "verify", "--log")
    assert verify.returncode == 1
    problems = json.loads(verify.stdout)["result"]["log"]["head_problems"]
    assert [p["code"] for p in problems] == ["E_LOG_TAMPERED"] and "commits ROOT_SHA256 000" in problems[0]["message"]
    head_2.unlink()
    verify = ws.govern("--json", "verify", "--log")
    assert verify.returncode == 1
    problems = json.loads(verify.stdout)["result"]["log"]["head_problems"]
    assert any("follows a gap in the head chain" in p["message"] for p in problems)


_run_ids = st.builds(
    lambda day, hour: f"2024-01-{day:02d}__{hour:02d}0000__registry_delta_log_build", st.integers(1, 28), st.integers(0, 23)
)


@given(
    seq=st.integers(1, 10**12),
    run_id=_run_ids,
    previous=st.one_of(st.none(), _run_ids),
    root=st.text("0123456789abcdef", min_size=64, max_size=64),
    writer=st.text(min_size=1, max_size=40),
)
def test_a_head_round_trips_through_its_canonical_bytes(seq, run_id, previous, root, writer):
    head = LogHead(seq, run_id, root, HeadLink(seq - 1, previous), writer, "2024-03-01T00:00:00Z")
    data = head.to_bytes()
    assert parse_head(data, head_key(seq)) == head
    assert data == json.dumps(head.to_json(), indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    with pytest.raises(HeadFormatError):
        parse_head(data, head_key(seq + 1))  # a head stored under another sequence number

