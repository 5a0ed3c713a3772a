"""``govern gc --older-than DURATION``: remove uncommitted build runs and half-published runs."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.format.plurals import plural
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.log.gc import Garbage


def gc(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", metavar="DURATION", help="Only runs older than this (e.g. 36h, 7d; units s, m, h, d, w).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")] = False,
    at: Annotated[Optional[str], typer.Option("--at", metavar="T", help="The clock ages are measured at, YYYY-MM-DDTHH:MM:SSZ.")] = None,
) -> None:
    """Remove delta-log build runs never committed (no head object: a lost race or a crash) and,
    on object storage, runs published only in part (no MANIFEST.sha256) and the temporary
    objects of large uploads cut short, older than DURATION.

    Age is the time in the run id against the clock (--at, SOURCE_DATE_EPOCH, or now). A
    committed build is never removed, nor a run the delta log recorded, nor an unsealed folder
    of a local runs root (a run being written). Choose DURATION longer than any build or
    publish takes: a run younger than that may be one a writer is still committing.
    """
    from govern.log.gc import find_garbage, parse_duration, remove_garbage
    from govern.runs.listing import LOCK_NAME
    from govern.runtime.clock import resolve_clock
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    workspace = state.workspace(needs_kind_plugins=False)
    duration = parse_duration(older_than)
    clock = resolve_clock(at)
    runs = workspace_runs(workspace)
    # The lock keeps local builds out while gc looks and removes; lock-free writers (other
    # hosts, object storage, which has no lock file) are kept safe by the age threshold.
    local = workspace.runs_root_is_local
    with exclusive_lock(workspace.runs_root / LOCK_NAME, state.lock_timeout) if local else contextlib.nullcontext():
        garbage = find_garbage(runs, now=clock, older_than=duration)
        if not dry_run:
            remove_garbage(runs, garbage)
    state.output.show(GcResult(older_than, dry_run, tuple(garbage)))


@attrs.frozen
class GcResult(CommandResult):
    """``gc``: the runs removed (or, with --dry-run, that would be)."""

    older_than: str
    dry_run: bool
    garbage: tuple[Garbage, ...]


@text_renderer(GcResult)
def gc_text(result: GcResult) -> list[str]:
    """One line per run removed (or that would be), then how many."""
    verb = "would remove" if result.dry_run else "removed"
    lines = [f"{verb} {item.run_id}: {item.reason}, from {item.created_utc}" for item in result.garbage]
    if not result.garbage:
        return [f"nothing to remove older than {result.older_than}"]
    lines.append(f"{plural(len(result.garbage), 'run')} {verb} (older than {result.older_than})")
    return lines


@json_renderer(GcResult)
def gc_json(result: GcResult) -> dict[str, Any]:
    """``removed`` (each run id, reason and time), ``dry_run`` and ``older_than``."""
    return {
        "dry_run": result.dry_run,
        "older_than": result.older_than,
        "removed": [{"run_id": g.run_id, "reason": g.reason, "created_utc": g.created_utc} for g in result.garbage],
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("gc", short_help="Remove uncommitted build runs and half-published runs")(gc)
