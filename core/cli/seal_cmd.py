"""``govern seal RUN_DIR``: write run.json if missing, manifest.json and MANIFEST.sha256."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.publish_cmd import TO_HELP, published_json, published_lines
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.runs.publishing import PublishedRun
    from govern.seal.sealing import SealResult


@attrs.frozen
class SealedRunResult(CommandResult):
    """``govern seal``: the run folder sealed, and what sealing produced."""

    run_dir: Path
    seal: SealResult
    #: With --publish: what publishing the sealed run did.
    published: PublishedRun | None = None


@text_renderer(SealedRunResult)
def sealed_run_text(result: SealedRunResult) -> list[str]:
    """The run, its files and bytes, and its ROOT_SHA256."""
    seal = result.seal
    return [
        f"sealed {seal.run_id}: {plural(seal.files, 'file')}, {plural(seal.total_bytes, 'byte')}",
        f"ROOT_SHA256 {seal.root_sha256}",
        *([] if result.published is None else published_lines(result.published, root_line=False)),
    ]


@json_renderer(SealedRunResult)
def sealed_run_json(result: SealedRunResult) -> dict[str, Any]:
    """The run, its root, its files and bytes, and whether govern wrote its run.json."""
    seal = result.seal
    return {
        "run_id": seal.run_id,
        "run_dir": str(result.run_dir),
        "root_sha256": seal.root_sha256,
        "files": seal.files,
        "bytes": seal.total_bytes,
        "wrote_run_json": seal.wrote_envelope,
        **({} if result.published is None else {"published": published_json(result.published)}),
    }


def _op_catalog_warning(state: CliState, run_dir: Path, op_id: str) -> str | None:
    """The warning for an --op the workspace's allowed-operations catalog lacks (None when it
    has it, or when the run is in no workspace: then there is no catalog to check against)."""
    from govern.config.workspace import load_workspace
    from govern.errors import GovernError
    from govern.governance.documents import CATALOG_FILE, OperationsCatalog
    from govern.governance.run_operations import op_catalog_note
    from govern.governance.store import read_document

    try:
        workspace = load_workspace(start=run_dir, explicit=state.workspace_dir)
        path = workspace.governance_dir / CATALOG_FILE
        catalog = read_document(path, OperationsCatalog)
    except GovernError as error:
        if error.code == "E_WORKSPACE_NOT_FOUND":
            return None
        return f"--op {op_id} not checked against the allowed-operations catalog: {error.message}"
    return op_catalog_note(catalog, op_id, path.relative_to(workspace.root) if path.is_relative_to(workspace.root) else path)


def _op_not_recorded_warning(envelope_path: Path, op_id: str) -> str | None:
    """--op is recorded only in a run.json govern writes. When the run's existing run.json
    names another operation (or none), the seal keeps that run.json byte for byte, so --op
    is dropped: say so rather than drop it silently. None when nothing is dropped."""
    from govern.format.jsonio import StrictJSONError, loads_strict

    if not (envelope_path.exists() or envelope_path.is_symlink()):
        return None
    try:
        recorded = loads_strict(envelope_path.read_bytes()).get("op_id")
    except (OSError, StrictJSONError, AttributeError):
        return None  # the seal itself reports an unreadable run.json, with its own code
    if recorded == op_id:
        return None
    return (
        f"--op {op_id} not recorded: {envelope_path} exists and names op_id {recorded!r}, and a run's run.json is "
        "kept as it is (set op_id in it before sealing)"
    )


def seal(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(help="The run folder to seal.", show_default=False)],
    op: Annotated[
        Optional[str],
        typer.Option("--op", metavar="OP-ID", help="Operation id recorded in a new run.json (warns when the catalog does not allow it)."),
    ] = None,
    input_: Annotated[
        Optional[list[str]],
        typer.Option("--input", metavar="KEY=VALUE", help="An entry of run.json's inputs (repeatable; only when govern writes run.json)."),
    ] = None,
    param: Annotated[
        Optional[list[str]],
        typer.Option("--param", metavar="KEY=VALUE", help="An entry of run.json's params (repeatable; only when govern writes run.json)."),
    ] = None,
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
    publish: Annotated[bool, typer.Option("--publish", help="Then publish the sealed run (as 'govern publish').")] = False,
    to: Annotated[Optional[str], typer.Option("--to", metavar="LOCATION", help="With --publish: " + TO_HELP)] = None,
) -> None:
    """Seal a run folder so that any later change to it is detectable.

    Refuses (exit 2, nothing written) symlinks, FIFOs, sockets, devices, names with a
    backslash, NUL, CR or LF, names that collide after NFC or case-folding, files that change
    while being hashed, and runs that are already sealed (unless --reseal).

    --input/--param KEY=VALUE fill the inputs/params of the run.json govern writes; they are
    refused (exit 2) when the run already has a run.json, which is never rewritten.

    --reseal is refused (exit 1, E_RESEAL_REFUSED) for a delta-log build and for a run the
    delta log records as a snapshot (naming the build that recorded it): re-sealing either
    rewrites history. The new seal is staged beside the run and swapped in, so the run is
    never without a valid seal.

    --publish then publishes the sealed run as 'govern publish RUN_DIR [--to LOCATION]' does;
    if publishing fails the run stays sealed locally, and 'govern publish' resumes it.
    """
    from govern.cli.key_values import parse_key_values
    from govern.errors import GovernError
    from govern.format.envelope import ENVELOPE_NAME, make_envelope
    from govern.format.paths import is_run_id
    from govern.runs.listing import LOCK_NAME
    from govern.runtime.clock import resolve_clock
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    if to is not None and not publish:
        raise GovernError("E_USAGE", f"--to {to}: only with --publish")
    clock = resolve_clock(at)
    inputs = parse_key_values("--input", input_ or [])
    params = parse_key_values("--param", param or [])
    # abspath, not .absolute(): ".." must become the folder's real name (it is the run id).
    run_dir = Path(os.path.abspath(run_dir))
    # Checked before locking, so a refusal writes nothing (not even the lock or its folders).
    if not run_dir.is_dir() or run_dir.is_symlink():
        raise GovernError("E_NOT_A_DIRECTORY", f"{run_dir}: not a directory")
    if not is_run_id(run_dir.name):
        # The folder's name is the run id recorded in run.json and the manifest (docs/formats.md, "1. The run folder").
        raise GovernError(
            "E_NOT_A_RUN", f"{run_dir}: not a run folder name; a run is named YYYY-MM-DD__HHMMSS__slug (slug: a-z, 0-9, _)"
        )
    envelope_path = run_dir / ENVELOPE_NAME
    if (inputs or params) and (envelope_path.exists() or envelope_path.is_symlink()):
        given = ", ".join(option for option, values in (("--input", inputs), ("--param", params)) if values)
        raise GovernError(
            "E_USAGE",
            f"{envelope_path}: exists, and a run's run.json is never rewritten; {given} only fill the run.json govern writes "
            "(put them in the existing run.json before sealing); nothing was sealed",
        )
    dropped_op = None if op is None else _op_not_recorded_warning(envelope_path, op)
    with exclusive_lock(run_dir.parent / LOCK_NAME, state.lock_timeout):
        if reseal:
            from govern.log.recorded_snapshots import refuse_reseal_of_history

            refuse_reseal_of_history(run_dir)
        with state.output.progress() as progress:
            envelope = make_envelope(run_dir.name, op_id=op, clock=clock, inputs=inputs, params=params)
            result = state.plugins().seal(run_dir, envelope, reseal, progress)
    if dropped_op is not None:
        state.output.warn(dropped_op)
    elif op is not None:
        warning = _op_catalog_warning(state, run_dir, op)
        if warning is not None:
            state.output.warn(warning)
    published = None
    if publish:
        from govern.cli.publish_cmd import publish_run_folder

        with state.output.progress() as progress:
            published = publish_run_folder(state, run_dir, to, progress)
    state.output.show(SealedRunResult(run_dir, result, published))


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("seal", short_help="Seal a run folder: any later change becomes detectable")(seal)
