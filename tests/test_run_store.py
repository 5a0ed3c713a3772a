"""Issue 12 point 2: runs are addressed through the run store, not paths.

The run store reads the same seals over any backend; a run is sealed exactly when its
MANIFEST.sha256 exists; a build is committed by the put-if-absent of its seal, so two writers
never both commit one build id, and a build run without its seal (half-published) is never
taken for the latest build by ``delta build``, ``delta show`` or ``verify --log``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from delta_workspace import LOG_NAME, DeltaWorkspace, build_at, build_id
from govern.errors import GovernError
from govern.runs.run_store import RunStore
from govern.runs.views import RunView
from govern.store.local import LocalStore
from govern.store.memory import MemoryStore
from helpers import make_run, seal_in_process

RUN = "2024-01-02__000000__alpha_one"
ARTIFACT = "ALPHA_REGISTRY_v0_1.json"
SEAL_FILES = ("run.json", "manifest.json", "MANIFEST.sha256")


def _sealed_files(tmp_path: Path, run_id: str = RUN, payload: bytes = b'{"v": 1}\n') -> dict[str, bytes]:
    """The files of a run sealed by govern in a scratch folder: relative path -> bytes."""
    run_dir = make_run(tmp_path / "scratch", run_id, {ARTIFACT: payload, "notes/readme.txt": b"hello\n"})
    seal_in_process(run_dir)
    return {str(path.relative_to(run_dir)): path.read_bytes() for path in sorted(run_dir.rglob("*")) if path.is_file()}


def _publish(runs: RunStore, files: dict[str, bytes], run_id: str = RUN) -> None:
    payload = {path: data for path, data in files.items() if path not in SEAL_FILES}
    runs.publish_run(run_id, payload, files["run.json"], files["manifest.json"], files["MANIFEST.sha256"])


@pytest.mark.parametrize("backend", ["memory", "local"])
def test_a_run_published_through_the_store_reads_back_sealed_and_hash_checked(tmp_path, backend):
    files = _sealed_files(tmp_path)
    runs = RunStore(MemoryStore() if backend == "memory" else LocalStore(tmp_path / "RUNS"))
    _publish(runs, files)
    assert runs.list_runs().names == (RUN,) and runs.is_sealed(RUN)
    seal = runs.read_seal(RUN)
    assert seal.ok and seal.run_id == RUN
    assert seal.root_sha256 == files["MANIFEST.sha256"].split()[0].decode()
    assert runs.read_sealed_file(seal, ARTIFACT) == files[ARTIFACT]
    assert runs.payload_problems(RUN, seal.manifest.by_path(), None) == []
    # The snapshot machinery sees it through a RunView carrying only the run id and the store.
    view = RunView(RUN, runs)
    assert view.seal.root_sha256 == seal.root_sha256 and runs.holds(RUN, "notes")


def test_a_sealed_file_changed_in_the_store_is_refused_with_its_code(tmp_path):
    files = _sealed_files(tmp_path)
    store = MemoryStore()
    runs = RunStore(store)
    _publish(runs, files)
    store.put(f"{RUN}/{ARTIFACT}", b'{"v": 2}\n')
    with pytest.raises(GovernError) as caught:
        runs.read_sealed_file(runs.read_seal(RUN), ARTIFACT)
    assert caught.value.code == "E_LOG_TAMPERED" and f"{RUN}/{ARTIFACT}" in caught.value.message
    assert [p.code for p in runs.payload_problems(RUN, runs.read_seal(RUN).manifest.by_path(), None)] == ["E_DIGEST_MISMATCH"]


def test_a_run_without_its_seal_is_unsealed_in_every_store(tmp_path):
    """A publish cut short before the seal's put: the same check as a local unsealed run."""
    files = _sealed_files(tmp_path)
    store = MemoryStore()
    for path, data in files.items():
        if path != "MANIFEST.sha256":
            store.put(f"{RUN}/{path}", data)
    runs = RunStore(store)
    assert not runs.is_sealed(RUN)
    assert [p.code for p in runs.read_seal(RUN).problems] == ["E_SEAL_MISSING"]
    assert runs.remove_unsealed(RUN) and list(store.list()) == []


