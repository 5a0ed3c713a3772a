"""``govern diff RUN_A RUN_B``: the paths added, removed and modified between two sealed runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from govern.cli.run_argument import run_folder
from govern.cli.state import CliState
from govern.errors import GovernError

if TYPE_CHECKING:
    from govern.format.manifest import SealCheck


def _workspace_roots(state: CliState) -> tuple[Path | None, Path | None]:
    """(workspace root, runs root) for --path, or (None, None) outside any workspace."""
    try:
        # Only seals are read: a kind whose plugin is not installed is a warning here.
        workspace = state.workspace(needs_kind_plugins=False)
    except GovernError as error:
        if error.code != "E_WORKSPACE_NOT_FOUND":
            raise
        return None, None
    return workspace.root, workspace.runs_root


def _run_json(check: SealCheck) -> dict:
    return {"run_id": check.run_dir.name, "run_dir": str(check.run_dir), "root_sha256": check.root_sha256}


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
    from govern.log.query import count_text, name_status
    from govern.runs.run_diff import diff_runs

    state: CliState = ctx.obj
    before_dir, after_dir = run_folder(state, Path(run_a)), run_folder(state, Path(run_b))
    query_path = None
    if path is not None:
        workspace_root, runs_root = _workspace_roots(state)
        query_path = in_run_path(path, workspace_root=workspace_root, runs_root=runs_root)
    host = state.plugins()
    with state.output.progress() as progress:
        result = diff_runs(host.verify_seal(before_dir, deep, progress), host.verify_seal(after_dir, deep, progress), query_path)
    delta = result.delta
    counts = delta.counts()
    checked = (
        "both seals and every payload file (manifest.json hashes to MANIFEST.sha256; each file to its manifest entry)"
        if deep
        else "both seals (manifest.json hashes to MANIFEST.sha256); payload files not re-hashed (--deep, or 'govern verify RUN')"
    )
    changes = name_status({"added_paths": delta.added, "removed_paths": delta.removed, "modified_paths": delta.modified})
    where = f" under {query_path}" if query_path is not None else ""
    lines = [f"checked: {checked}"]
    lines.extend(f"{letter}\t{changed}" for letter, changed in changes)
    lines.append(f"{before_dir.name} → {after_dir.name}{where}: {count_text(counts)}")
    state.output.emit(
        {
            "from": _run_json(result.before),
            "to": _run_json(result.after),
            "checked": "seals_and_files" if deep else "seals",
            "path": query_path,
            "counts": counts,
            "added": list(delta.added),
            "removed": list(delta.removed),
            "modified": list(delta.modified),
            "changes": [{"status": letter, "path": changed} for letter, changed in changes],
        },
        lines,
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("diff", short_help="Paths added, removed and modified between two sealed runs")(diff)
