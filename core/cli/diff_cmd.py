"""``govern diff RUN_A RUN_B``: the paths added, removed and modified between two sealed runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.run_argument import run_folder
from govern.cli.state import CliState
from govern.errors import GovernError

if TYPE_CHECKING:
    from govern.format.manifest import SealCheck
    from govern.runs.run_diff import RunDiff


def _workspace_roots(state: CliState) -> tuple[Path | None, Path | None]:
    """(workspace root, local runs root) for --path, or (None, None) outside any workspace
    (the runs root is None on object storage: no local path can be under it)."""
    try:
        # Only seals are read: a kind whose plugin is not installed is a warning here.
        workspace = state.workspace(needs_kind_plugins=False)
    except GovernError as error:
        if error.code != "E_WORKSPACE_NOT_FOUND":
            raise
        return None, None
    return workspace.root, workspace.runs_root if workspace.runs_root_is_local else None


def _run_json(check: SealCheck, location: str) -> dict:
    return {"run_id": check.run_id, "run_dir": location, "root_sha256": check.root_sha256}


def diff(
    ctx: typer.Context,
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="The earlier run: a run id under the runs root, or a path.", show_default=False)],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The later run: a run id under the runs root, or a path.", show_default=False)],
    path: Annotated[
        Optional[str], typer.Option("--path", metavar="P", help="Only paths at or under P (a file or a folder inside the runs).")
    ] = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also re-hash every payload file of both runs (as 'govern verify' does) before comparing.")
    ] = False,
) -> None:
    """Compare two sealed runs, like 'dvc diff': the paths added, removed (D) and modified.

    Both seals are checked first: each manifest.json must hash to its MANIFEST.sha256 and be
    well formed (with --deep, every payload file must also match its manifest entry). A run
    whose seal fails stops the comparison (exit 1). The comparison is the delta log's
    manifest_diff: by path and SHA-256, from the sealed manifests.
    """
    from govern.cli.path_argument import in_run_path
    from govern.cli.run_argument import run_seal, stored_run_id
    from govern.runs.run_diff import diff_runs

    state: CliState = ctx.obj
    for given in (Path(run_a), Path(run_b)):
        if stored_run_id(state, given) is None:
            run_folder(state, given)  # both named runs must exist before any is read
    query_path = None
    if path is not None:
        workspace_root, runs_root = _workspace_roots(state)
        query_path = in_run_path(path, workspace_root=workspace_root, runs_root=runs_root)
    with state.output.progress() as progress:
        before_at, before = run_seal(state, Path(run_a), deep, progress)
        after_at, after = run_seal(state, Path(run_b), deep, progress)
        result = diff_runs(before, after, query_path)
    state.output.show(DiffResult(result, deep, (before_at, after_at)))


@attrs.frozen
class DiffResult(CommandResult):
    """Two runs compared: their seals, what was checked (``deep``: every payload file too), the changes."""

    diff: RunDiff
    deep: bool
    #: Where the two runs are: their folders, or their URLs on object storage.
    locations: tuple[str, str]

    @property
    def changes(self) -> tuple[tuple[str, ...], ...]:
        """``(letter, path)`` per change, sorted by path (``git diff --name-status``); never a
        rename, which ``govern diff`` lists as its removal and addition."""
        from govern.log.query import name_status

        delta = self.diff.delta
        return name_status({"added_paths": delta.added, "removed_paths": delta.removed, "modified_paths": delta.modified})


@text_renderer(DiffResult)
def diff_text(result: DiffResult) -> list[str]:
    """What was checked, an A/D/M line per change, and the counts."""
    from govern.cli.change_text import count_text

    checked = (
        "both seals and every payload file (manifest.json hashes to MANIFEST.sha256; each file to its manifest entry)"
        if result.deep
        else "both seals (manifest.json hashes to MANIFEST.sha256); payload files not re-hashed (--deep, or 'govern verify RUN')"
    )
    diff = result.diff
    where = f" under {diff.path}" if diff.path is not None else ""
    lines = [f"checked: {checked}"]
    lines.extend(f"{letter}\t{changed}" for letter, changed in result.changes)
    lines.append(f"{diff.before.run_id} → {diff.after.run_id}{where}: {count_text(diff.delta.counts())}")
    return lines


@json_renderer(DiffResult)
def diff_json(result: DiffResult) -> dict[str, Any]:
    """Both runs, what was checked, the path filter, the counts and every change."""
    diff = result.diff
    delta = diff.delta
    return {
        "from": _run_json(diff.before, result.locations[0]),
        "to": _run_json(diff.after, result.locations[1]),
        "checked": "seals_and_files" if result.deep else "seals",
        "path": diff.path,
        "counts": delta.counts(),
        "added": list(delta.added),
        "removed": list(delta.removed),
        "modified": list(delta.modified),
        "changes": [{"status": letter, "path": changed} for letter, changed in result.changes],
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("diff", short_help="Paths added, removed and modified between two sealed runs")(diff)
