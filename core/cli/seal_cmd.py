"""``govern seal RUN_DIR``: write run.json if missing, manifest.json and MANIFEST.sha256."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from govern.cli.state import CliState
from govern.plurals import plural


def seal(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(help="The run folder to seal.", show_default=False)],
    op: Annotated[Optional[str], typer.Option("--op", metavar="OP-ID", help="Operation id recorded in a new run.json.")] = None,
    reseal: Annotated[
        bool,
        typer.Option(
            "--reseal",
            help="Replace an existing seal (refused for delta-log builds and for snapshots the delta log records).",
        ),
    ] = False,
    at: Annotated[
        Optional[str], typer.Option("--at", metavar="T", help="Clock, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")
    ] = None,
) -> None:
    """Seal a run folder so that any later change to it is detectable.

    Refuses (exit 2, nothing written) symlinks, FIFOs, sockets, devices, names with a
    backslash, NUL, CR or LF, names that collide after NFC or case-folding, files that change
    while being hashed, and runs that are already sealed (unless --reseal).

    --reseal is refused (exit 1, E_RESEAL_REFUSED) for a delta-log build and for a run the
    delta log records as a snapshot (naming the build that recorded it): re-sealing either
    rewrites history. The new seal is staged beside the run and swapped in, so the run is
    never without a valid seal.
    """
    from govern.clock import resolve_clock
    from govern.envelope import make_envelope
    from govern.errors import GovernError
    from govern.locking import exclusive_lock
    from govern.paths import is_run_id
    from govern.runs import LOCK_NAME

    state: CliState = ctx.obj
    clock = resolve_clock(at)
    # abspath, not .absolute(): ".." must become the folder's real name (it is the run id).
    run_dir = Path(os.path.abspath(run_dir))
    # Checked before locking, so a refusal writes nothing (not even the lock or its folders).
    if not run_dir.is_dir() or run_dir.is_symlink():
        raise GovernError("E_NOT_A_DIRECTORY", f"{run_dir}: not a directory")
    if not is_run_id(run_dir.name):
        # The folder's name is the run id recorded in run.json and the manifest (DESIGN §4).
        raise GovernError(
            "E_NOT_A_RUN", f"{run_dir}: not a run folder name; a run is named YYYY-MM-DD__HHMMSS__slug (slug: a-z, 0-9, _)"
        )
    with exclusive_lock(run_dir.parent / LOCK_NAME, state.lock_timeout):
        if reseal:
            from govern.recorded_snapshots import refuse_reseal_of_history

            refuse_reseal_of_history(run_dir, state.plugins())
        with state.output.progress() as progress:
            envelope = make_envelope(run_dir.name, op_id=op, clock=clock)
            result = state.plugins().seal(run_dir, envelope, reseal, progress)
    state.output.emit(
        {
            "run_id": result.run_id,
            "run_dir": str(run_dir),
            "root_sha256": result.root_sha256,
            "files": result.files,
            "bytes": result.total_bytes,
            "wrote_run_json": result.wrote_envelope,
        },
        [
            f"sealed {result.run_id}: {plural(result.files, 'file')}, {plural(result.total_bytes, 'byte')}",
            f"ROOT_SHA256 {result.root_sha256}",
        ],
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("seal", short_help="Seal a run folder: any later change becomes detectable")(seal)
