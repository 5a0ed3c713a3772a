"""Publishing a sealed local run folder to a run store (``govern publish``).

The run is deep-verified first (an unsealed or broken run is refused with the seal's own
codes), then uploaded in three stages, each finished before the next begins: the payload
files; ``run.json`` and ``manifest.json``; ``MANIFEST.sha256`` last, put ``if_absent`` — the
commit. A reader of the store sees the run as sealed exactly when every object is there.

Every object is put ``if_absent`` too, so a publisher never overwrites another's bytes: an
object already there is **checked, not trusted** — its size from one listing of the run's
prefix, then its SHA-256 by reading it back, streamed in ranges, compared with the digest the
verified manifest gives (object stores keep no SHA-256 they would vouch for: an ETag is an
MD5, or not even that for multipart uploads; a size alone is never proof). An object with
the run's bytes is skipped, which makes a publish resumable: a re-run after a crash uploads
only what is missing. An object with other bytes belongs to a different run of the same id,
and the publish stops with E_RUN_EXISTS naming it. Uploads run in threads, never forked
workers (an object-store client is not fork-safe).

The same upload publishes a run given as bytes (:func:`publish_new_run`, behind
:meth:`RunStore.publish_run <govern.runs.run_store.RunStore.publish_run>`: a delta-log build)
**strictly**: a run that must be new, so any object already there means another writer took
the run id — what this writer put is taken back and the publish stops with E_RUN_EXISTS
(resuming would let two builders of one build id both believe they published it).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from govern.errors import GovernError
from govern.format.envelope import ENVELOPE_NAME
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME, SealCheck
from govern.runtime import faults
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.verification import verify_run
from govern.store.backend import AlreadyExists, KeyNotFound, Store
from govern.store.files import CHUNK_BYTES
from govern.store.local import LocalStore

if TYPE_CHECKING:
    from govern.runs.run_store import RunStore

#: Uploads in flight at once: object-store requests wait on the network, not on a CPU, so
#: more threads than cores keep the link busy (restic and rclone default to a handful too).
UPLOAD_THREADS = 8


@attrs.frozen
class PublishedRun:
    """What publishing a run did: the run, where to, and how many of its objects were
    uploaded now and how many were already there (checked by size and SHA-256)."""

    run_id: str
    root_sha256: str
    #: The store published to, as its backend names itself.
    target: str
    #: The run's objects (its manifest's files, manifest.json and MANIFEST.sha256) and bytes.
    objects: int
    total_bytes: int
    uploaded: int
    uploaded_bytes: int
    #: Objects found already stored with this run's bytes (an earlier, interrupted publish).
    skipped: int
    #: The run was already sealed in the store, with this very seal: nothing was written.
    already_published: bool


@attrs.frozen
class _Object:
    """One object of the run to publish: its path in the run, its size and digest, and its
    bytes: the local file ``source`` (streamed), or ``data`` in memory."""

    relpath: str
    source: Path | None
    size: int
    sha256: str
    data: bytes | None = None

    @staticmethod
    def of_bytes(relpath: str, data: bytes) -> _Object:
        """The object holding ``data``."""
        return _Object(relpath, None, len(data), hashlib.sha256(data).hexdigest(), data)

    def put(self, backend: Store, key: str) -> None:
        """Put this object's bytes at ``key``, ``if_absent`` (AlreadyExists when it is there)."""
        if self.source is None:
            assert self.data is not None
            backend.put(key, self.data, if_absent=True)
        else:
            backend.put_file(key, self.source, if_absent=True)


@attrs.frozen
class _Uploaded:
    """What the upload of a run did: objects written now (with their bytes), objects found
    already there with the run's bytes, and whether the seal was there already."""

    uploaded: int
    uploaded_bytes: int
    skipped: int
    already_published: bool


def verified_run(run_dir: Path, progress: Progress = NO_PROGRESS) -> SealCheck:
    """The deep check of the local run ``run_dir`` (every file hashed); raises the first
    problem's code (E_SEAL_MISSING for an unsealed run, E_DIGEST_MISMATCH, …), exit 1, with
    every problem listed, when the run does not verify: only a sound run is published."""
    check = verify_run(run_dir, progress)
    if check.problems or check.manifest is None or check.root_sha256 is None:
        problems = check.problems
        first = problems[0] if problems else None
        code = first.code if first is not None else "E_SEAL_MISSING"
        raise GovernError.found(
            code,
            f"{run_dir}: its seal does not verify ({first or 'no seal'}); nothing published (govern verify {run_dir})",
            problems=problems,
        )
    return check


