"""Built-in plugin: registry kind ``sealed`` — snapshots are sealed runs holding the artifact.

A run is a snapshot of a sealed registry when its manifest lists the artifact (a file) or any
file under it (a folder); runs whose seal is broken or missing are marked ``broken`` or
``unsealed`` (:func:`govern.runs.snapshots.classify_run`) for the host to stop on or record as
``unknown``. The optional active-pointers file (``[workspace] active_pointers``) caps what a
build records; that is the host's business, not this plugin's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace
    from govern.format.models import RegistryKind
    from govern.runs.views import RunView, Snapshot

KIND = "sealed"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``sealed``."""
    from govern.format.models import RegistryKind

    return [RegistryKind(KIND, "snapshots are sealed runs holding the artifact (file or folder)", requires=("artifact",))]


@hookimpl
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """Every run among ``runs`` holding the artifact, in run-id order."""
    if registry.kind != KIND:
        return None
    artifact = registry.config.artifact
    assert artifact is not None  # the kind requires it; checked when the config is loaded
    from govern.runs.snapshots import discover_artifact_snapshots

    return discover_artifact_snapshots(registry.id, artifact, runs)
