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

    Refuses to touch a directory that already holds a registry_config.toml.
    """
    from govern.scaffold import init_workspace

    state: CliState = ctx.obj
    created = init_workspace(directory)
    state.output.emit(
        {"workspace": str(directory.resolve()), "created": created},
        [f"initialised workspace {directory}"] + [f"  created {path}" for path in created],
    )


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("init", short_help="Create a workspace: config, governance/, schemas/, runs root")(init)
