"""``govern snapshot REGISTRY [--at T] [--op OP-ID]``: write a new sealed snapshot run of a
registry whose source is outside the runs root (kind ``sql_table``: a database table)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.config.workspace import Registry
    from govern.host.manager import PluginHost


@attrs.frozen
class SnapshotResult(CommandResult):
    """``govern snapshot``: the snapshot run written, its ROOT_SHA256, and what its run.json counts."""

    registry_id: str
    run_id: str
    root_sha256: str
    location: str
    counts: dict[str, int]


@text_renderer(SnapshotResult)
def snapshot_text(result: SnapshotResult) -> list[str]:
    """Where the run is, what it holds, and its ROOT_SHA256."""
    held = ", ".join(plural(count, name.rstrip("s")) for name, count in sorted(result.counts.items()))
    return [f"{result.registry_id}: wrote snapshot {result.run_id} to {result.location}" + (f" ({held})" if held else ""), f"ROOT_SHA256 {result.root_sha256}"]


@json_renderer(SnapshotResult)
def snapshot_json(result: SnapshotResult) -> dict[str, Any]:
    """The registry, the run id, its ROOT_SHA256, where it is, and its counts."""
    return {
        "registry_id": result.registry_id,
        "run_id": result.run_id,
        "root_sha256": result.root_sha256,
        "location": result.location,
        "counts": dict(result.counts),
    }


def _snapshot_kind_check(host: PluginHost, registry: Registry) -> None:
    """Refuse a registry whose kind writes no snapshots (E_USAGE naming the kinds that do)."""
    from govern.errors import GovernError

    kinds = host.registry_kinds()
    kind = kinds.get(registry.kind)
    if kind is None or not kind.snapshots:
        writers = ", ".join(sorted(name for name, declared in kinds.items() if declared.snapshots)) or "none installed"
        raise GovernError(
            "E_USAGE",
            f"registry {registry.id} is of kind {registry.kind!r}, whose snapshots govern snapshot does not write "
            f"(kinds it writes: {writers})",
        )


def snapshot(
    ctx: typer.Context,
    registry_id: Annotated[str, typer.Argument(metavar="REGISTRY", help="The registry to snapshot.", show_default=False)],
    at: Annotated[Optional[str], typer.Option("--at", metavar="T", help="Snapshot clock, YYYY-MM-DDTHH:MM:SSZ (names the run).")] = None,
    op: Annotated[
        Optional[str],
        typer.Option("--op", metavar="OP-ID", help="Operation id recorded in the run's run.json (warns when the catalog does not allow it)."),
    ] = None,
) -> None:
    """Read a registry's source once and write it as a new sealed run
    (YYYY-MM-DD__HHMMSS__REGISTRY, from the clock): its snapshot.

    For kind sql_table the table is read in one transaction (rows in key order, canonical
    JSONL parts, table/schema.json); docs/registry-kinds.md. Nothing is written unless the
    whole read succeeded. On an s3:// runs root the run is sealed locally, then published.
    """
    from govern.cli.seal_cmd import _op_catalog_warning
    from govern.log.build import remove_stale_staging
    from govern.log.registry_snapshots import take_snapshot
    from govern.runs.listing import LOCK_NAME
    from govern.runtime.clock import resolve_clock
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    registry = workspace.registry(registry_id)
    _snapshot_kind_check(host, registry)
    clock = resolve_clock(at)
    if op is not None and (warning := _op_catalog_warning(state, workspace.root, op)):
        state.output.warn(warning)
    local = workspace.runs_root_is_local
    lock = exclusive_lock(workspace.runs_root / LOCK_NAME, state.lock_timeout) if local else contextlib.nullcontext()
    with lock:
        if local:
            for name in remove_stale_staging(workspace.runs_root):
                state.output.warn(f"removed {name}: staging folder left by an interrupted write")
        with state.output.progress() as progress:
            taken = take_snapshot(workspace, host, registry, clock, progress, op)
    state.output.show(SnapshotResult(registry.id, taken.run_id, taken.root_sha256, workspace.run_location(taken.run_id), taken.counts))


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("snapshot", short_help="Write a new sealed snapshot run of a registry (sql_table: one read of its table)")(snapshot)
