"""The storage backends (core/store): the local backend and the in-memory one behave the same
on any sequence of operations, and put-if-absent lets exactly one of two racing writers win."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.store.atomic import TEMP_PREFIX
from govern.store.backend import AlreadyExists, KeyNotFound, Store
from govern.store.local import LocalStore
from govern.store.memory import MemoryStore

# Keys of a run store's shape; none is the folder of another (a file system could not hold both).
KEYS = ["r1/a", "r1/b", "r1/sub/c", "r2/a", "r2/deep/er/d", "top"]
PREFIXES = ["", "r", "r1", "r1/", "r1/s", "r2/deep/", "t", "zz"]

_ops = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.binary(max_size=40), st.booleans()),
    st.tuples(st.just("get"), st.sampled_from(KEYS), st.one_of(st.none(), st.integers(0, 50)), st.one_of(st.none(), st.integers(0, 50))),
    st.tuples(st.just("stat"), st.sampled_from(KEYS)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
    st.tuples(st.just("list"), st.sampled_from(PREFIXES)),
    st.tuples(st.just("level"), st.sampled_from(["", "r1/", "r2/", "r2/deep/", "none/"])),
)


def _apply(store: Store, op: tuple) -> object:
    """One operation's observable outcome (a value, or the exception's kind)."""
    try:
        if op[0] == "put":
            return store.put(op[1], op[2], if_absent=op[3])
        if op[0] == "get":
            return store.get(op[1], start=op[2], end=op[3])
        if op[0] == "stat":
            return store.stat(op[1])
        if op[0] == "delete":
            return store.delete(op[1])
        if op[0] == "list":
            return list(store.list(op[1]))
        return list(store.list_level(op[1]))
    except (AlreadyExists, KeyNotFound) as error:
        return type(error).__name__


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ops, max_size=30))
def test_local_and_memory_backends_behave_identically(ops):
    """Any sequence of put (plain or if_absent), get (whole or a range), stat, delete, list and
    list_level gives the same results on both backends."""
    with tempfile.TemporaryDirectory() as scratch:
        local, memory = LocalStore(Path(scratch) / "store"), MemoryStore()
        for op in ops:
            assert _apply(local, op) == _apply(memory, op), op
        assert list(local.list()) == list(memory.list())


@pytest.mark.parametrize("store_kind", ["local", "memory"])
def test_put_if_absent_refuses_an_existing_key_and_leaves_it_unchanged(tmp_path, store_kind):
    """put(if_absent) raises AlreadyExists naming the key; the first bytes stay; a plain put replaces."""
    store = LocalStore(tmp_path) if store_kind == "local" else MemoryStore()
    store.put("run/MANIFEST.sha256", b"first")
    with pytest.raises(AlreadyExists) as caught:
        store.put("run/MANIFEST.sha256", b"second", if_absent=True)
    assert caught.value.key == "run/MANIFEST.sha256"
    assert store.get("run/MANIFEST.sha256") == b"first"
    store.put("run/MANIFEST.sha256", b"third")
    assert store.get("run/MANIFEST.sha256") == b"third"
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_local_put_if_absent_leaves_no_temporary_file(tmp_path):
    """The winner's and the loser's temporary files are both gone: only the key is left."""
    store = LocalStore(tmp_path)
    store.put("run/seal", b"a", if_absent=True)
    with pytest.raises(AlreadyExists):
        store.put("run/seal", b"b", if_absent=True)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["seal"]


def _race_in_process(root: str, key: str, data: bytes, start, results) -> None:
    start.wait()
    try:
        LocalStore(Path(root)).put(key, data, if_absent=True)
        results.put(("won", data))
    except AlreadyExists:
        results.put(("lost", data))


@pytest.mark.parametrize("rounds", [range(12)])
def test_racing_processes_put_if_absent_exactly_one_wins(tmp_path, rounds):
    """Processes released at the same instant put one key with if_absent: exactly one wins,
    and the key holds the winner's bytes, whole."""
    context = multiprocessing.get_context("fork")
    for round_number in rounds:
        key = f"race-{round_number}/MANIFEST.sha256"
        start, results = context.Event(), context.Queue()
        writers = [
            context.Process(target=_race_in_process, args=(str(tmp_path), key, bytes([65 + n]) * 4096, start, results))
            for n in range(4)
        ]
        for writer in writers:
            writer.start()
        start.set()
        outcomes = [results.get(timeout=30) for _ in writers]
        for writer in writers:
            writer.join(30)
        winners = [data for verdict, data in outcomes if verdict == "won"]
        assert len(winners) == 1, outcomes
        assert LocalStore(tmp_path).get(key) == winners[0]