def test_the_memory_and_local_stores_read_the_same_seal_problems(tmp_path):
    """One parser: a seal that does not match its manifest is E_SEAL_MISMATCH either way."""
    files = _sealed_files(tmp_path)
    files["MANIFEST.sha256"] = b"0" * 64 + b"  manifest.json\n"
    memory, local = RunStore(MemoryStore()), RunStore(LocalStore(tmp_path / "RUNS"))
    for runs in (memory, local):
        _publish(runs, files)
    assert [(p.code, p.where) for p in memory.read_seal(RUN).problems] == [(p.code, p.where) for p in local.read_seal(RUN).problems]
    assert [p.code for p in memory.read_seal(RUN).problems] == ["E_SEAL_MISMATCH"]


@pytest.mark.parametrize("backend", ["memory", "local"])
def test_two_writers_publishing_one_run_id_exactly_one_commits(tmp_path, backend):
    """Racing publishes of one run id with different content: one commits, the other gets
    E_RUN_EXISTS, and the committed run is the winner's, whole (nothing of the loser in it)."""
    runs = RunStore(MemoryStore() if backend == "memory" else LocalStore(tmp_path / "RUNS"))
    for round_number in range(6):
        run_id = f"2024-01-02__00000{round_number}__registry_delta_log_build"
        contents = [_sealed_files(tmp_path / f"{round_number}-{n}", run_id, b'{"writer": %d}\n' % n) for n in range(4)]
        barrier, outcomes = threading.Barrier(len(contents)), {}

        def publish(n: int, run_id: str = run_id, barrier: threading.Barrier = barrier, outcomes: dict = outcomes, contents: list = contents) -> None:
            barrier.wait()
            try:
                _publish(runs, contents[n], run_id)
                outcomes[n] = "committed"
            except GovernError as error:
                outcomes[n] = error.code

        threads = [threading.Thread(target=publish, args=(n,)) for n in range(len(contents))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [n for n, outcome in outcomes.items() if outcome == "committed"]
        assert len(winners) <= 1 and set(outcomes.values()) <= {"committed", "E_RUN_EXISTS"}, outcomes
        if winners:
            seal = runs.read_seal(run_id)
            assert seal.ok, seal.problems
            assert runs.read_sealed_file(seal, ARTIFACT) == contents[winners[0]][ARTIFACT]
        else:  # every writer met another's file first: nothing committed, nothing left
            assert not runs.is_sealed(run_id)


def _planned_build(ws: DeltaWorkspace, at: str):
    from govern.config.workspace import load_workspace
    from govern.host.manager import PluginHost
    from govern.log.build import plan_build
    from govern.runtime.clock import parse_utc

    host = PluginHost.from_environment()
    host.load_plugins()
    workspace = load_workspace(ws.root)
    clock = parse_utc(at)
    return plan_build(workspace, host, clock=clock), workspace, host, clock


def test_two_builds_racing_to_commit_one_build_id_one_wins_cleanly(tmp_path):
    """Two writers past the lock (two hosts sharing a runs root) commit the same build run id:
    one build is committed, the other gets E_RUN_EXISTS; nothing half-written, and the log's
    history verifies."""
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.run(RUN, {ARTIFACT: '{"v": 1}\n'})
    at = build_at(1)
    first, second = _planned_build(ws, at), _planned_build(ws, at)
    from govern.log.build import write_build

    barrier, outcomes = threading.Barrier(2), []

    def commit(planned) -> None:
        plan, workspace, host, clock = planned
        barrier.wait()
        try:
            outcomes.append(write_build(plan, workspace, host, clock))
        except GovernError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=commit, args=(planned,)) for planned in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome == "E_RUN_EXISTS" for outcome in outcomes) == [False, True], outcomes
    assert ws.builds() == [build_id(at)]
    assert sorted(p.name for p in (ws.runs / build_id(at)).iterdir()) == sorted([LOG_NAME, "checkpoint", *SEAL_FILES])
    assert not [p for p in ws.runs.iterdir() if p.name.startswith(".govern-tmp-")]
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_half_published_build_is_never_the_latest_build(tmp_path):
    """A build run left without its MANIFEST.sha256 and its head (a publish cut short, never
    committed) is not a build: ``delta show`` and ``verify --log`` read the build before it,
    and the next ``delta build`` removes it and records the same snapshots again, once."""
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.run(RUN, {ARTIFACT: '{"v": 1}\n'})
    ws.build_ok(at=build_at(1))
    ws.run("2024-01-03__000000__alpha_two", {ARTIFACT: '{"v": 2}\n'})
    ws.build_ok(at=build_at(2))
    half = ws.runs / build_id(build_at(2))
    (half / "MANIFEST.sha256").unlink()
    (ws.runs / "_log" / f"{2:020d}.json").unlink()  # the commit never happened

    show = ws.govern("--json", "delta", "show", "--registry", "alpha")
    assert show.returncode == 0, show.stderr
    assert "2024-01-03__000000__alpha_two" not in show.stdout and RUN in show.stdout
    verify = ws.govern("verify", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "1 build, 1 record" in verify.stdout

    result = ws.build_ok(at=build_at(3))
    assert build_id(build_at(2)) in result.stderr  # removed, and said so
    assert not half.exists()
    records = ws.records(build_id(build_at(3)))
    assert [r["to_ref"]["run_id"] for r in records] == [RUN, "2024-01-03__000000__alpha_two"]
    verify = ws.govern("verify", "--all", "--log")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_an_old_unsealed_build_is_left_for_verify_not_deleted(tmp_path):
    """Only a build run newer than the latest build can be a publish cut short: an older one
    without its seal (a seal deleted) is never removed by a build, and ``verify --log`` fails
    on the history it breaks."""
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.run(RUN, {ARTIFACT: '{"v": 1}\n'})
    ws.build_ok(at=build_at(1))
    ws.run("2024-01-03__000000__alpha_two", {ARTIFACT: '{"v": 2}\n'})
    ws.build_ok(at=build_at(2))
    old = ws.runs / build_id(build_at(1))
    (old / "MANIFEST.sha256").unlink()
    ws.run("2024-01-04__000000__alpha_three", {ARTIFACT: '{"v": 3}\n'})
    ws.build_ok(at=build_at(3))
    assert old.is_dir() and (old / LOG_NAME).is_file()
    verify = ws.govern("verify", "--log")
    assert verify.returncode == 1 and "E_LOG_TAMPERED" in verify.stdout, verify.stdout + verify.stderr


class _RecordingStore(MemoryStore):
    """A MemoryStore that records every put: its key and the thread that made it."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[tuple[str, str]] = []

    def put(self, key, data, *, if_absent=False):
        super().put(key, data, if_absent=if_absent)
        self.puts.append((key, threading.current_thread().name))


def test_publish_run_is_the_one_parallel_ordered_upload_of_publishing(tmp_path):
    """RunStore.publish_run (a delta-log build's publish) is govern publish's upload: the payload
    in the upload threads, finished before run.json and manifest.json, the seal put last;
    and, the run having to be new, an object already there is E_RUN_EXISTS with everything
    this writer put taken back (the other writer's object left alone)."""
    run_dir = make_run(tmp_path / "scratch", RUN, {f"part_{n}.json": b'{"n": %d}\n' % n for n in range(12)})
    seal_in_process(run_dir)
    files = {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}
    store = _RecordingStore()
    _publish(RunStore(store), files)
    keys = [key.removeprefix(f"{RUN}/") for key, _ in store.puts]
    payload = [path for path in files if path not in SEAL_FILES]
    assert sorted(keys[: len(payload)]) == sorted(payload)
    assert sorted(keys[len(payload) : -1]) == ["manifest.json", "run.json"] and keys[-1] == "MANIFEST.sha256"
    assert all(thread.startswith("govern-publish") for _, thread in store.puts[:-1]), store.puts
    assert RunStore(store).read_seal(RUN).ok

    racing = _RecordingStore()
    racing.put(f"{RUN}/part_7.json", b"another writer's\n")
    with pytest.raises(GovernError) as lost:
        _publish(RunStore(racing), files)
    assert lost.value.code == "E_RUN_EXISTS" and f"{RUN}/part_7.json exists" in str(lost.value)
    assert list(racing.list()) == [(f"{RUN}/part_7.json", len(b"another writer's\n"))]