def publish_sealed_run(run_dir: Path, runs: RunStore, *, location: str | None = None, progress: Progress = NO_PROGRESS) -> PublishedRun:
    """Publish the sealed local run folder ``run_dir`` to ``runs`` (see the module's doc);
    ``location`` names the store in messages and the result (default: the backend's repr).

    Raises E_RUN_EXISTS (exit 1) when the store holds a different run of that id, sealed or
    being published; E_FILE_CHANGED when a local file changes while being published (its seal
    is then not put); E_IO naming the key when the store fails. What an interruption leaves
    is an unsealed run in the store, which a re-run completes.
    """
    run_dir = Path(run_dir)
    run_id = run_dir.name
    check = verified_run(run_dir, progress)
    assert check.manifest is not None and check.root_sha256 is not None
    seal = _read_local(run_dir / SEAL_NAME)
    entries = check.manifest.by_path()
    payload = [_Object(path, run_dir / path, entry.bytes, entry.sha256) for path, entry in sorted(entries.items()) if path != ENVELOPE_NAME]
    envelope = [_Object(ENVELOPE_NAME, run_dir / ENVELOPE_NAME, entry.bytes, entry.sha256) for entry in [entries.get(ENVELOPE_NAME)] if entry]
    manifest = _Object(MANIFEST_NAME, run_dir / MANIFEST_NAME, (run_dir / MANIFEST_NAME).stat().st_size, check.root_sha256)
    objects = len(payload) + len(envelope) + 2
    total_bytes = sum(item.size for item in (*payload, *envelope, manifest)) + len(seal)
    backend = runs.backend
    target = location or repr(backend)
    outcome = functools.partial(PublishedRun, run_id, check.root_sha256, target, objects, total_bytes)
    done = _upload_run(backend, target, run_id, payload, [*envelope, manifest], seal, resumable=True, progress=progress)
    return outcome(done.uploaded, done.uploaded_bytes, done.skipped, done.already_published)


def publish_new_run(
    runs: RunStore, run_id: str, payload: Mapping[str, bytes], envelope: bytes, manifest: bytes, seal: bytes, unlisted: Mapping[str, bytes]
) -> None:
    """Publish a sealed run given as bytes — the ``payload`` files (relative path → bytes),
    run.json, manifest.json, the ``unlisted`` files beside the seal (an attestation) and
    MANIFEST.sha256 — as a **new** run of ``runs`` (see the
    module's doc): the seal's put ``if_absent`` last commits it. Every object is put
    ``if_absent``: when any is already there another writer took the run id, what this call
    put is taken back, and E_RUN_EXISTS (exit 1) is raised. A run interrupted before its seal
    is half-published: unsealed, never read as a build or a snapshot.
    """
    objects = [_Object.of_bytes(relpath, data) for relpath, data in sorted(payload.items())]
    metadata = [_Object.of_bytes(ENVELOPE_NAME, envelope), _Object.of_bytes(MANIFEST_NAME, manifest)]
    metadata += [_Object.of_bytes(relpath, data) for relpath, data in sorted(unlisted.items())]
    _upload_run(runs.backend, repr(runs.backend), run_id, objects, metadata, seal, resumable=False, progress=NO_PROGRESS)


def _upload_run(
    backend: Store,
    target: str,
    run_id: str,
    payload: Sequence[_Object],
    metadata: Sequence[_Object],
    seal: bytes,
    *,
    resumable: bool,
    progress: Progress,
) -> _Uploaded:
    """The one upload of a run: ``payload``, then ``metadata`` (run.json, manifest.json),
    each stage in threads and finished before the next, then ``seal`` ``if_absent`` — the
    commit. ``resumable``: an object already there with the run's bytes is skipped (other
    bytes: E_RUN_EXISTS), and a run sealed with this very seal is already published.
    Otherwise the run must be new: any object there is E_RUN_EXISTS, with what this call put
    taken back."""
    if resumable and _already_published(backend, run_id, seal, target):
        return _Uploaded(0, 0, len(payload) + len(metadata) + 1, True)
    stamps = {item.relpath: _stamp(item) for item in (*payload, *metadata) if item.source is not None}
    present: dict[str, int] = {}
    if resumable:
        try:
            present = dict(backend.list(run_id + "/"))  # one listing: what an earlier publish left
        except OSError as exc:
            raise _store_io_error(run_id + "/", target, exc) from exc
    written: list[str] = []  # keys this call put (appended by the upload threads)
    uploaded = uploaded_bytes = skipped = 0
    progress.start(sum(item.size for item in (*payload, *metadata)) + len(seal), f"publishing {run_id}")
    try:
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="govern-publish") as pool:
            for stage in (payload, metadata):
                tasks = [(item, _upload_task(backend, target, run_id, item, present, written, resumable)) for item in stage]
                for item, wrote in _run_stage(pool, tasks):
                    if item.relpath in stamps and stamps[item.relpath] != _stamp(item):
                        raise GovernError("E_FILE_CHANGED", f"{item.source}: changed while being published; the run is not sealed in {target}")
                    uploaded, uploaded_bytes, skipped = uploaded + wrote, uploaded_bytes + item.size * wrote, skipped + (not wrote)
                    progress.advance(item.size)
                    faults.crash_point("after-object:publish")
        if isinstance(backend, LocalStore):
            # A publish killed mid-put left temporary files in the run's folder: the run must not
            # be sealed with them beside its files (an object store never shows an unfinished put).
            backend.remove_abandoned_writes(run_id)
        faults.crash_point("before-seal:publish")
        seal_key = f"{run_id}/{SEAL_NAME}"
        try:
            backend.put(seal_key, seal, if_absent=True)
        except AlreadyExists:
            if not resumable:
                raise
            # A publisher of the same run id committed between our check and our put.
            if not _already_published(backend, run_id, seal, target):
                raise _run_exists(run_id, target, seal_key, "a different run was sealed there first") from None
            return _Uploaded(uploaded, uploaded_bytes, skipped + 1, True)
        except OSError as exc:
            raise _store_io_error(seal_key, target, exc) from exc
    except AlreadyExists as lost:  # only when the run must be new: another writer has its id
        for key in written:
            backend.delete(key)
        raise GovernError(
            "E_RUN_EXISTS", f"{run_id}: another writer published a run of that name first ({lost.key} exists); it is never overwritten",
        ) from None
    progress.advance(len(seal))
    return _Uploaded(uploaded + 1, uploaded_bytes + len(seal), skipped, False)