@pytest.mark.parametrize("store_kind", ["local", "memory"])
def test_racing_threads_put_if_absent_exactly_one_wins(tmp_path, store_kind):
    """Threads of one process racing for one key: exactly one wins (unique temporary files)."""
    store = LocalStore(tmp_path) if store_kind == "local" else MemoryStore()
    for round_number in range(20):
        key = f"r{round_number}/k"
        barrier = threading.Barrier(4)
        won: list[int] = []

        def race(n: int, key: str = key, barrier: threading.Barrier = barrier, won: list[int] = won) -> None:
            barrier.wait()
            try:
                store.put(key, bytes([n]) * 1000, if_absent=True)
                won.append(n)
            except AlreadyExists:
                pass

        threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1
        assert store.get(key) == bytes([won[0]]) * 1000


def test_a_put_in_flight_is_not_listed_until_it_is_committed(tmp_path):
    """A racing writer's put_file streaming into its temporary file (.govern-tmp-*) while
    another lists the folder: the listing shows only committed keys, as an object store
    (and MemoryStore) never shows an unfinished upload; the key appears once the put ends."""
    store = LocalStore(tmp_path / "store")
    store.put("r1/a", b"committed")
    fifo = tmp_path / "source"
    os.mkfifo(fifo)  # the writer's source: it blocks reading until this test writes the rest
    writer = threading.Thread(target=store.put_file, args=("r1/b", fifo), kwargs={"if_absent": True})
    writer.start()
    with open(fifo, "wb") as feed:
        feed.write(b"first part, ")
        feed.flush()
        deadline = time.monotonic() + 10
        while not [name for name in os.listdir(tmp_path / "store" / "r1") if name.startswith(TEMP_PREFIX)]:
            assert time.monotonic() < deadline, "the writer never started its temporary file"
            time.sleep(0.01)
        assert list(store.list()) == [("r1/a", 9)]
        assert list(store.list("r1/")) == [("r1/a", 9)]
        feed.write(b"then the rest")
    writer.join(10)
    assert list(store.list("r1/")) == [("r1/a", 9), ("r1/b", 25)]


def test_an_abandoned_temporary_file_is_never_a_key(tmp_path):
    """What a writer killed mid-put left (its temporary file, any process id) is not listed:
    the listing of a folder holding it equals MemoryStore's after the same puts."""
    local, memory = LocalStore(tmp_path / "store"), MemoryStore()
    for store in (local, memory):
        store.put("r1/a", b"x")
        store.put("top", b"yy")
    (tmp_path / "store" / "r1" / f"{TEMP_PREFIX}999999-b").write_bytes(b"half")
    (tmp_path / "store" / f"{TEMP_PREFIX}12.34-top2").write_bytes(b"half")
    for prefix in ("", "r1/", "r1/.govern", "."):
        assert list(local.list(prefix)) == list(memory.list(prefix)), prefix


class _EmptiedFolderStore(LocalStore):
    """A LocalStore during a race: right after a put makes its folder, another writer's
    delete() of the last key there removes the folder (as delete() does with a folder it
    leaves empty) — ``races`` times."""

    def __init__(self, root: Path, races: int) -> None:
        super().__init__(root)
        self.races = races

    def _make_folders(self, folder: Path) -> None:
        super()._make_folders(folder)
        if self.races:
            self.races -= 1
            other = folder / "other-writer.json"
            other.write_bytes(b"{}")
            LocalStore.delete(self, str(other.relative_to(self.root)))  # the real delete: the folder goes
            assert not folder.exists()


@pytest.mark.parametrize("if_absent", [True, False])
def test_a_put_whose_folder_another_writers_delete_removed_makes_it_again(tmp_path: Path, if_absent: bool):
    """Four writers publishing one run id: a loser taking its files back removed the run's
    folder between a winner's mkdir and its write, which failed with E_IO (seen in CI)."""
    store = _EmptiedFolderStore(tmp_path / "root", races=2)
    store.put("run/a/b.json", b"1", if_absent=if_absent)
    assert (tmp_path / "root" / "run" / "a" / "b.json").read_bytes() == b"1"
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 100_000)
    store.races = 2
    store.put_file("run/c/d.bin", source, if_absent=if_absent)
    assert (tmp_path / "root" / "run" / "c" / "d.bin").read_bytes() == source.read_bytes()
