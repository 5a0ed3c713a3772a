"""The root typer app: global options, and the command modules mounted on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from govern.cli.output import Output
from govern.cli.state import CliState

HELP = """Seal run folders, keep a sealed append-only delta log of every registry, and derive the
governance books from that evidence.

Exit codes: 0 success; 1 a check found problems; 2 usage, configuration or input error;
3 the workspace is locked by another govern process; 130 interrupted (Ctrl-C, SIGTERM).
"""


def _root(
    ctx: typer.Context,
    workspace: Annotated[
        Optional[Path], typer.Option("-C", "--workspace", help="Workspace directory (default: walk up from here).")
    ] = None,
    json_mode: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout, for machines.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only problems.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show tracebacks for errors.")] = False,
    lock_timeout: Annotated[
        float, typer.Option("--lock-timeout", metavar="SECONDS", help="How long to wait for the workspace lock.")
    ] = 10.0,
    strict_plugins: Annotated[
        bool, typer.Option("--strict-plugins", help="A plugin that fails to load is fatal (exit 2).")
    ] = False,
    version: Annotated[bool, typer.Option("--version", "-V", help="Show the version and exit.")] = False,
) -> None:
    state: CliState = ctx.obj
    state.workspace_dir = workspace
    state.lock_timeout = lock_timeout


class _CommandContext(typer.Context):
    """The context of every command below the root: it names the command in the output as
    soon as the command is chosen — its full path (``registry show``, ``governance add-op``),
    which ``--json`` reports as ``command`` — before its arguments are parsed, so a usage
    error in them is reported under the right name too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.parent is not None and isinstance(self.obj, CliState):
            names = []
            # Any: the parents are typer's vendored click contexts, a type typer does not export.
            context: Any = self
            while context is not None and context.parent is not None:
                names.append(context.info_name or "")
                context = context.parent
            self.obj.output.command = " ".join(reversed(names))


def _name_commands(command: Any) -> None:
    """Make ``command`` and every command below it (plugins' included) use :class:`_CommandContext`."""
    for sub in getattr(command, "commands", {}).values():
        sub.context_class = _CommandContext
        _name_commands(sub)


#: The built-in command modules (under ``govern.cli``), in the order they are registered, by
#: the one command or group each registers (a test keeps the two in step).
COMMAND_MODULES = {
    "init": "init_cmd",
    "seal": "seal_cmd",
    "publish": "publish_cmd",
    "verify": "verify_cmd",
    "attest": "attest_cmd",
    "registry": "registry_cmd",
    "snapshot": "snapshot_cmd",
    "delta": "delta_cmd",
    "check": "check_cmd",
    "log": "log_cmd",
    "diff": "diff_cmd",
    "validate": "validate_cmd",
    "repair": "repair_cmd",
    "gc": "gc_cmd",
    "plugins": "plugins_cmd",
}


def build_app(
    output: Output,
    workspace_dir: Path | None = None,
    strict_plugins: bool = False,
    *,
    plugins: Sequence[tuple[str, object]] = (),
    environ: Mapping[str, str] | None = None,
    only: str | None = None,
):
    """Build the click command for one invocation, with ``output`` as its sink.

    Plugins are loaded here because they may add commands (``govern_register_commands``);
    ``plugins`` and ``environ`` are :func:`govern.cli.main`'s. ``only``: the built-in command
    the invocation names (a key of :data:`COMMAND_MODULES`) — then no other built-in command
    module is imported nor its commands built, which is most of what starting a command
    costs; the command, its help and its errors are the same (tests/test_cli_lazy_commands.py).
    """
    import importlib

    names = [only] if only is not None else list(COMMAND_MODULES)
    modules = [importlib.import_module(f"govern.cli.{COMMAND_MODULES[name]}") for name in names]
    app = typer.Typer(
        name="govern",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help (click's formatter), not rich panels: the same text on a terminal, in a
        # log and inside a --json document, and no rich import (~60 ms) on every --help.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for module in modules:
        module.register(app)
    state = CliState(output, workspace_dir, strict_plugins, plugins=plugins, environ=environ)
    # The commands not built are still taken: a plugin never gets a built-in's name.
    state.register_plugin_commands(app, also_taken=set(COMMAND_MODULES))
    command = typer.main.get_command(app)
    _name_commands(command)
    command.context_settings = {**(command.context_settings or {}), "obj": state}
    return command
