"""``govern repair --log``: cut a torn tail off the latest delta-log build, with a backup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from govern.cli.state import CliState
from govern.errors import GovernError
from govern.format.plurals import plural


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
    with exclusive_lock(workspace.runs_root / LOCK_NAME, state.lock_timeout):
        plan = plan_log_repair(workspace, host)
        torn = plan.torn
        if torn is None:
            state.output.emit({"repaired": False, "dry_run": dry_run, "reason": plan.reason, "repair": None}, [f"nothing to repair: {plan.reason}"])
            return
        backup = backup_directory(workspace, torn, backup_dir)
        if dry_run:
            state.output.emit(
                {"repaired": False, "dry_run": True, "reason": plan.reason, "repair": torn.to_json(), "backup_dir": str(backup)},
                [f"would cut {plan.reason}", f"  torn text: {torn.to_json()['removed']['text']!r}", f"  backup would go to {backup}"],
            )
            return
        record = apply_log_repair(workspace, host, torn, backup, clock)
    state.output.emit(
        {"repaired": True, "dry_run": False, "reason": plan.reason, "repair": record, "backup_dir": str(backup)},
        [
            f"repaired {torn.run_id}/{torn.artifact}: cut {plural(len(torn.tail), 'byte')} (torn line {torn.line}); "
            "the log matches its seal again",
            f"backup of the torn file and REPAIR.json: {backup}",
        ],
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("repair", short_help="Cut a torn last line off the latest delta log")(repair)
