"""Built-in plugin: registry kind ``sealed`` — snapshots are sealed runs holding the artifact.

A run is a snapshot of a sealed registry when its manifest lists the artifact (a file) or any
file under it (a folder). A run whose seal is broken, or that has no seal, cannot be trusted
to say what it holds, so the artifact's presence on disk decides, and the snapshot is marked
``broken`` or ``unsealed`` for the host to stop on or record as ``unknown``.

The optional active-pointers file (``[workspace] active_pointers``: registry id → run id of
the active snapshot) caps discovery: snapshots after the active one are pending, not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from govern import hookimpl
from govern.config import Registry, Workspace
from govern.models import RegistryKind, RunView, Snapshot, artifact_entries

KIND = "sealed"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``sealed``."""
    return [RegistryKind(KIND, "snapshots are sealed runs holding the artifact (file or folder)", requires=("artifact",))]


def _holds_artifact_on_disk(run: RunView, artifact: str) -> bool:
    return (run.path / artifact).exists()


def classify_run(run: RunView, registry_id: str, artifact: str) -> Snapshot | None:
    """The snapshot ``run`` is of the registry, or None if it does not hold the artifact."""
    seal = run.seal
    if seal.ok and seal.manifest is not None:
        if artifact_entries(seal.manifest.files, artifact):
            return Snapshot(registry_id, run, artifact, "sealed")
        return None
    if not _holds_artifact_on_disk(run, artifact):
        return None
    if not seal.sealed:
        return Snapshot(registry_id, run, artifact, "unsealed", "the run has no seal (MANIFEST.sha256)")
    first = seal.problems[0]
    more = f" (+{len(seal.problems) - 1} more)" if len(seal.problems) > 1 else ""
    return Snapshot(registry_id, run, artifact, "broken", f"seal does not verify: {first}{more}")


@hookimpl
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """Every run among ``runs`` holding the artifact, in run-id order."""
    if registry.kind != KIND:
        return None
    artifact = registry.config.artifact
    assert artifact is not None  # the kind requires it; checked when the config is loaded
    found = (classify_run(run, registry.id, artifact) for run in runs)
    return [snapshot for snapshot in found if snapshot is not None]
