"""The value objects plugins and the host exchange: snapshots, deltas, records, kinds, ops.

All are frozen attrs classes. JSON shapes (``to_json``) are the external contract of
DESIGN §5; the JSON Schema in ``schemas/`` is its formal statement.
"""

from __future__ import annotations

import bisect
import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from govern.config import RECORD_VERSIONS  # noqa: F401  (re-exported: the record versions)
from govern.manifest import Manifest, ManifestEntry, SealCheck, read_seal
from govern.manifest_workers import read_seals

#: The record version written unless ``[workspace] record_version`` says otherwise.
DELTA_VERSION = "0.1"
#: The bases of the built-in plugins, the only ones record v0.1 admits. ``unknown`` is the
#: honest answer when sealed evidence is missing.
BUILTIN_BASES = ("manifest_diff", "unknown")
#: A delta's basis: one of :data:`BUILTIN_BASES`, or (from record v0.2 on) a name a plugin
#: declares through ``govern_delta_bases``.
DeltaBasis = str


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
    """Read the seals of ``runs`` not read yet, all at once (:func:`govern.manifest_workers.read_seals`:
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


_PATH_OF = operator.itemgetter(0)


def artifact_bounds(paths: Sequence[Any], relpath: str, key: Callable[[Any], str] | None = None) -> tuple[int | None, int, int]:
    """Where the entries at or under ``relpath`` lie in a path-sorted sequence: the index of
    ``relpath`` itself (None when not listed), and the block ``[start, stop)`` of paths under
    ``relpath/``. ``key`` gives an item's path (items are paths when None).

    Entries under a folder are one contiguous block, found by bisection instead of a scan.
    """
    index = bisect.bisect_left(paths, relpath, key=key)
    listed = index < len(paths) and (paths[index] if key is None else key(paths[index])) == relpath
    exact = index if listed else None
    # Paths under "a/" sort from "a/" up to (not including) "a0", '0' being the character after '/'.
    start = bisect.bisect_left(paths, relpath + "/", key=key)
    stop = bisect.bisect_left(paths, relpath + "0", lo=start, key=key)
    return exact, start, stop


def artifact_entries(files: Sequence[ManifestEntry], relpath: str | None) -> dict[str, ManifestEntry]:
    """Entries whose path is ``relpath`` or lies under it (every entry when relpath is None).

    ``files`` must be sorted by path, as every manifest that verifies is.
    """
    if relpath is None:
        return dict(zip(map(_PATH_OF, files), files))
    found: dict[str, ManifestEntry] = {}
    exact, start, stop = artifact_bounds(files, relpath, key=_PATH_OF)
    if exact is not None:
        found[relpath] = files[exact]
    block = files[start:stop]
    found.update(zip(map(_PATH_OF, block), block))
    return found


def artifact_columns(manifest: Manifest, relpath: str | None) -> tuple[Sequence[str], Sequence[str]]:
    """The paths and SHA-256s of the entries :func:`artifact_entries` selects, as two
    path-sorted columns (no per-entry objects: what a diff of large manifests reads)."""
    paths, digests = manifest.paths, manifest.digests
    if relpath is None:
        return paths, digests
    exact, start, stop = artifact_bounds(paths, relpath)
    if exact is None:
        return paths[start:stop], digests[start:stop]
    # relpath itself sorts before everything under it (a manifest that verifies never has both).
    return (paths[exact], *paths[start:stop]), (digests[exact], *digests[start:stop])


@attrs.frozen
class SealedRef:
    """A pointer to a snapshot: which run, where, which artifact, which manifest."""

    run_id: str
    run_root: str
    relpath: str | None
    manifest_sha256: str | None

    def to_json(self) -> dict[str, Any]:
        """The ``sealed_ref`` JSON object."""
        return {
            "run_id": self.run_id,
            "run_root": self.run_root,
            "relpath": self.relpath,
            "manifest_sha256": self.manifest_sha256,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SealedRef:
        """Rebuild from a record's ``from_ref``/``to_ref`` object."""
        return cls(data["run_id"], data["run_root"], data["relpath"], data["manifest_sha256"])


