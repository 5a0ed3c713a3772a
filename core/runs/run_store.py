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

import functools
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from govern.errors import GovernError, Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME, ManifestEntry, SealCheck
from govern.runs.listing import RunsListing, runs_listing
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.manifest_workers import read_seals
from govern.seal.seal_file import check_seal_files, read_seal
from govern.seal.verification import verify_payload
from govern.store.backend import AlreadyExists, KeyNotFound, Store
from govern.store.local import LocalStore

#: How many objects are read at once when a run in object storage is verified.
OBJECT_READERS = 16
#: The largest ranged GET a stored file is read in (a larger file takes several).
READ_CHUNK = 8 * 1024 * 1024


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
        anything else taking its name)."""
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

        def read(name: str, limit: int, not_regular_code: str) -> bytes:
            try:
                return self.backend.get(f"{run_id}/{name}", end=limit + 1)
            except KeyNotFound:
                raise FileNotFoundError(name) from None

        return check_seal_files(run_id, read)

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
            found = pool.map(lambda path: (path, self.hash_stored_file(run_id, path)), sorted(listed))
            problems = []
            for path, stored in found:
                progress.advance(1)
                entry = listed[path]
                if stored is None:
                    problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not in the store"))
                elif stored[0] != entry.bytes:
                    problems.append(Problem("E_SIZE_MISMATCH", path, f"{stored[0]} bytes, the manifest says {entry.bytes}"))
                elif stored[1] != entry.sha256:
                    problems.append(Problem("E_DIGEST_MISMATCH", path, f"sha256 {stored[1]}, the manifest says {entry.sha256}"))
        return problems

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
        """Publish a sealed run: the payload files, then run.json and manifest.json (and the
        ``unlisted`` files beside the seal: its attestation), then MANIFEST.sha256 with
        ``if_absent`` — the commit point. Every file is put ``if_absent``,
        so a writer never overwrites another's run; the loser of a race gets E_RUN_EXISTS and
        takes back what it wrote. A run interrupted before its seal is half-published: unsealed,
        never read as a build or a snapshot (:meth:`remove_unsealed` clears it under the lock).
        """
        written: list[str] = []
        files: Iterable[tuple[str, bytes]] = [
            *sorted(payload.items()), (ENVELOPE_NAME, envelope), (MANIFEST_NAME, manifest), *sorted((unlisted or {}).items())
        ]
        try:
            for relpath, data in files:
                key = f"{run_id}/{relpath}"
                self.backend.put(key, data, if_absent=True)
                written.append(key)
            self.backend.put(f"{run_id}/{SEAL_NAME}", seal, if_absent=True)
        except AlreadyExists as lost:
            for key in written:
                self.backend.delete(key)
            raise GovernError(
                "E_RUN_EXISTS", f"{run_id}: another writer published a run of that name first ({lost.key} exists); it is never overwritten",
            ) from None

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
