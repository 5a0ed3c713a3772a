"""The run store: the runs root as runs and seals, over any storage backend.

Everything above the seal layer that reads the runs root — listing runs, reading a run's seal,
reading a sealed file hash-checked, listing and reading delta-log builds — goes through a
:class:`RunStore`, which speaks of run ids and keys (``<run id>/<path>``), never of folders.
A run is **sealed exactly when its MANIFEST.sha256 exists**: :meth:`RunStore.publish_run`
writes the payload, then run.json and manifest.json, then MANIFEST.sha256 with ``if_absent``
last, so the seal's put is the one atomic step that commits a run, and of two writers
publishing one run id exactly one commits (the other gets E_RUN_EXISTS).

Over a :class:`~govern.store.local.LocalStore` the run store keeps govern's local fast paths:
seals are read with the seal layer's local reader (symlinks refused, large manifests parsed by
worker processes side by side), payloads hashed by its parallel hasher.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from govern.errors import GovernError, Problem
from govern.format.manifest import SEAL_NAME, ManifestEntry, SealCheck
from govern.runs.listing import RunsListing, runs_listing
from govern.runs.publishing import publish_new_run
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.manifest_workers import read_seals
from govern.seal.seal_file import SealFileReader, check_seal_files, read_seal, read_seal_root, seal_root
from govern.seal.verification import verify_payload
from govern.store.backend import KeyNotFound, Store
from govern.store.local import LocalStore

if TYPE_CHECKING:
    from govern.config.workspace import Workspace

#: How many objects are read at once when a run in object storage is verified.
OBJECT_READERS = 16
#: The largest ranged GET a stored file is read in (a larger file takes several).
READ_CHUNK = 8 * 1024 * 1024
#: How many runs ``verify --all`` on object storage has in flight at once (seals read ahead,
#: objects queued): enough to keep :data:`OBJECT_READERS` busy across runs of few objects.
RUNS_AHEAD = 8


class RunStore:
    """The runs of a runs root, held by ``backend`` (one key per file: ``<run id>/<path>``)."""

    def __init__(self, backend: Store) -> None:
        self.backend = backend

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def local(runs_root: Path) -> RunStore:
        """The run store of the local folder ``runs_root`` (one per folder, shared)."""
        return RunStore(LocalStore(Path(runs_root)))

    def __repr__(self) -> str:
        return f"RunStore({self.backend!r})"

    def local_dir(self, run_id: str) -> Path | None:
        """The folder of ``run_id`` when the runs root is a local folder, else None (the seal
        layer's local fast paths need it; nothing else should)."""
        return self.backend.path(run_id) if isinstance(self.backend, LocalStore) else None

    # ------------------------------------------------------------------ reading

    def list_runs(self) -> RunsListing:
        """Every run of the runs root, sorted by run id, and the names that are not runs."""
        root = self.backend.root if isinstance(self.backend, LocalStore) else None
        return runs_listing(root, self.backend.list_level(""))

    def exists(self, run_id: str) -> bool:
        """True when anything is stored under the name ``run_id`` (a run, sealed or not, or
        anything else taking its name). A name :meth:`list_runs` gives may hold nothing: some
        stores (SeaweedFS) keep listing a folder after its last object is deleted, so a name
        judged by what is missing (no seal) is confirmed here first."""
        folder = self.local_dir(run_id)
        if folder is not None:
            return os.path.lexists(folder)
        return self.backend.stat(run_id) is not None or next(iter(self.backend.list(run_id + "/")), None) is not None

    def is_sealed(self, run_id: str) -> bool:
        """True when ``run_id`` carries a seal file: the one mark of a committed run."""
        return self.backend.stat(f"{run_id}/{SEAL_NAME}") is not None

    def holds(self, run_id: str, relpath: str) -> bool:
        """True when run ``run_id`` holds ``relpath`` — a file, or a folder with files under it —
        whatever its seal says (how an unsealed or broken run is judged)."""
        folder = self.local_dir(run_id)
        if folder is not None:
            return (folder / relpath).exists()
        key = f"{run_id}/{relpath}"
        return self.backend.stat(key) is not None or next(iter(self.backend.list(key + "/")), None) is not None

    def read_seal(self, run_id: str) -> SealCheck:
        """The check of ``run_id``'s seal: MANIFEST.sha256 against manifest.json and the
        manifest's structure (the payload is not read). Parsed by the seal layer's one parser."""
        folder = self.local_dir(run_id)
        if folder is not None:
            return read_seal(folder)
        return check_seal_files(run_id, self._seal_file_reader(run_id))

    def read_root(self, run_id: str) -> str | None:
        """``read_seal(run_id).root_sha256`` — the SHA-256 of its manifest.json, None when it is
        not sealed or a seal file cannot be read — without parsing the manifest (the same
        reads; the seal layer's :func:`~govern.seal.seal_file.seal_root`)."""
        folder = self.local_dir(run_id)
        if folder is not None:
            return read_seal_root(folder)
        return seal_root(run_id, self._seal_file_reader(run_id))

    def _seal_file_reader(self, run_id: str) -> SealFileReader:
        """How the seal layer reads ``run_id``'s seal files from the store (capped, FileNotFoundError when absent)."""

        def read(name: str, limit: int, not_regular_code: str) -> bytes:
            try:
                return self.backend.get(f"{run_id}/{name}", end=limit + 1)
            except KeyNotFound:
                raise FileNotFoundError(name) from None

        return read

    def read_seals(self, run_ids: Sequence[str]) -> list[SealCheck]:
        """:meth:`read_seal` of every run, in order (locally: large manifests side by side)."""
        folders = [self.local_dir(run_id) for run_id in run_ids]
        if all(folder is not None for folder in folders):
            return read_seals([folder for folder in folders if folder is not None])
        return [self.read_seal(run_id) for run_id in run_ids]

    def read_file(self, run_id: str, relpath: str) -> bytes:
        """The bytes of a run's file as stored, unchecked (KeyNotFound when absent)."""
        return self.backend.get(f"{run_id}/{relpath}")

    def read_sealed_file(self, seal: SealCheck, relpath: str) -> bytes:
        """Read a file of a run whose seal verified, refusing bytes that differ from the manifest.

        Raises E_LOG_TAMPERED (exit 1) when the file is not in the manifest, missing, or its
        size or hash differs.
        """
        run_id = seal.run_id
        assert seal.manifest is not None
        entry = seal.manifest.by_path().get(relpath)
        if entry is None:
            raise GovernError("E_LOG_TAMPERED", f"{run_id}: {relpath} is not in the run's manifest")
        try:
            data = self.read_file(run_id, relpath)
        except KeyNotFound:
            raise GovernError("E_LOG_TAMPERED", f"{run_id}/{relpath}: cannot read: No such file or directory") from None
        except OSError as exc:
            raise GovernError("E_LOG_TAMPERED", f"{run_id}/{relpath}: cannot read: {exc.strerror}") from None
        if len(data) != entry.bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise GovernError("E_LOG_TAMPERED", f"{run_id}/{relpath}: content differs from its sealed hash")
        return data

    def payload_problems(
        self, run_id: str, listed: Mapping[str, ManifestEntry], relpath: str | None, progress: Progress = NO_PROGRESS
    ) -> list[Problem]:
        """Each file of ``run_id`` at or under ``relpath`` that differs from its manifest entry
        in ``listed`` (``govern verify``'s checks restricted to those paths)."""
        folder = self.local_dir(run_id)
        if folder is not None:
            return verify_payload(folder, listed, relpath, progress)  # hashed in parallel, stamps honoured
        # Object storage: every object read by ranged GETs (memory stays bounded by the
        # chunk) and hashed, many at once in threads — the client is not fork-safe, and the
        # time goes in waiting for the network, not in the GIL.
        progress.start(len(listed), f"verifying {run_id}")
        with ThreadPoolExecutor(max_workers=OBJECT_READERS) as pool:
            hashing = {path: pool.submit(self.hash_stored_file, run_id, path) for path in sorted(listed)}
            return _stored_problems(listed, hashing, progress)

    def hash_stored_file(self, run_id: str, relpath: str) -> tuple[int, str] | None:
        """The size and SHA-256 of a run's stored file, read in ranged GETs of
        :data:`READ_CHUNK` bytes (one GET for a file smaller than that); None when absent."""
        key = f"{run_id}/{relpath}"
        digest = hashlib.sha256()
        size = 0
        while True:
            try:
                chunk = self.backend.get(key, start=size, end=size + READ_CHUNK)
            except KeyNotFound:
                if size == 0:
                    return None
                raise
            digest.update(chunk)
            size += len(chunk)
            if len(chunk) < READ_CHUNK:
                return size, digest.hexdigest()

    def check_stored_runs(self, run_ids: Sequence[str], progress: Progress = NO_PROGRESS) -> Iterator[tuple[str, SealCheck | None]]:
        """:meth:`check_stored_run` of every run of ``run_ids`` in order, pipelined: one pool of
        :data:`OBJECT_READERS` threads reads the seals of the next runs and the objects of
        several runs at once, so the requests of one run never wait for the last object of
        the previous one (over thousands of small runs, that wait was most of the time).
        Yields ``(run id, check)``, the check None for an unsealed run (no seal file)."""
        ids = list(run_ids)

        def seal_of(run_id: str) -> SealCheck | None:
            return self.read_seal(run_id) if self.is_sealed(run_id) else None

        with ThreadPoolExecutor(max_workers=OBJECT_READERS) as pool:
            seals: dict[int, Future[SealCheck | None]] = {}
            in_flight: collections.deque[tuple[str, SealCheck | None, dict[str, Future[tuple[int, str] | None]]]] = collections.deque()
            for index, run_id in enumerate(ids):
                # Seals are asked for RUNS_AHEAD runs early; objects of RUNS_AHEAD runs are in
                # the pool's queue at once (memory: the manifests of those runs only).
                for ahead in range(index, min(len(ids), index + RUNS_AHEAD)):
                    if ahead not in seals:
                        seals[ahead] = pool.submit(seal_of, ids[ahead])
                seal = seals.pop(index).result()
                listed = seal.manifest.by_path() if seal is not None and seal.manifest is not None else {}
                hashing = {path: pool.submit(self.hash_stored_file, run_id, path) for path in sorted(listed)}
                in_flight.append((run_id, seal, hashing))
                while len(in_flight) > RUNS_AHEAD:
                    yield _checked(*in_flight.popleft(), progress)
            while in_flight:
                yield _checked(*in_flight.popleft(), progress)

    def check_stored_run(self, run_id: str, progress: Progress = NO_PROGRESS) -> SealCheck:
        """The deep check of a run in any store: its seal, then every listed file's size and
        SHA-256 against the manifest (:meth:`payload_problems`)."""
        seal = self.read_seal(run_id)
        if seal.manifest is None:
            return seal
        payload = self.payload_problems(run_id, seal.manifest.by_path(), None, progress)
        return attrs.evolve(seal, problems=(*seal.problems, *payload))

    # ------------------------------------------------------------------ writing

    def publish_run(
        self, run_id: str, payload: Mapping[str, bytes], envelope: bytes, manifest: bytes, seal: bytes, unlisted: Mapping[str, bytes] | None = None
    ) -> None:
        """Publish a sealed run given as bytes as a new run: the payload files, then run.json
        and manifest.json (and the ``unlisted`` files beside the seal: its attestation), then
        MANIFEST.sha256 with ``if_absent`` — the commit point — by the one upload of
        :mod:`govern.runs.publishing` (:func:`~govern.runs.publishing.publish_new_run`).
        Every file is put ``if_absent``, so a writer never overwrites another's run; the loser
        of a race gets E_RUN_EXISTS and takes back what it wrote. A run interrupted before its
        seal is half-published: unsealed, never read as a build or a snapshot
        (:meth:`remove_unsealed` clears it under the lock).
        """
        publish_new_run(self, run_id, payload, envelope, manifest, seal, unlisted or {})

    def remove_unsealed(self, run_id: str) -> bool:
        """Delete every file of ``run_id`` when it has no seal (a half-published run a crashed
        writer left); True when something was removed. Only under the workspace lock: an
        unsealed run may be one a writer is publishing right now."""
        if self.is_sealed(run_id):
            return False
        folder = self.local_dir(run_id)
        if folder is not None:
            if not folder.is_dir() or folder.is_symlink():
                return False
            shutil.rmtree(folder)  # with whatever a crash left beside the keys (temporary files)
            return True
        keys = [key for key, _ in self.backend.list(run_id + "/")]
        for key in keys:
            self.backend.delete(key)
        return bool(keys)


def as_run_store(runs: RunStore | Path) -> RunStore:
    """``runs`` itself, or the run store of the local runs root ``runs``."""
    return runs if isinstance(runs, RunStore) else RunStore.local(Path(runs))


def _stored_problems(
    listed: Mapping[str, ManifestEntry], hashing: Mapping[str, Future[tuple[int, str] | None]], progress: Progress
) -> list[Problem]:
    """The problems of stored objects against their manifest entries in ``listed``, from the
    ``(size, sha256)`` (None: absent) each future of ``hashing`` gives, in path order."""
    problems = []
    for path, future in hashing.items():
        stored = future.result()
        progress.advance(1)
        entry = listed[path]
        if stored is None:
            problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not in the store"))
        elif stored[0] != entry.bytes:
            problems.append(Problem("E_SIZE_MISMATCH", path, f"{stored[0]} bytes, the manifest says {entry.bytes}"))
        elif stored[1] != entry.sha256:
            problems.append(Problem("E_DIGEST_MISMATCH", path, f"sha256 {stored[1]}, the manifest says {entry.sha256}"))
    return problems


def _checked(
    run_id: str, seal: SealCheck | None, hashing: Mapping[str, Future[tuple[int, str] | None]], progress: Progress
) -> tuple[str, SealCheck | None]:
    """``(run_id, seal with its payload's problems added)`` once every object is hashed."""
    if seal is None or seal.manifest is None:
        return run_id, seal
    progress.start(len(hashing), f"verifying {run_id}")
    payload = _stored_problems(seal.manifest.by_path(), hashing, progress)
    return run_id, attrs.evolve(seal, problems=(*seal.problems, *payload))
def workspace_runs(workspace: Workspace) -> RunStore:
    """The run store over ``workspace``'s runs root (local or ``s3://``): the one way a command
    opens the runs it reads and writes. Built here, over :meth:`Workspace.store`, because the
    config layer sits below this one (docs/architecture.md); the backend is shared per
    location, so a run store is cheap to make per call."""
    return RunStore(workspace.store())