def _sorted_tuple(paths: Any) -> tuple[str, ...]:
    return tuple(sorted(paths))


@attrs.frozen
class Delta:
    """What changed between two snapshots, or why it cannot be known."""

    basis: DeltaBasis
    added: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    removed: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    modified: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    unknown_reason: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.basis == "unknown":
            if not self.unknown_reason or self.added or self.removed or self.modified:
                raise ValueError("an unknown delta has a reason and no paths")
        elif self.unknown_reason is not None:
            raise ValueError("only an unknown delta has an unknown_reason")

    def counts(self) -> dict[str, int | None]:
        """Tri-state counts: integers when known, None when the basis is unknown."""
        if self.basis == "unknown":
            return {"added": None, "removed": None, "modified": None}
        return {"added": len(self.added), "removed": len(self.removed), "modified": len(self.modified)}


@attrs.frozen
class DeltaRecord:
    """One line of the delta log."""

    registry_id: str
    from_ref: SealedRef | None
    to_ref: SealedRef
    delta: Delta
    created_utc: str
    derivation_run_id: str
    #: The record version (``[workspace] record_version``).
    delta_version: str = DELTA_VERSION

    @property
    def is_bootstrap(self) -> bool:
        """True for a registry's first record."""
        return self.from_ref is None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (DESIGN §5)."""
        record: dict[str, Any] = {
            "delta_version": self.delta_version,
            "registry_id": self.registry_id,
            "from_ref": None if self.from_ref is None else self.from_ref.to_json(),
            "to_ref": self.to_ref.to_json(),
            "delta_basis": self.delta.basis,
            "added_paths": list(self.delta.added),
            "removed_paths": list(self.delta.removed),
            "modified_paths": list(self.delta.modified),
            "counts": self.delta.counts(),
            "created_utc": self.created_utc,
            "derivation_run_id": self.derivation_run_id,
        }
        if self.delta.unknown_reason is not None:
            record["unknown_reason"] = self.delta.unknown_reason
        return record


@attrs.frozen
class RegistryKind:
    """A registry kind a plugin handles, e.g. ``sealed`` or ``external``.

    ``requires`` names the config keys a registry of this kind must set (checked when the
    configuration is loaded): a registry key such as ``artifact``, or ``options.NAME`` for a
    key of the registry's ``options`` table. ``options`` declares every key that table may
    hold, name → what it means (shown by ``govern registry show`` and in errors); an option a
    registry sets that its kind does not declare is a configuration error, so a typo never
    passes. A required ``options.NAME`` counts as declared. A kind built as
    ``RegistryKind(name, summary)`` declares no options. ``excluded`` says the kind is
    excluded from the delta log by design.
    """

    name: str
    summary: str
    requires: tuple[str, ...] = ()
    excluded: bool = False
    options: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)

    def accepted_options(self) -> tuple[str, ...]:
        """The option names a registry of this kind may set, sorted: the declared ones and
        the required ``options.NAME`` keys."""
        required = (key.removeprefix("options.") for key in self.requires if key.startswith("options."))
        return tuple(sorted({*self.options, *required}))


@attrs.frozen
class Operation:
    """An operation a plugin provides, for the allowed-operations catalog."""

    op_id: str
    title: str
    executables: tuple[str, ...]
    coverage: str
    enforcement: tuple[str, ...]


@attrs.frozen
class CatalogEntry:
    """A registry a plugin contributes to the registry catalog (or its addendum)."""

    registry_id: str
    kind: str
    sealed: bool
    artifact: str | None = None
    description: str | None = None


@attrs.frozen
class ReportSection:
    """A Markdown section a plugin adds to a report; ``order`` sorts sections."""

    title: str
    markdown: str
    order: int = 500
