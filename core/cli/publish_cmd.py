"""``govern publish RUN [--to LOCATION]``: upload a sealed local run to a runs root's store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.format.plurals import plural
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.runs.publishing import PublishedRun
    from govern.runs.run_store import RunStore
    from govern.runtime.progress import Progress

TO_HELP = "Where to publish: a runs root folder (default: the workspace's runs root)."


@attrs.frozen
class PublishResult(CommandResult):
    """``govern publish``: the run published, and what was uploaded or found already there."""

    published: PublishedRun


def published_lines(published: PublishedRun, *, root_line: bool = True) -> list[str]:
    """The lines saying what publishing a run did (also ``govern seal --publish``'s, which
    prints the ROOT_SHA256 line itself: ``root_line=False``)."""
    if published.already_published and not published.uploaded:
        return [f"{published.run_id}: already published to {published.target} (ROOT_SHA256 {published.root_sha256})"]
    lines = [
        f"published {published.run_id} to {published.target}: {plural(published.uploaded, 'object')} uploaded "
        f"({plural(published.uploaded_bytes, 'byte')}), {published.skipped} already there"
    ]
    if published.already_published:  # another publisher of the very same run committed first
        lines.append(f"{published.run_id}: its seal was put by another publisher of the same run")
    return [*lines, f"ROOT_SHA256 {published.root_sha256}"] if root_line else lines


def published_json(published: PublishedRun) -> dict[str, Any]:
    """The JSON form of what publishing a run did (also ``govern seal --publish``'s)."""
    return {
        "run_id": published.run_id,
        "root_sha256": published.root_sha256,
        "to": published.target,
        "objects": published.objects,
        "bytes": published.total_bytes,
        "uploaded": published.uploaded,
        "uploaded_bytes": published.uploaded_bytes,
        "skipped": published.skipped,
        "already_published": published.already_published,
    }


@text_renderer(PublishResult)
def publish_text(result: PublishResult) -> list[str]:
    """What was uploaded and what was already there, and the run's ROOT_SHA256."""
    return published_lines(result.published)


@json_renderer(PublishResult)
def publish_json(result: PublishResult) -> dict[str, Any]:
    """The run, where to, and the counts of objects uploaded and skipped."""
    return published_json(result.published)


def publish_target(state: CliState, to: str | None) -> tuple[RunStore, str]:
    """The run store ``--to`` names, and how to name it to people: a runs root folder
    (relative to the current directory; it must exist) or ``s3://bucket/prefix`` (with the
    workspace's ``[storage]`` options when there is a workspace), or by default the
    workspace's runs root."""
    from govern.errors import GovernError
    from govern.runs.run_store import RunStore
    from govern.store.factory import is_object_store, open_store

    if to is None:
        workspace = state.workspace(needs_kind_plugins=False)
        return workspace_runs(workspace), workspace.runs_location
    if not is_object_store(to):
        folder = Path(to).absolute()
        if not folder.is_dir():
            raise GovernError("E_NOT_A_DIRECTORY", f"--to {to}: not a directory (create the runs root first)")
        return RunStore.local(folder), str(folder)
    try:
        storage = state.workspace(needs_kind_plugins=False).config.storage
    except GovernError as error:
        if error.code != "E_WORKSPACE_NOT_FOUND":
            raise
        storage = None
    return RunStore(open_store(to, relative_to=Path.cwd(), storage=storage)), to


def publish_run_folder(state: CliState, run_dir: Path, to: str | None, progress: Progress) -> PublishedRun:
    """Publish the sealed run folder ``run_dir`` to the store ``to`` names (``publish`` and
    ``seal --publish``)."""
    from govern.runs.publishing import publish_sealed_run

    runs, location = publish_target(state, to)
    return publish_sealed_run(run_dir, runs, location=location, progress=progress)


def publish(
    ctx: typer.Context,
    run: Annotated[Path, typer.Argument(help="The sealed run: a folder, or a run id in the workspace.", show_default=False)],
    to: Annotated[Optional[str], typer.Option("--to", metavar="LOCATION", help=TO_HELP)] = None,
) -> None:
    """Upload a sealed run to a runs root: its payload first, then run.json and manifest.json,
    then MANIFEST.sha256 last, put only if absent — the run is visible as sealed exactly when
    it is complete, and a run id is published once.

    The run is verified first (every file's SHA-256): an unsealed or broken run is refused
    (exit 1) with the seal's codes. Objects already in the store with this run's size and
    SHA-256 (read back) are skipped, so a re-run after an interruption uploads only what is
    missing. A different run already published, or being published, under that id is
    E_RUN_EXISTS (exit 1); the very same run already published is "already published" (exit 0).
    """
    from govern.cli.run_argument import run_folder

    state: CliState = ctx.obj
    run_dir = run_folder(state, run)
    with state.output.progress() as progress:
        published = publish_run_folder(state, run_dir, to, progress)
    state.output.show(PublishResult(published))


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("publish", short_help="Upload a sealed run to a runs root, its seal last")(publish)
