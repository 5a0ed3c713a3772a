"""Run views and snapshots: a run of the runs root as the build sees it."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import attrs

from govern.format.artifact_paths import artifact_columns, artifact_entries
from govern.format.manifest import ManifestEntry, SealCheck
from govern.seal.manifest_workers import read_seals
from govern.seal.seal_file import read_seal


class RunView:
    """A run folder as the build sees it, its seal read at most once (cached)."""

    def __init__(self, path: Path) -> None:
        self.path = path if isinstance(path, Path) else Path(path)  # thousands per build: no copy
        self.run_id = self.path.name

    @functools.cached_property
    def seal(self) -> SealCheck:
        """The run's seal check (seal file and manifest structure; payload not read)."""
        return read_seal(self.path)

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
    """Read the seals of ``runs`` not read yet, all at once (:func:`govern.seal.manifest_workers.read_seals`:
    large manifests side by side), so that each :attr:`RunView.seal` is then a cached value."""
    unread = [run for run in runs if "seal" not in run.__dict__]
    for run, check in zip(unread, read_seals([run.path for run in unread])):
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