def _run_stage(pool: ThreadPoolExecutor, tasks: Sequence[tuple[_Object, Callable[[], bool]]]) -> Iterator[tuple[_Object, bool]]:
    """Run one stage's uploads in ``pool`` and yield each object as it is done, with True when
    it was written (False: already there). The first failure cancels what has not started
    and is raised once the uploads in flight have ended: the next stage never starts early."""
    futures: dict[Future[bool], _Object] = {}
    for item, task in tasks:
        # Each upload runs in a copy of this context: the invocation's environment binding
        # (govern.runtime.environment) is a context variable, which threads do not inherit.
        futures[pool.submit(contextvars.copy_context().run, task)] = item
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in sorted(done, key=lambda f: futures[f].relpath):
                yield futures[future], future.result()
    finally:
        for future in pending:
            future.cancel()
        wait(pending)


def _upload_task(
    backend: Store, target: str, run_id: str, item: _Object, present: dict[str, int], written: list[str], resumable: bool
) -> Callable[[], bool]:
    """The upload of ``item``: True when it was written (its key appended to ``written``),
    False when the store already held it with this run's bytes; E_RUN_EXISTS when it holds
    other bytes. When not ``resumable``, an object already there is AlreadyExists, raised."""
    key = f"{run_id}/{item.relpath}"

    def upload() -> bool:
        try:
            if key not in present:
                try:
                    item.put(backend, key)
                    written.append(key)
                    return True
                except AlreadyExists:
                    if not resumable:
                        raise
                    # another publisher put it since our listing: check its bytes as below
            if not _holds(backend, key, item.size, item.sha256):
                raise _run_exists(run_id, target, key, f"it holds other bytes than {item.source}")
            return False
        except OSError as exc:
            raise _store_io_error(key, target, exc) from exc

    return upload


def _holds(backend: Store, key: str, size: int, sha256: str) -> bool:
    """True when ``key`` holds exactly ``size`` bytes hashing to ``sha256``: the size from a
    stat, then the bytes read back in ranges (never the whole object in memory)."""
    if backend.stat(key) != size:
        return False
    digest = hashlib.sha256()
    for start in range(0, size, CHUNK_BYTES):
        try:
            digest.update(backend.get(key, start=start, end=min(size, start + CHUNK_BYTES)))
        except KeyNotFound:
            return False
    return digest.hexdigest() == sha256


def _already_published(backend: Store, run_id: str, seal: bytes, target: str) -> bool:
    """True when ``run_id`` is sealed in the store with exactly ``seal``; E_RUN_EXISTS when it
    is sealed with another (a different run of the same id, never overwritten)."""
    key = f"{run_id}/{SEAL_NAME}"
    try:
        # A stat first: the usual answer is "absent", and a HEAD says so on every S3 server
        # (a GET on a bucket nothing was written to yet is NoSuchBucket on some).
        if backend.stat(key) is None:
            return False
        stored = backend.get(key, end=len(seal) + 1)
    except KeyNotFound:
        return False
    except OSError as exc:
        raise _store_io_error(key, target, exc) from exc
    if stored != seal:
        raise _run_exists(run_id, target, key, "a different run of that id is published there")
    return True


def _run_exists(run_id: str, target: str, key: str, why: str) -> GovernError:
    return GovernError(
        "E_RUN_EXISTS",
        f"{run_id}: cannot publish to {target}: {key} exists and {why}; a run id is published once and never overwritten",
    )


def _store_io_error(key: str, target: str, exc: OSError) -> GovernError:
    return GovernError("E_IO", f"{key}: publishing to {target} failed: {exc.strerror or exc}; the run is not sealed there (re-run to resume)")


def _stamp(item: _Object) -> tuple[int, int, int]:
    """The local file's (size, mtime, inode): a change while publishing changes it. The size
    must be the manifest's, or the file changed since it was verified."""
    assert item.source is not None
    try:
        found = os.stat(item.source, follow_symlinks=False)
    except OSError as exc:
        raise GovernError("E_IO", f"{item.source}: cannot read: {exc.strerror or exc}") from exc
    if found.st_size != item.size:
        raise GovernError("E_FILE_CHANGED", f"{item.source}: {found.st_size} bytes, the verified manifest says {item.size}; nothing sealed")
    return found.st_size, found.st_mtime_ns, found.st_ino


def _read_local(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror or exc}") from exc
