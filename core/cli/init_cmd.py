"""``govern init [DIR]``: scaffold a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState

if TYPE_CHECKING:
    from govern.governance.scaffold import Scaffold


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
    state.output.show(InitResult(directory, directory.resolve(), made))


@attrs.frozen
class InitResult(CommandResult):
    """``govern init``: the workspace created (as given, and what was made in it)."""

    directory: Path
    resolved: Path
    made: Scaffold


@text_renderer(InitResult)
def init_text(result: InitResult) -> list[str]:
    """The workspace, each path created, and what the books were synced with."""
    made = result.made
    lines = [f"initialised workspace {result.directory}"] + [f"  created {path}" for path in made.created]
    if made.operations_synced or made.registries_synced:
        synced = ", ".join((*made.operations_synced, *made.registries_synced))
        lines.append(f"  governance books synced with the installed plugins: {synced}")
    return lines


@json_renderer(InitResult)
def init_json(result: InitResult) -> dict[str, Any]:
    """The workspace's absolute path, the paths created, the operations and registries synced."""
    made = result.made
    return {
        "workspace": str(result.resolved),
        "created": list(made.created),
        "operations_synced": list(made.operations_synced),
        "registries_synced": list(made.registries_synced),
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("init", short_help="Create a workspace: config, governance/, schemas/, runs root")(init)
