"""Built-in plugin: registry kind ``collection`` — a family of individually sealed runs (docs/registry-kinds.md (collection)).

A collection configures its members with ``pattern`` (a glob over run ids) and/or ``op_id``
(the op its member runs name), narrowed by an optional ``marker`` file. Its snapshot at an
instant is the set of member runs sealed then, written by ``govern snapshot`` as a small sealed
**collection index run** ``YYYY-MM-DD__HHMMSS__<registry id>`` holding ``collection/index.jsonl``
(:mod:`govern.format.collection_index`). Its snapshots are those index runs, in order; the
delta between two is basis ``member_diff``: members added and removed, as ``members/<run id>``.
A member re-sealed between two indexes is rewritten history (E_HISTORY_CONFLICT; ``unknown``
with ``--allow-unknown``).

A collection that selects no members stays excluded by design, as in the seed: the configured
``reason``, else the default one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    import datetime as dt

    from govern.config.workspace import Registry, Workspace
    from govern.format.collection_index import Member
    from govern.format.models import Delta, RegistryKind
    from govern.runs.views import RunView, Snapshot
    from govern.runtime.progress import Progress

KIND = "collection"
BASIS = "member_diff"
DEFAULT_REASON = "Collection registry — no single sealed snapshot"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``collection`` and its keys (it takes its own snapshots: collection index runs)."""
    from govern.format.collection_index import INDEX_FOLDER
    from govern.format.models import RegistryKind

    return [
        RegistryKind(
            KIND,
            "a family of sealed runs (pattern / op_id / marker); snapshots are collection index runs "
            "written by 'govern snapshot'; excluded by design while it selects no members",
            snapshots=True,
            snapshot_artifact=INDEX_FOLDER,
            keys=("pattern", "op_id", "marker"),
        )
    ]


@hookimpl
def govern_exclusion(registry: Registry, workspace: Workspace) -> str | None:
    """Excluded, with the configured or default reason, while the collection selects no members."""
    if registry.kind != KIND or registry.config.selects_members:
        return None
    return registry.config.reason or DEFAULT_REASON


@hookimpl
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """The registry's collection index runs among ``runs``, in run-id order."""
    if registry.kind != KIND:
        return None
    from govern.format.collection_index import INDEX_FOLDER
    from govern.format.run_selection import run_slug
    from govern.runs.snapshots import discover_artifact_snapshots

    own = [run for run in runs if run_slug(run.run_id) == registry.id]
    return discover_artifact_snapshots(registry.id, INDEX_FOLDER, own)


@hookimpl
def govern_delta_bases() -> list[str]:
    """Declare basis ``member_diff``."""
    return [BASIS]


@hookimpl
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """Members added and removed between two sealed indexes; a re-sealed member is
    E_HISTORY_CONFLICT. Abstains (the ``unknown`` basis answers) when an index cannot be read
    as sealed evidence."""
    if registry.kind != KIND:
        return None
    from govern.errors import GovernError
    from govern.format.collection_index import compare_indexes, member_path
    from govern.format.models import Delta

    after_members = _sealed_index(after)
    before_members = {} if before is None else _sealed_index(before)
    if after_members is None or before_members is None:
        return None
    changes = compare_indexes(before_members, after_members)
    if changes.resealed:
        old, new = changes.resealed[0]
        more = f" (+{len(changes.resealed) - 1} more)" if len(changes.resealed) > 1 else ""
        assert before is not None  # a bootstrap has nothing to re-seal
        raise GovernError(
            "E_HISTORY_CONFLICT",
            f"{registry.id}: member run {old.run_id} was re-sealed between collection indexes {before.run_id} "
            f"(manifest {old.manifest_sha256}) and {after.run_id} (manifest {new.manifest_sha256}){more}",
        )
    return Delta(BASIS, added=[member_path(r) for r in changes.added], removed=[member_path(r) for r in changes.removed])


def _sealed_index(snapshot: Snapshot) -> dict[str, Member] | None:
    """The members an index snapshot holds, or None when its index is not sealed evidence."""
    from govern.format.collection_index import INDEX_PATH, parse_index
    from govern.format.jsonio import StrictJSONError
    from govern.runs.snapshots import sealed_file_bytes

    data = sealed_file_bytes(snapshot, INDEX_PATH)
    if data is None:
        return None
    try:
        return parse_index(data)
    except StrictJSONError:
        return None


@hookimpl
def govern_snapshot(registry: Registry, workspace: Workspace, clock: dt.datetime, progress: Progress, op_id: str | None) -> Path | None:
    """Write a collection index run of the members sealed now; return its folder."""
    if registry.kind != KIND:
        return None
    from govern.plugins.collection_members import write_index_run

    return write_index_run(registry, workspace, clock, progress, op_id)


@hookimpl
def govern_snapshot_due(registry: Registry, workspace: Workspace) -> bool | None:
    """True when the members sealed now differ from those of the latest index (or there is
    none yet and members exist)."""
    if registry.kind != KIND:
        return None
    from govern.plugins.collection_members import index_is_stale

    return index_is_stale(registry, workspace)
