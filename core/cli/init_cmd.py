"""``govern init [DIR]``: scaffold a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govern.cli.state import CliState


def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
) -> None:
    """Create registry_config.toml (commented), governance/, schemas/ and the runs root.

    The governance books start in sync with the installed plugins (as 'govern governance
    sync' would leave them). Refuses to touch a directory that already holds a registry_config.toml.
    """
    from govern.governance.scaffold import scaffold_workspace

    state: CliState = ctx.obj
    made = scaffold_workspace(directory, state.plugins())
    lines = [f"initialised workspace {directory}"] + [f"  created {path}" for path in made.created]
    if made.operations_synced or made.registries_synced:
        synced = ", ".join((*made.operations_synced, *made.registries_synced))
        lines.append(f"  governance books synced with the installed plugins: {synced}")
    state.output.emit(
        {
            "workspace": str(directory.resolve()),
            "created": list(made.created),
            "operations_synced": list(made.operations_synced),
            "registries_synced": list(made.registries_synced),
        },
        lines,
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("init", short_help="Create a workspace: config, governance/, schemas/, runs root")(init)
