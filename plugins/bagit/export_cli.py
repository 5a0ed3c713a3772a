"""``govern export RUN --format bagit DIR``: a sealed run written out as a BagIt bag."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.errors import GovernError
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.cli.state import CliState

#: The formats ``govern export`` writes.
FORMATS = ("bagit",)


@attrs.frozen
class ExportResult(CommandResult):
    """``govern export``: the run exported, its root, the format, where it went, payload files and bytes."""

    run_id: str
    root_sha256: str
    format: str
    written_to: str
    files: int
    bytes: int


@text_renderer(ExportResult)
def export_text(result: ExportResult) -> list[str]:
    """What was exported, and where."""
    return [f"exported {result.run_id} (ROOT_SHA256 {result.root_sha256}) as a {result.format} bag: {plural(result.files, 'file')}, {result.bytes} bytes, to {result.written_to}"]


@json_renderer(ExportResult)
def export_json(result: ExportResult) -> dict[str, Any]:
    """The run, its root, the format, the folder written, the payload's files and bytes."""
    return {
        "run_id": result.run_id,
        "root_sha256": result.root_sha256,
        "format": result.format,
        "written_to": result.written_to,
        "files": result.files,
        "bytes": result.bytes,
    }


def export(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(metavar="RUN", help="The sealed run: its folder, or its run id in the workspace's runs root.", show_default=False)],
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to write it: a folder that does not exist or is empty.", show_default=False)],
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="The format: bagit (a BagIt 1.0 bag).")] = "bagit",
) -> None:
    """Write a sealed run out in an archive format (bagit: a BagIt 1.0 bag).

    The run's seal and every file are verified first: an unsealed or broken run is refused
    (exit 1, its problem named). DIR must not exist or be empty (E_OUTPUT_EXISTS otherwise);
    the bag is written beside it and renamed into place, so DIR is either untouched or the
    whole bag. Same run, same bytes: the Bagging-Date is the run's created_utc date.
    """
    from govern.cli.run_argument import run_folder
    from govern.plugins.bagit.export import write_bag
    from govern.runs.listing import LOCK_NAME
    from govern.store.atomic_folder import check_output_folder
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    if format not in FORMATS:
        raise GovernError("E_USAGE", f"--format {format}: not a format govern exports (formats: {', '.join(FORMATS)})")
    folder = run_folder(state, Path(run))
    check_output_folder(directory, "bag")
    with state.output.progress() as progress:
        # The lock sealing takes: no --reseal swaps the seal between the check and the copy.
        with exclusive_lock(folder.parent / LOCK_NAME, state.lock_timeout):
            seal = state.plugins().verify_seal(folder, True, progress)
            exported = write_bag(seal, folder, directory, progress)
    state.output.show(ExportResult(exported.run_id, exported.root_sha256, format, str(directory), exported.files, exported.bytes))


def register(app: typer.Typer) -> None:
    """Mount ``govern export`` on the root app."""
    app.command("export", short_help="Write a sealed run as a BagIt bag (verified first)")(export)
