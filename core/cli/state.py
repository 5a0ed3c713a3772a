"""Per-invocation state shared by every command: global options, output, workspace, plugins."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govern.cli.output import Output
from govern.store.locking import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    import typer

    from govern.config.workspace import Workspace
    from govern.host.manager import PluginHost


class CliState:
    """Global options of one ``govern`` invocation and the objects derived from them."""

    def __init__(
        self,
        output: Output,
        workspace_dir: Path | None = None,
        strict_plugins: bool = False,
        *,
        plugins: Sequence[tuple[str, object]] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``plugins``: ``(name, object)`` pairs registered after the built-ins as if installed;
        ``environ``: the invocation's environment (None: this process's)."""
        self.output = output
        self.extra_plugins = tuple(plugins)
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.workspace_dir = workspace_dir
        self.lock_timeout: float = DEFAULT_LOCK_TIMEOUT
        self.strict_plugins = strict_plugins
        self._workspace: Workspace | None = None
        #: None: kinds not checked yet; False: unknown kinds were warnings; True: they were errors.
        self._kinds_checked: bool | None = None
        self._plugins: PluginHost | None = None

    def plugins(self) -> PluginHost:
        """The plugin host, loaded once; load failures become warnings (or errors if strict)."""
        if self._plugins is None:
            from govern.host.manager import PluginHost

            host = PluginHost.from_environment(
                config_disable=self._configured_disable(),
                strict=self.strict_plugins,
                environ=self.environ,
                trace_to=_trace_to_stderr,
            )
            host.load_plugins(extra=self.extra_plugins)
            for note in host.notes:
                self.output.warn(note)
            for failure in host.failures:
                self.output.warn(failure.message())
            self._plugins = host
        return self._plugins

    def register_plugin_commands(self, app: typer.Typer, also_taken: set[str] | None = None) -> None:
        """Let plugins add their commands to ``app``; a plugin that cannot is one warning.
        ``also_taken``: command names no plugin may take besides those ``app`` has."""
        from govern.cli.plugin_commands import register_plugin_commands

        for failure in register_plugin_commands(self.plugins(), app, also_taken or set()):
            self.output.warn(failure.message())

    def _configured_disable(self) -> list[str]:
        """``[plugins] disable`` read early (plugins load before the full config check).

        Errors are ignored here on purpose: the full load reports them properly.
        """
        from govern.config.root import CONFIG_NAME, find_workspace_root
        from govern.errors import GovernError

        try:
            root = find_workspace_root(explicit=self.workspace_dir)
            raw = tomllib.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
        except (GovernError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return []
        disable = raw.get("plugins", {}).get("disable", [])
        return [name for name in disable if isinstance(name, str)] if isinstance(disable, list) else []

    def workspace(self, *, needs_kind_plugins: bool = True, uses_runs_root: bool = True) -> Workspace:
        """The workspace (``-C DIR`` or found by walking up), loaded once, checked per command.

        Each command says what it needs, because that decides which problems stop it:

        ``needs_kind_plugins``
            The command runs registry kinds' code (a build discovers snapshots and computes
            deltas through the kind's plugin): a kind no plugin claims is E_CONFIG_UNKNOWN_KIND.
            False for commands that only check seals and the log (``verify``, ``delta show``,
            ``validate``, ``repair``): there such a kind is a warning, so an auditor can check
            a workspace without the pipeline's plugins.
        ``uses_runs_root``
            The command reads or locks the runs root: it must exist (E_RUNS_ROOT_MISSING), so
            a typo'd ``runs_root`` is never an empty history that passes every check, and the
            lock never creates the typo'd folder. False only where the runs root is not used
            (``validate FILE…``).
        """
        if self._workspace is None:
            from govern.config.workspace import load_workspace

            self._workspace = load_workspace(explicit=self.workspace_dir)
        workspace = self._workspace
        if uses_runs_root:
            workspace.check_runs_root()
        # Checked once per strictness: a command asks the same question each time it needs the
        # workspace, and its warnings are said once.
        if self._kinds_checked is None or (needs_kind_plugins and not self._kinds_checked):
            from govern.config.workspace import check_registry_kinds

            warnings = check_registry_kinds(workspace, self.plugins().registry_kinds(), unknown_is_error=needs_kind_plugins)
            if self._kinds_checked is None:
                for warning in warnings:
                    self.output.warn(warning)
            self._kinds_checked = needs_kind_plugins
        return workspace


def _trace_to_stderr(line: str) -> None:
    """Where ``GOVERN_TRACE_PLUGINS=1`` writes: stderr, at once (a trace that waits for the
    command to end would miss the call that hangs or crashes)."""
    print(line, file=sys.stderr, flush=True)
