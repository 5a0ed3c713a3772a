"""``govern repair --log``: cut a torn tail off the latest delta-log build, with a backup."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import GovernError
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.log.repair import TornTail

#: Why ``repair --log`` refuses a runs root on object storage (docs/object-storage.md).
REFUSED_ON_OBJECT_STORAGE = (
    "repair --log cuts the torn tail a crashed local append leaves, and on object storage every object is put whole, "
    "so no crash leaves one; a build's log that differs from its seal there was overwritten out of band: "
    "'govern verify --log' names it, restore the object from a copy"
)


def repair(
    ctx: typer.Context,
    log: Annotated[bool, typer.Option("--log", help="Repair a torn tail of the latest delta-log build's log.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be cut; write nothing.")] = False,
    backup_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--backup-dir",
            metavar="DIR",
            help="Where backups go (default <workspace>/.govern/repairs; never inside the runs root).",
        ),
    ] = None,
) -> None:
    """Cut a torn last line (no final newline) off the latest delta-log build's log.

    Explicit, and only ever this: the tail after the last newline is cut when what is left is
    exactly the log the build's seal attests, so the build verifies again unchanged (no
    re-seal). The torn file and a REPAIR.json saying what was cut are backed up first, outside
    the runs root. Anything else — lines appended or changed, other damage in the build, a
    torn tail the seal itself covers — is refused (exit 1, E_REPAIR_REFUSED, nothing written).
    An intact log: "nothing to repair", exit 0. See docs/reliability.md.
    """
    from govern.log.repair import apply_log_repair, backup_directory, plan_log_repair
    from govern.runs.listing import LOCK_NAME
    from govern.runtime.clock import resolve_clock
    from govern.store.locking import exclusive_lock

    if not log:
        raise GovernError("E_USAGE", "nothing to repair: say what, e.g. 'govern repair --log'")
    state: CliState = ctx.obj
    # Cutting a torn tail checks seals only: no registry kind's code runs.
    workspace = state.workspace(needs_kind_plugins=False)
    host = state.plugins()
    clock = resolve_clock(None)
    runs_root = workspace.local_runs_root(REFUSED_ON_OBJECT_STORAGE)
    with exclusive_lock(runs_root / LOCK_NAME, state.lock_timeout):
        plan = plan_log_repair(workspace, host)
        torn = plan.torn
        if torn is None:
            state.output.show(RepairResult(plan.reason, dry_run))
            return
        backup = backup_directory(workspace, torn, backup_dir)
        if dry_run:
            state.output.show(RepairResult(plan.reason, True, torn, backup))
            return
        record = apply_log_repair(workspace, host, torn, backup, clock)
    state.output.show(RepairResult(plan.reason, False, torn, backup, record))


@attrs.frozen
class RepairResult(CommandResult):
    """``repair --log``: nothing to repair (``torn`` None), what would be cut, or what was (``record``)."""

    reason: str
    dry_run: bool
    torn: TornTail | None = None
    backup_dir: Path | None = None
    #: The REPAIR.json record of a repair made.
    record: dict[str, Any] | None = None


@text_renderer(RepairResult)
def repair_text(result: RepairResult) -> list[str]:
    """Nothing to repair; what would be cut and where the backup would go; or what was cut."""
    torn = result.torn
    if torn is None:
        return [f"nothing to repair: {result.reason}"]
    if result.record is None:
        return [f"would cut {result.reason}", f"  torn text: {torn.to_json()['removed']['text']!r}", f"  backup would go to {result.backup_dir}"]
    return [
        f"repaired {torn.run_id}/{torn.artifact}: cut {plural(len(torn.tail), 'byte')} (torn line {torn.line}); "
        "the log matches its seal again",
        f"backup of the torn file and REPAIR.json: {result.backup_dir}",
    ]


@json_renderer(RepairResult)
def repair_json(result: RepairResult) -> dict[str, Any]:
    """Whether it was repaired, why, the torn tail (or the repair record), and the backup folder."""
    if result.torn is None:
        return {"repaired": False, "dry_run": result.dry_run, "reason": result.reason, "repair": None}
    repaired = result.record is not None
    return {
        "repaired": repaired,
        "dry_run": not repaired,
        "reason": result.reason,
        "repair": result.record if repaired else result.torn.to_json(),
        "backup_dir": str(result.backup_dir),
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("repair", short_help="Cut a torn last line off the latest delta log")(repair)
