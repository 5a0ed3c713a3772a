"""Per-invocation state shared by every command: global options, output, workspace, plugins."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from govern.cli.output import Output
from govern.locking import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    import typer

    from govern.config import Workspace
    from govern.plugin_manager import PluginHost


class CliState:
    """Global options of one ``govern`` invocation and the objects derived from them."""

    def __init__(self, output: Output, workspace_dir: Path | None = None, strict_plugins: bool = False) -> None:
        self.output = output
        self.workspace_dir = workspace_dir
        self.lock_timeout: float = DEFAULT_LOCK_TIMEOUT
        self.strict_plugins = strict_plugins
        self._workspace: Workspace | None = None
        self._plugins: PluginHost | None = None

    def plugins(self) -> PluginHost:
        """The plugin host, loaded once; load failures become warnings (or errors if strict)."""
        if self._plugins is None:
            from govern.plugin_manager import PluginHost

            host = PluginHost.from_environment(config_disable=self._configured_disable(), strict=self.strict_plugins)
            host.load_plugins()
            for note in host.notes:
                self.output.warn(note)
            for failure in host.failures:
                self.output.warn(failure.message())
            self._plugins = host
        return self._plugins

    def register_plugin_commands(self, app: typer.Typer) -> None:
        """Let plugins add their commands to ``app``; a plugin that cannot is one warning."""
        for failure in self.plugins().register_commands(app):
            self.output.warn(failure.message())

    def _configured_disable(self) -> list[str]:
        """``[plugins] disable`` read early (plugins load before the full config check).

        Errors are ignored here on purpose: the full load reports them properly.
        """
        from govern.workspace_root import CONFIG_NAME, find_workspace_root
        from govern.errors import GovernError

        try:
            root = find_workspace_root(explicit=self.workspace_dir)
            raw = tomllib.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
        except (GovernError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return []
        disable = raw.get("plugins", {}).get("disable", [])
        return [name for name in disable if isinstance(name, str)] if isinstance(disable, list) else []

    def workspace(self) -> Workspace:
        """The workspace (``-C DIR`` or found by walking up), loaded and checked once."""
        if self._workspace is None:
            from govern.config import check_registry_kinds, load_workspace

            workspace = load_workspace(explicit=self.workspace_dir)
            check_registry_kinds(workspace, self.plugins().registry_kinds())
            self._workspace = workspace
        return self._workspace
