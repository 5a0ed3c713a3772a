"""Taking registry snapshots: the run a kind's plugin writes (``govern_snapshot``), published when the runs root is object storage.

``govern snapshot REGISTRY`` takes one; ``govern delta build --snapshot-collections`` takes one
of every configured collection whose members changed since its latest index (never an
unchanged one: no empty churn). The plugin writes and seals the run locally
(:mod:`govern.runs.new_run`); on an ``s3://`` runs root it is then published through
:mod:`govern.runs.publishing`, as a delta build is, and the local copy removed. Call under the
workspace lock (a local runs root).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from govern.config.workspace import COLLECTION_KIND, Registry, Workspace
from govern.errors import GovernError
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import loads_strict
from govern.host.manager import PluginHost
from govern.runs.new_run import remove_local_copy
from govern.runs.publishing import publish_sealed_run
from govern.runs.run_store import workspace_runs
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.seal_file import read_seal


@attrs.frozen
class TakenSnapshot:
    """A snapshot run written: which registry, its run id and ROOT_SHA256."""

    registry_id: str
    run_id: str
    root_sha256: str
    #: The integer members of the run's run.json ``outputs`` (rows, parts, members…).
    counts: dict[str, int] = attrs.Factory(dict)


def take_snapshot(
    workspace: Workspace, host: PluginHost, registry: Registry, clock: dt.datetime, progress: Progress = NO_PROGRESS, op_id: str | None = None
) -> TakenSnapshot:
    """Have the registry's kind plugin write one sealed snapshot run, and publish it when the
    runs root is object storage. E_USAGE when its kind takes no snapshots."""
    kind = host.registry_kinds().get(registry.kind)
    folder = host.snapshot(registry, workspace, clock, progress, op_id) if kind is not None and kind.snapshots else None
    if folder is None:
        raise GovernError(
            "E_USAGE",
            f"registry {registry.id} is of kind {registry.kind!r}, which takes no snapshots "
            "(its snapshots are runs your pipeline seals; 'govern snapshot' is for sql_table and collection registries)",
        )
    counts = _output_counts(folder)
    if workspace.runs_root_is_local:
        seal = read_seal(folder)
        assert seal.root_sha256 is not None  # the plugin has just sealed it
        return TakenSnapshot(registry.id, folder.name, seal.root_sha256, counts)
    try:
        published = publish_sealed_run(folder, workspace_runs(workspace), location=workspace.run_location(folder.name), progress=progress)
    finally:
        remove_local_copy(folder)
    return TakenSnapshot(registry.id, published.run_id, published.root_sha256, counts)


def _output_counts(run_dir: Path) -> dict[str, int]:
    """The integer members of the run's ``outputs`` (rows, parts, members…)."""
    outputs = loads_strict((run_dir / ENVELOPE_NAME).read_bytes()).get("outputs", {})
    return {name: value for name, value in outputs.items() if isinstance(value, int) and not isinstance(value, bool)}


def snapshot_collections(workspace: Workspace, host: PluginHost, clock: dt.datetime, progress: Progress = NO_PROGRESS) -> list[TakenSnapshot]:
    """A new collection index run of every configured (not excluded) collection whose members
    changed since its latest index, in registry-id order."""
    taken = []
    for registry in workspace.registries():
        if registry.kind != COLLECTION_KIND or host.exclusion(registry, workspace) is not None:
            continue
        if host.snapshot_due(registry, workspace):
            taken.append(take_snapshot(workspace, host, registry, clock, progress))
    return taken
