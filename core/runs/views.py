"""Run views and snapshots: a run of the runs root as the build sees it."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import attrs

from govern.format.artifact_paths import artifact_columns, artifact_entries
from govern.format.manifest import ManifestEntry, SealCheck
from govern.runs.run_store import RunStore


class RunView:
    """A run of the runs root as the build sees it — a run id in a :class:`RunStore` — its
    seal read at most once (cached).

    ``RunView(run_id, runs)``; ``RunView(path)`` is the run folder ``path`` of a local runs root.
    """

    def __init__(self, run: str | Path, runs: RunStore | None = None) -> None:
        if runs is None:
            folder = run if isinstance(run, Path) else Path(run)
            runs = RunStore.local(folder.parent)
            run = folder.name
        self.run_id = run if isinstance(run, str) else run.name
        self.runs = runs

    @property
    def path(self) -> Path:
        """The run's local folder (for plugins and the seal layer's local fast paths; code of
        the log and runs layers reads through :attr:`runs`). ValueError when not local."""
        folder = self.runs.local_dir(self.run_id)
        if folder is None:
            raise ValueError(f"{self.run_id}: not a run of a local runs root ({self.runs!r})")
        return folder

    @functools.cached_property
    def seal(self) -> SealCheck:
        """The run's seal check (seal file and manifest structure; payload not read)."""
        return self.runs.read_seal(self.run_id)

    def artifact_entries(self, relpath: str | None) -> dict[str, ManifestEntry]:
        """The manifest's entries at or under ``relpath``, computed once per path (a build asks
        for the same snapshot's entries several times); empty without a manifest."""
        cache = self.__dict__.setdefault("_artifact_entries", {})
        if relpath not in cache:
            manifest = self.seal.manifest
            cache[relpath] = {} if manifest is None else artifact_entries(manifest.files, relpath)
        return cache[relpath]

    def artifact_columns(self, relpath: str | None) -> tuple[Sequence[str], Sequence[str]]:
        """:func:`artifact_columns` of the manifest, computed once per path; empty without one."""
        cache = self.__dict__.setdefault("_artifact_columns", {})
        if relpath not in cache:
            manifest = self.seal.manifest
            cache[relpath] = ((), ()) if manifest is None else artifact_columns(manifest, relpath)
        return cache[relpath]

    def __repr__(self) -> str:
        return f"RunView({self.run_id!r})"


def read_run_seals(runs: Iterable[RunView]) -> None:
    """Read the seals of ``runs`` not read yet, all at once (:meth:`RunStore.read_seals`: large
    manifests side by side), so that each :attr:`RunView.seal` is then a cached value."""
    unread: dict[RunStore, list[RunView]] = {}
    for run in runs:
        if "seal" not in run.__dict__:
            unread.setdefault(run.runs, []).append(run)
    for store, views in unread.items():
        for run, check in zip(views, store.read_seals([run.run_id for run in views]), strict=True):
            run.__dict__["seal"] = check


#: How far a snapshot's evidence can be trusted.
SnapshotStatus = Literal["sealed", "broken", "unsealed"]


@attrs.frozen
class Snapshot:
    """One run holding a registry's artifact.

    ``status`` is ``sealed`` (the seal verifies), ``broken`` (a seal exists and fails:
    ``problem`` says why) or ``unsealed`` (no seal; only admitted as a legacy snapshot with
    ``--allow-unknown``).
    """

    registry_id: str
    run: RunView
    relpath: str | None
    status: SnapshotStatus
    problem: str | None = None

    @property
    def run_id(self) -> str:
        """The snapshot's run id."""
        return self.run.run_id

    @property
    def manifest_sha256(self) -> str | None:
        """The run's ROOT_SHA256 as found now (None when it has no manifest)."""
        return self.run.seal.root_sha256

    def artifact_entries(self) -> dict[str, ManifestEntry]:
        """Manifest entries at or under the artifact path (empty unless sealed)."""
        if self.status != "sealed":
            return {}
        return self.run.artifact_entries(self.relpath)

    def artifact_columns(self) -> tuple[Sequence[str], Sequence[str]]:
        """Paths and SHA-256s at or under the artifact path, path-sorted (empty unless sealed)."""
        if self.status != "sealed":
            return (), ()
        return self.run.artifact_columns(self.relpath)
