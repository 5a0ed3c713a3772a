"""``govern plugins list [--hook NAME]``: every plugin, where it came from, and its hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import GovernError
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.host.manager import PluginFailure, PluginSkip

plugins_app = typer.Typer(help="Installed plugins: built-in and third-party, their hooks, load failures.", no_args_is_help=True)


@plugins_app.command("list", short_help="Every plugin: source, version, hooks, failures")
def list_plugins(
    ctx: typer.Context,
    hook: Annotated[Optional[str], typer.Option("--hook", metavar="NAME", help="Only plugins implementing this hook.")] = None,
) -> None:
    """Every plugin with its source (built-in, or distribution and version), the hooks it
    implements and the registry kinds it declares; then the plugins that failed to load or
    were not loaded (disabled, not on the allow-list), and why."""
    state: CliState = ctx.obj
    host = state.plugins()
    if hook is not None and hook not in host.hook_names():
        raise GovernError("E_USAGE", f"--hook {hook!r}: no such hook (hooks: {', '.join(host.hook_names())})")
    kinds: dict[str, list[str]] = {}
    try:
        providers = host.registry_kind_providers()
    except GovernError as error:  # the listing is how one finds the culprit: keep going
        state.output.warn(f"registry kinds not shown: {error.message}")
        providers = {}
    for kind_name, (_kind, plugin_name) in providers.items():
        kinds.setdefault(plugin_name, []).append(kind_name)
    plugins = [info for info in host.plugins() if hook is None or hook in info.hooks]
    rows = tuple(
        PluginRow(info.name, info.source, tuple(info.hooks), tuple(kinds.get(info.name, []))) for info in plugins
    )
    failures = tuple(f for f in host.failures if hook is None)
    skipped = tuple(s for s in host.skipped if hook is None)
    state.output.show(PluginListResult(hook, rows, failures, skipped))


@attrs.frozen
class PluginRow:
    """One loaded plugin: its name, where it came from, its hooks, the kinds it declares."""

    name: str
    source: str
    hooks: tuple[str, ...]
    kinds: tuple[str, ...]


@attrs.frozen
class PluginListResult(CommandResult):
    """``plugins list``: the plugins loaded (implementing ``hook`` if given), those that failed, those not loaded."""

    hook: str | None
    plugins: tuple[PluginRow, ...]
    failures: tuple[PluginFailure, ...]
    not_loaded: tuple[PluginSkip, ...]


@text_renderer(PluginListResult)
def plugin_list_text(result: PluginListResult) -> list[str]:
    """One line per plugin, then the failures and the plugins not loaded."""
    hook = result.hook
    lines = [plural(len(result.plugins), "plugin") + (f" implementing {hook}" if hook else "") + ":"]
    for row in result.plugins:
        kinds_text = f"  kinds: {', '.join(row.kinds)}" if row.kinds else ""
        lines.append(f"  {row.name:<22} {row.source:<28} {', '.join(row.hooks)}{kinds_text}")
    if result.failures:
        lines.append("failed to load:")
        lines.extend(f"  {f.name:<22} {f.source:<28} {f.action}: {f.reason}" for f in result.failures)
    if result.not_loaded:
        lines.append("not loaded:")
        lines.extend(f"  {s.name:<22} {s.source:<28} {s.reason}" for s in result.not_loaded)
    return lines


@json_renderer(PluginListResult)
def plugin_list_json(result: PluginListResult) -> dict[str, Any]:
    """The hook asked about, every plugin, the failures and the plugins not loaded."""
    return {
        "hook": result.hook,
        "plugins": [{"name": r.name, "source": r.source, "hooks": list(r.hooks), "kinds": list(r.kinds)} for r in result.plugins],
        "failures": [{"name": f.name, "source": f.source, "action": f.action, "reason": f.reason} for f in result.failures],
        "not_loaded": [{"name": s.name, "source": s.source, "reason": s.reason} for s in result.not_loaded],
    }


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(plugins_app, name="plugins", short_help="Installed plugins, their hooks and load failures")
