"""``govern publish`` and ``govern seal --publish`` (issue 13, point 2): a sealed local run is
uploaded payload first, run.json and manifest.json next, MANIFEST.sha256 last and only if
absent; resumable (objects already there are checked by size *and* SHA-256); a run id is
published once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from govern.errors import GovernError
from govern.runs.publishing import publish_sealed_run
from govern.runs.run_store import RunStore
from govern.store.backend import AlreadyExists
from govern.store.local import LocalStore
from govern.store.memory import MemoryStore
from helpers import RUN_ID, make_run, run_govern, seal_in_process, verify_in_process

PAYLOAD = {f"part/{index:02d}.bin": bytes([index]) * (100 + index) for index in range(12)} | {"report.md": b"# report\n"}


def _sealed(root: Path, files=PAYLOAD, run_id: str = RUN_ID) -> Path:
    run_dir = make_run(root, run_id, files)
    seal_in_process(run_dir)
    return run_dir


def _objects(run_dir: Path) -> dict[str, bytes]:
    """The run's files by key, as a store holding the published run must hold them."""
    return {f"{run_dir.name}/{p.relative_to(run_dir).as_posix()}": p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


class RecordingStore(MemoryStore):
    """A MemoryStore that records every key written, in order (the order publish puts them)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        super().put(key, data, if_absent=if_absent)
        self.written.append(key)

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        super().put_file(key, path, if_absent=if_absent)


def test_publish_to_a_local_folder_then_again_is_already_published(tmp_path):
    """The real console script publishes a sealed run to --to DIR: every file lands, the
    published folder verifies; the same command again changes nothing and exits 0."""
    run_dir = _sealed(tmp_path / "local")
    target = tmp_path / "remote"
    target.mkdir()
    first = run_govern("--json", "publish", run_dir, "--to", target)
    assert first.returncode == 0, first.stderr
    result = first.json()["result"]
    assert result["uploaded"] == result["objects"] == len(PAYLOAD) + 3 and result["skipped"] == 0
    assert _objects(target / RUN_ID) == _objects(run_dir)
    assert not verify_in_process(target / RUN_ID).problems
    again = run_govern("publish", run_dir, "--to", target)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{RUN_ID}: already published to {target}")


def test_publish_defaults_to_the_workspace_runs_root(tmp_path, workspace, runs_root):
    run_dir = _sealed(tmp_path / "elsewhere")
    result = run_govern("-C", workspace, "publish", run_dir)
    assert result.returncode == 0, result.stderr
    assert _objects(runs_root / RUN_ID) == _objects(run_dir)


def test_publish_puts_the_payload_then_envelope_and_manifest_then_the_seal_last(tmp_path):
    run_dir = _sealed(tmp_path)
    store = RecordingStore()
    publish_sealed_run(run_dir, RunStore(store))
    stages = [key.removeprefix(RUN_ID + "/") for key in store.written]
    assert stages[-1] == "MANIFEST.sha256"
    assert set(stages[-3:-1]) == {"run.json", "manifest.json"}
    assert set(stages[:-3]) == set(PAYLOAD)
    assert dict(store.list()).keys() == _objects(run_dir).keys()


@pytest.mark.parametrize("damage", ["unsealed", "modified"])
def test_an_unsealed_or_broken_run_is_refused_and_nothing_is_written(tmp_path, damage):
    run_dir = make_run(tmp_path / "local", RUN_ID, PAYLOAD)
    if damage == "modified":
        seal_in_process(run_dir)
        (run_dir / "report.md").write_bytes(b"# REPORT\n")
    target = tmp_path / "remote"
    target.mkdir()
    result = run_govern("publish", run_dir, "--to", target)
    code = "E_SEAL_MISSING" if damage == "unsealed" else "E_DIGEST_MISMATCH"
    assert result.returncode == 1, result.stderr
    assert result.stderr_lines[0].startswith(f"govern: error: {code}: {run_dir}"), result.stderr
    assert "Traceback" not in result.stderr
    assert list(target.iterdir()) == []


def test_a_different_run_published_under_the_id_is_e_run_exists(tmp_path):
    target = tmp_path / "remote"
    target.mkdir()
    theirs = _sealed(tmp_path / "theirs", {"report.md": b"their report\n"})
    assert run_govern("publish", theirs, "--to", target).returncode == 0
    before = _objects(target / RUN_ID)
    ours = _sealed(tmp_path / "ours")
    result = run_govern("publish", ours, "--to", target)
    assert result.returncode == 1
    line = result.stderr_lines[0]
    assert line.startswith(f"govern: error: E_RUN_EXISTS: {RUN_ID}: cannot publish to {target}: "), line
    assert _objects(target / RUN_ID) == before  # nothing of theirs overwritten


def test_a_re_run_uploads_only_what_an_interrupted_publish_left_out(tmp_path):
    """Resumable: objects already stored with the run's bytes are skipped, the rest uploaded."""
    run_dir = _sealed(tmp_path)
    store = RecordingStore()
    objects = _objects(run_dir)
    already = [key for key in objects if "/part/0" in key]  # an interrupted publish got this far
    for key in already:
        store.put(key, objects[key], if_absent=True)
    store.written.clear()
    published = publish_sealed_run(run_dir, RunStore(store))
    assert published.skipped == len(already) and published.uploaded == len(objects) - len(already)
    assert sorted(store.written) == sorted(objects.keys() - set(already))
    assert {key: store.get(key) for key, _ in store.list()} == objects


def test_an_object_of_the_right_size_but_other_bytes_is_never_skipped(tmp_path):
    """Size alone is no proof: a stored object of the same size whose SHA-256 differs belongs
    to another run of that id, and publishing stops (E_RUN_EXISTS naming the key), no seal."""
    run_dir = _sealed(tmp_path)
    store = MemoryStore()
    key = f"{RUN_ID}/part/03.bin"
    store.put(key, b"\xff" * len(PAYLOAD["part/03.bin"]))
    with pytest.raises(GovernError) as raised:
        publish_sealed_run(run_dir, RunStore(store), location="s")
    assert raised.value.code == "E_RUN_EXISTS" and key in raised.value.message
    assert store.stat(f"{RUN_ID}/MANIFEST.sha256") is None
    assert store.get(key) == b"\xff" * len(PAYLOAD["part/03.bin"])


def test_progress_counts_every_byte_of_the_run(tmp_path):
    run_dir = _sealed(tmp_path)

    class Recorder:
        def __init__(self) -> None:
            self.total, self.done = 0, 0

        def start(self, total: int, label: str) -> None:
            if label.startswith("publishing"):
                self.total = total

        def advance(self, amount: int) -> None:
            self.done += amount

    recorder = Recorder()
    store = MemoryStore()
    publish_sealed_run(run_dir, RunStore(store), progress=recorder)
    assert recorder.total == sum(size for _, size in store.list())
    # verification's progress (files) comes first, then publishing's (bytes)
    assert recorder.done - len(_objects(run_dir)) + 2 == recorder.total


def race_publishers(run_dirs: list[Path], store) -> dict[int, object]:
    """Publish each run of ``run_dirs`` to ``store`` from its own thread, all released at
    once; each one's PublishedRun, or its error code."""
    barrier = threading.Barrier(len(run_dirs))
    outcomes: dict[int, object] = {}

    def publish(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = publish_sealed_run(run_dirs[index], RunStore(store))
        except GovernError as error:
            outcomes[index] = error.code

    threads = [threading.Thread(target=publish, args=(index,)) for index in range(len(run_dirs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("backend", ["local", "memory"])
def test_two_publishers_of_one_run_id_racing_exactly_one_wins(tmp_path, backend):
    """Two different runs of one id published at the same moment, 15 rounds: exactly one
    publisher gets through, the other gets E_RUN_EXISTS; the store holds the winner's run
    whole and sealed. Two publishers of the very same run both succeed, one seal put."""
    for round_ in range(15):
        run_id = f"2024-01-02__0304{round_:02d}__race"
        runs = [_sealed(tmp_path / f"r{round_}-{side}", {**PAYLOAD, "who.txt": side.encode()}, run_id) for side in "ab"]
        if round_ % 5 == 4:  # the very same run, twice
            runs[1] = runs[0]
        store = LocalStore(tmp_path / f"store{round_}") if backend == "local" else MemoryStore()
        outcomes = race_publishers(runs, store)
        if runs[0] == runs[1]:
            assert all(not isinstance(outcome, str) for outcome in outcomes.values()), outcomes
        else:
            assert sorted(map(str, (o if isinstance(o, str) else "won" for o in outcomes.values()))) == ["E_RUN_EXISTS", "won"]
        winner = runs[next(i for i, o in outcomes.items() if not isinstance(o, str))]
        seal_key = f"{run_id}/MANIFEST.sha256"
        assert store.get(seal_key) == (winner / "MANIFEST.sha256").read_bytes()
        for key, data in _objects(winner).items():
            assert store.get(key) == data


def test_seal_publish_seals_then_publishes(tmp_path):
    run_dir = make_run(tmp_path / "local", RUN_ID, PAYLOAD)
    target = tmp_path / "remote"
    target.mkdir()
    result = run_govern("--json", "seal", run_dir, "--publish", "--to", target, "--at", "2024-01-02T03:04:05Z")
    assert result.returncode == 0, result.stderr
    document = result.json()["result"]
    assert document["published"]["uploaded"] == document["files"] + 2
    assert document["published"]["root_sha256"] == document["root_sha256"]
    assert _objects(target / RUN_ID) == _objects(run_dir)
    text = run_govern("seal", make_run(tmp_path / "other", RUN_ID, PAYLOAD), "--publish", "--to", target, "--at", "2024-01-02T03:04:05Z")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-1].startswith(f"{RUN_ID}: already published to {target}")


def test_seal_to_without_publish_is_a_usage_error(tmp_path):
    run_dir = make_run(tmp_path, RUN_ID, PAYLOAD)
    result = run_govern("seal", run_dir, "--to", tmp_path)
    assert result.returncode == 2
    assert result.stderr_lines[0].startswith("govern: error: E_USAGE: --to "), result.stderr
    assert not (run_dir / "MANIFEST.sha256").exists()


def test_publish_to_a_missing_folder_is_refused(tmp_path):
    run_dir = _sealed(tmp_path)
    result = run_govern("publish", run_dir, "--to", tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr_lines[0].startswith("govern: error: E_NOT_A_DIRECTORY: --to "), result.stderr


def test_a_put_if_absent_lost_mid_stage_is_checked_not_trusted(tmp_path):
    """An object that appears between the listing and the put (another publisher of the same
    run) is read back and accepted when its bytes are the run's."""
    run_dir = _sealed(tmp_path)
    objects = _objects(run_dir)

    class LateArrivals(MemoryStore):
        def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
            if key.endswith("part/05.bin"):
                super().put(key, objects[key], if_absent=True)  # the other publisher, just now
            super().put_file(key, path, if_absent=if_absent)

    store = LateArrivals()
    published = publish_sealed_run(run_dir, RunStore(store))
    assert published.skipped == 1 and published.uploaded == len(objects) - 1
    with pytest.raises(AlreadyExists):
        store.put(f"{RUN_ID}/MANIFEST.sha256", b"", if_absent=True)
