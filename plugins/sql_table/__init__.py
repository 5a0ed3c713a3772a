"""Built-in plugin: registry kind ``sql_table`` — a database table (or query) as a registry.

``govern snapshot REGISTRY`` reads the table in one transaction and writes it as a sealed run
(:mod:`.snapshot`); those runs are the registry's snapshots (a run named for the registry,
holding ``table/schema.json``, whose run.json names the registry); two snapshots are compared
row by row by delta basis ``row_diff`` (:mod:`.row_diff`). :mod:`.source` is the seam between
the kind and its database engines (:mod:`.sqlite`, :mod:`.postgres`). docs/registry-kinds.md
describes the kind for users.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace
    from govern.format.models import Delta, RegistryKind
    from govern.runs.views import RunView, Snapshot
    from govern.runtime.progress import Progress

KIND = "sql_table"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``sql_table`` and its keys (it writes its snapshots: ``govern snapshot``)."""
    from govern.format.models import RegistryKind
    from govern.plugins.sql_table.snapshot import ARTIFACT

    return [
        RegistryKind(
            KIND,
            "a database table or query, snapshotted by 'govern snapshot' as sealed runs",
            requires=("dsn",),
            snapshots=True,
            snapshot_artifact=ARTIFACT,
            keys=("dsn", "password_env", "table", "query", "key", "part_bytes"),
        )
    ]


@hookimpl
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """The registry's snapshot runs among ``runs``, in run-id order."""
    if registry.kind != KIND:
        return None
    from govern.plugins.sql_table.discovery import discover_table_snapshots

    return discover_table_snapshots(registry.id, runs)


@hookimpl
def govern_delta_bases() -> list[str]:
    """Declare basis ``row_diff``."""
    return ["row_diff"]


@hookimpl
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """Rows added, removed and modified by key (``unknown`` when they cannot be compared)."""
    if registry.kind != KIND:
        return None
    from govern.plugins.sql_table.row_diff import row_delta

    return row_delta(before, after)


@hookimpl
def govern_snapshot(registry: Registry, workspace: Workspace, clock: dt.datetime, progress: Progress, op_id: str | None) -> Path | None:
    """Read the table in one transaction and write it as a new sealed run."""
    if registry.kind != KIND:
        return None
    from govern.plugins.sql_table.snapshot import take_snapshot

    return take_snapshot(registry, workspace, clock, progress, op_id)
