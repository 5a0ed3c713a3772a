"""A create-if-absent upload of a large file to S3 keeps memory bounded and stays exclusive.

obstore has no conditional multipart upload: ``S3Store.put_file(..., if_absent=True)`` of a
file above ``WHOLE_PUT_LIMIT`` streams it to a staging key and copies it to its key by a
multipart copy completed with ``If-None-Match: *`` (issue 13, point 2 of the bench brief).
Against the real SeaweedFS of the session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from govern.runtime import environment
from govern.store.atomic import TEMP_PREFIX
from govern.store.backend import AlreadyExists
from govern.store.factory import StorageOptions, open_store
from govern.store.s3 import WHOLE_PUT_LIMIT, S3Store
from seaweedfs import SeaweedFS

MIB = 1 << 20


def _store(server: SeaweedFS, prefix: str) -> S3Store:
    with environment.binding(server.environ()):
        store = open_store(server.url(prefix), relative_to=Path("/"), storage=StorageOptions(endpoint_url=server.endpoint, allow_http=True))
    assert isinstance(store, S3Store)
    return store


def _big_file(path: Path, size: int) -> bytes:
    data = os.urandom(MIB) * (size // MIB) + os.urandom(size % MIB)
    path.write_bytes(data)
    return data


def test_a_large_create_if_absent_upload_is_intact_exclusive_and_leaves_no_staging_key(tmp_path, seaweedfs):
    store = _store(seaweedfs, seaweedfs.fresh_prefix("bigput"))
    data = _big_file(tmp_path / "big.bin", 2 * WHOLE_PUT_LIMIT + 12345)
    store.put_file("run/big.bin", tmp_path / "big.bin", if_absent=True)
    assert store.get("run/big.bin") == data
    other = tmp_path / "other.bin"
    _big_file(other, WHOLE_PUT_LIMIT + 1)
    with pytest.raises(AlreadyExists):
        store.put_file("run/big.bin", other, if_absent=True)
    assert store.get("run/big.bin") == data  # the loser changed nothing
    assert [key for key, _size in store.list("")] == ["run/big.bin"]  # no staging key left


def test_two_racing_large_uploads_to_one_key_exactly_one_wins(tmp_path, seaweedfs):
    store = _store(seaweedfs, seaweedfs.fresh_prefix("bigrace"))
    sources = [tmp_path / f"writer{i}.bin" for i in range(2)]
    contents = [_big_file(path, WHOLE_PUT_LIMIT + MIB) for path in sources]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(sources))

    def write(path: Path) -> None:
        barrier.wait()
        try:
            store.put_file("run/raced.bin", path, if_absent=True)
            outcomes.append("won")
        except AlreadyExists:
            outcomes.append("lost")

    threads = [threading.Thread(target=write, args=(path,)) for path in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert store.get("run/raced.bin") in contents
    assert not [key for key, _size in store.list("") if key.startswith(TEMP_PREFIX)]


#: A child process: put_file if_absent of a large file; prints its peak RSS growth over the
#: RSS it had with the client made and a small object put (ru_maxrss is the process's own).
_MEASURE = """
import resource, sys
from pathlib import Path
from govern.runtime import environment
from govern.store.factory import StorageOptions, open_store
url, endpoint, path = sys.argv[1:4]
store = open_store(url, relative_to=Path("/"), storage=StorageOptions(endpoint_url=endpoint, allow_http=True))
store.put("warm", b"x", if_absent=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store.put_file("run/big.bin", Path(path), if_absent=True)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_a_large_create_if_absent_upload_is_not_read_whole_into_memory(tmp_path, seaweedfs):
    """Before the fix the file was read whole for one conditional PUT (a 160 MiB file grew the
    peak RSS by some 70 MiB); streamed, the growth is a few multipart parts at most."""
    size = 160 * MIB
    _big_file(tmp_path / "big.bin", size)
    env = {**os.environ, **seaweedfs.environ()}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, seaweedfs.url(seaweedfs.fresh_prefix("bigmem")), seaweedfs.endpoint, str(tmp_path / "big.bin")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    growth = int(done.stdout.strip())
    assert growth < size // 4, f"peak RSS grew by {growth / MIB:.0f} MiB uploading a {size // MIB} MiB file"


#: A child process: a large create-if-absent upload, killed (SIGKILL) once its temporary
#: object has begun — what a publish killed mid-upload leaves behind.
_KILLED_UPLOAD = """
import os, signal, sys, threading
from pathlib import Path
from govern.store.factory import StorageOptions, open_store
import govern.store.s3 as s3
url, endpoint, path = sys.argv[1:4]
store = open_store(url, relative_to=Path("/"), storage=StorageOptions(endpoint_url=endpoint, allow_http=True))
real_put = store._put
def put_then_die(key, source, if_absent):
    real_put(key, source, if_absent)
    if key.startswith(".govern-tmp-upload-"):
        os.kill(os.getpid(), signal.SIGKILL)  # uploaded to the temporary key, never copied
store._put = put_then_die
store.put_file("run/big.bin", Path(path), if_absent=True)
"""


def test_a_killed_large_upload_leaves_a_temporary_object_verify_names_and_gc_removes(tmp_path, seaweedfs):
    """The temporary object of a large upload killed before its copy is no key of any run:
    ``verify --all`` names it, ``gc --older-than`` removes it once it is old (its name says
    when it began), and keeps a young one (an upload that may be in flight)."""
    import datetime as dt

    from govern.store.atomic import upload_staging_key, upload_staging_time
    from s3_workspace import S3Workspace

    ws = S3Workspace.create(tmp_path / "ws", seaweedfs, {"alpha": {"kind": "sealed", "artifact": "ALPHA_v0_1.json"}})
    _big_file(tmp_path / "big.bin", WHOLE_PUT_LIMIT + MIB)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_UPLOAD, ws.url, seaweedfs.endpoint, str(tmp_path / "big.bin")],
        env={**os.environ, **seaweedfs.environ()},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    (left,) = [key for key, _size in ws.store.list("") if key.startswith(TEMP_PREFIX)]
    begun = upload_staging_time(left)
    assert begun is not None and abs(dt.datetime.now(dt.UTC) - begun) < dt.timedelta(minutes=10)
    young = upload_staging_key(begun + dt.timedelta(hours=2))
    ws.store.put(young, b"in flight")

    verified = ws.govern("verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{left}: the temporary object of a large upload" in verified.stderr
    at = (begun + dt.timedelta(hours=2, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    collected = ws.govern("--json", "gc", "--older-than", "1h", "--at", at)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    removed = json.loads(collected.stdout)["result"]["removed"]
    assert [(item["run_id"], item["reason"]) for item in removed] == [(left, "temporary object of a large upload cut short")]
    assert [key for key, _size in ws.store.list("") if key.startswith(TEMP_PREFIX)] == [young]
