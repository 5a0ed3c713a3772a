"""Store.put_file: a local file streamed to a key, on every backend exactly as put of its bytes."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.errors import GovernError
from govern.store.backend import AlreadyExists
from govern.store.files import CHUNK_BYTES
from govern.store.local import LocalStore
from govern.store.memory import MemoryStore


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), first=st.booleans(), if_absent=st.booleans())
def test_put_file_stores_what_put_of_the_same_bytes_stores(tmp_path, data, first, if_absent):
    """put_file(key, file) and put(key, bytes) of the same bytes leave the same key, on both
    backends, plain or if_absent (AlreadyExists alike when the key is there)."""
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    by_file, by_bytes = MemoryStore(), MemoryStore()
    local = LocalStore(tmp_path / f"local-{len(data)}-{first}-{if_absent}")
    outcomes = []
    for store, put in ((by_file, "file"), (by_bytes, "bytes"), (local, "file")):
        if first:
            store.put("run/key", b"earlier")
        try:
            if put == "file":
                store.put_file("run/key", source, if_absent=if_absent)
            else:
                store.put("run/key", data, if_absent=if_absent)
            outcomes.append("stored")
        except AlreadyExists:
            outcomes.append("exists")
        outcomes.append(store.get("run/key"))
    assert outcomes[0:2] == outcomes[2:4] == outcomes[4:6]
    local.delete("run/key")


def test_put_file_streams_a_large_file_through_local_store(tmp_path):
    """A file several chunks long is copied chunk by chunk: the peak of Python memory stays
    near one chunk, never the whole file; the stored bytes are the file's."""
    source = tmp_path / "big.bin"
    size = 5 * CHUNK_BYTES + 123
    with open(source, "wb") as handle:
        for index in range(6):
            handle.write(bytes([index]) * (CHUNK_BYTES if index < 5 else 123))
    store = LocalStore(tmp_path / "store")
    tracemalloc.start()
    try:
        store.put_file("r/big.bin", source, if_absent=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * CHUNK_BYTES + 1024 * 1024, peak
    assert store.stat("r/big.bin") == size
    assert (tmp_path / "store" / "r" / "big.bin").read_bytes() == source.read_bytes()
    assert not [p for p in (tmp_path / "store" / "r").iterdir() if p.name.startswith(".govern-tmp-")]


@pytest.mark.parametrize("backend", ["local", "memory"])
def test_put_file_of_an_unreadable_file_is_e_io_and_leaves_the_key_alone(tmp_path, backend):
    store = LocalStore(tmp_path / "store") if backend == "local" else MemoryStore()
    store.put("r/k", b"old")
    with pytest.raises(GovernError) as raised:
        store.put_file("r/k", tmp_path / "missing.bin")
    assert raised.value.code == "E_IO" and "missing.bin" in raised.value.message
    assert store.get("r/k") == b"old"
    if backend == "local":
        assert sorted(p.name for p in (tmp_path / "store" / "r").iterdir()) == ["k"]


def test_abandoned_temporary_files_go_and_live_writers_files_stay(tmp_path):
    """LocalStore.remove_abandoned_writes: a temporary file of a dead process (a writer killed
    mid-put) is removed, one of a live process (this one) is left alone, keys are untouched."""
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    store = LocalStore(tmp_path / "store")
    store.put("run/sub/key", b"data")
    folder = tmp_path / "store" / "run" / "sub"
    (folder / f".govern-tmp-{dead.stdout.strip()}.7-key2").write_bytes(b"half")
    (folder / f".govern-tmp-{os.getpid()}.7-key3").write_bytes(b"in flight")
    assert store.remove_abandoned_writes("run") == (f"run/sub/.govern-tmp-{dead.stdout.strip()}.7-key2",)
    assert sorted(p.name for p in folder.iterdir()) == [f".govern-tmp-{os.getpid()}.7-key3", "key"]
