"""Plugins' commands: letting each plugin add commands to the typer app, and knowing their names.

Kept out of the plugin host (which never imports typer or click): what a command is, and
what name typer will give it, is the command line's business.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from govern.errors import GovernError
from govern.host.manager import PluginFailure, PluginRejected, one_line

if TYPE_CHECKING:
    import typer

    from govern.host.manager import PluginHost

HOOK = "govern_register_commands"


def register_plugin_commands(host: PluginHost, app: typer.Typer, also_taken: AbstractSet[str] = frozenset()) -> list[PluginFailure]:
    """Let each plugin add its commands to ``app``; return the plugins that failed to.

    Plugins are called one at a time. One that raises, whose commands typer cannot build,
    or that would replace a command govern (or an earlier plugin) already has — or one named
    in ``also_taken`` (govern's commands not built for this invocation) — has all its
    additions taken back and is reported — the others' commands stay (strict mode: fatal).
    """
    taken = declared_command_names(app.registered_commands, app.registered_groups) | also_taken
    failures = []
    for name in host.plugin_order(HOOK):
        commands, groups = len(app.registered_commands), len(app.registered_groups)
        try:
            taken |= _add_commands(host, name, app, commands, groups, taken)
            continue
        except PluginRejected as rejected:
            reason = str(rejected)
        except GovernError as error:
            reason = error.message
        except (Exception, SystemExit) as exc:
            reason = f"{type(exc).__name__}: {one_line(str(exc))}"
        del app.registered_commands[commands:]
        del app.registered_groups[groups:]
        failure = PluginFailure(name, host.source(name), reason, action="add its commands")
        host.record_failure(failure)
        failures.append(failure)
    return failures


def _add_commands(host: PluginHost, name: str, app: typer.Typer, commands: int, groups: int, taken: set[str]) -> set[str]:
    """Call one plugin's ``govern_register_commands``; the names it added (raises if any
    is taken already, or typer cannot build its commands)."""
    host.call_plugin(HOOK, name, app=app)
    new_commands, new_groups = app.registered_commands[commands:], app.registered_groups[groups:]
    # A third-party plugin's commands are built now, so one typer cannot build is this
    # plugin's failure rather than a crash of every govern command later.
    if host.source(name) == "built-in":
        added = declared_command_names(new_commands, new_groups)
    else:
        added = built_command_names(new_commands, new_groups)
    clash = sorted(added & taken)
    if clash:
        raise PluginRejected(f"command {', '.join(clash)} already exists; a plugin never replaces a command")
    return added


def declared_command_names(commands: list[Any], groups: list[Any]) -> set[str]:
    """The names typer will give registered commands and groups, read from their declarations."""
    from typer.main import get_command_name
    from typer.models import DefaultPlaceholder

    def given(value: Any) -> Any:
        return None if isinstance(value, DefaultPlaceholder) else value

    names = set()
    for info in commands:
        callback = info.callback
        names.add(info.name or get_command_name(getattr(callback, "__name__", "")))
    for info in groups:
        instance = given(info.typer_instance)
        callback = given(info.callback) or (given(instance.info.callback) if instance is not None else None)
        name = given(info.name) or (given(instance.info.name) if instance is not None else None)
        names.add(name or get_command_name(getattr(callback, "__name__", "")))
    return names


def built_command_names(commands: list[Any], groups: list[Any]) -> set[str]:
    """The names typer gives registered commands and groups, by building them (which raises,
    early, on a command typer cannot build)."""
    import typer

    if not commands and not groups:
        return set()
    scratch = typer.Typer()
    scratch.callback()(lambda: None)  # always a group, even with a single command
    scratch.registered_commands = list(commands)
    scratch.registered_groups = list(groups)
    # A Typer with a callback is always a click Group (typer does not export that vendored type).
    return set(typer.main.get_command(scratch).commands)  # type: ignore[attr-defined]
