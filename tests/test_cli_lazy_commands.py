"""A command named on the command line is built alone (issue 18, start-up): ``build_app(only=…)``
imports and builds one built-in command module instead of all of them. The command, its help
and its errors must be those of the whole command tree."""

from __future__ import annotations

import contextlib
import io

import pytest
import typer

from govern.cli import built_in_command
from govern.cli.app import COMMAND_MODULES, build_app
from govern.cli.output import Output
from govern.cli.plugin_commands import declared_command_names
from govern.host.markers import hookimpl
from govern.testing import invoke_cli
from helpers import RUN_ID, make_run, seal_in_process


def _run(only: str | None, args: list[str]) -> tuple[str, object]:
    """stdout and the outcome of ``args`` through the tree ``build_app(only=only)`` builds."""
    command = build_app(Output(), only=only)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        try:
            outcome: object = command.main(args=args, prog_name="govern", standalone_mode=False)
        except Exception as error:  # a usage error: compared by its type and message
            outcome = (type(error).__name__, str(error))
    return captured.getvalue(), outcome


@pytest.mark.parametrize("name", list(COMMAND_MODULES))
def test_each_module_registers_exactly_its_command(name):
    import importlib

    app = typer.Typer()
    importlib.import_module(f"govern.cli.{COMMAND_MODULES[name]}").register(app)
    assert declared_command_names(app.registered_commands, app.registered_groups) == {name}


def test_the_table_names_every_built_in_command():
    full = set(build_app(Output()).list_commands(None))
    plugins_commands = set(build_app(Output(), only="init").list_commands(None)) - {"init"}  # built-in plugins' (report, …)
    assert full == set(COMMAND_MODULES) | plugins_commands
    assert not plugins_commands & set(COMMAND_MODULES)


def _command_paths() -> list[list[str]]:
    """Every built-in command and every subcommand of its groups, as argv prefixes."""
    full = build_app(Output())
    paths = []
    for name in COMMAND_MODULES:
        paths.append([name])
        sub = full.commands[name]
        paths.extend([name, child] for child in getattr(sub, "commands", {}))
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_help_and_usage_errors_are_those_of_the_whole_tree(path):
    only = path[0]
    assert _run(only, [*path, "--help"]) == _run(None, [*path, "--help"])
    assert _run(only, [*path, "--no-such-option"]) == _run(None, [*path, "--no-such-option"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["verify", "RUN"], "verify"),
        (["-C", "ws", "--json", "delta", "build"], "delta"),
        (["--workspace=ws", "validate", "X"], "validate"),
        (["--lock-timeout", "3", "seal", "R"], "seal"),
        (["verify", "--help"], "verify"),
        (["--help", "verify"], None),  # the root's help: every command listed
        (["-h"], None),
        ([], None),
        (["report", "html"], None),  # a plugin's command: everything is built
        (["no-such-command"], None),
        (["--", "verify"], None),
    ],
)
def test_the_command_invoked_is_read_from_the_arguments(args, expected):
    assert built_in_command(args) == expected


class _ClashingCommand:
    @hookimpl
    def govern_register_commands(self, app: typer.Typer) -> None:
        app.command("seal")(lambda: None)


def test_a_plugin_taking_a_built_in_name_is_refused_even_when_that_command_is_not_built(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    result = invoke_cli("verify", "--json", str(run), plugins={"clash": _ClashingCommand()})
    assert result.returncode == 0, result.stderr
    assert any("command seal already exists; a plugin never replaces a command" in w for w in result.json()["warnings"])


def test_a_command_runs_the_same_built_alone(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    alone = _run("verify", ["--json", "verify", str(run)])
    whole = _run(None, ["--json", "verify", str(run)])
    assert alone == whole
