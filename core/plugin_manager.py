"""The plugin host: loads built-in and third-party plugins and calls their hooks.

Built-ins are registered by module name from :data:`DEFAULT_PLUGINS` through the same path as
entry points (group ``govern``). Entry points are loaded one by one, so one broken plugin is
reported ("plugin NAME (DIST VERSION) failed to load: …") and skipped instead of taking
govern down (llm issue #1280) — unless strict mode makes it fatal. Nothing happens at import
time: a test builds a fresh :class:`PluginHost`.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from govern import PROJECT_NAME, hookspecs
from govern.errors import ExitCode, GovernError
from govern.progress import Progress

if TYPE_CHECKING:
    import typer

    from govern.config import Registry, Workspace
    from govern.manifest import SealCheck
    from govern.models import CatalogEntry, Delta, Operation, RegistryKind, ReportSection, RunView, Snapshot
    from govern.sealing import SealResult

#: Built-in plugins, by module; registered under their last name part.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "govern.plugins.sha256_seal",
    "govern.plugins.sealed_registry",
    "govern.plugins.excluded_kinds",
    "govern.plugins.manifest_diff",
    "govern.plugins.unknown_basis",
    "govern.plugins.delta_log",
    "govern.plugins.governance",
)
#: Built-ins govern cannot work without; they cannot be disabled.
ESSENTIAL_PLUGINS = frozenset({"sha256_seal", "unknown_basis", "delta_log"})

ENV_LOAD = "GOVERN_LOAD_PLUGINS"
ENV_DISABLE = "GOVERN_DISABLE_PLUGINS"
ENV_STRICT = "GOVERN_STRICT_PLUGINS"


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, where it came from, and the hooks it implements."""

    name: str
    source: str
    hooks: tuple[str, ...]


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    source: str
    reason: str

    def message(self) -> str:
        """The one-line report, with the hint to disable it."""
        return (
            f"plugin {self.name} ({self.source}) failed to load: {self.reason} "
            f"(disable it with {ENV_DISABLE}={self.name})"
        )


def _split_names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class PluginHost:
    """Owns the pluggy manager; one typed method per hook."""

    def __init__(
        self,
        *,
        disable: Iterable[str] = (),
        load_only: Iterable[str] | None = None,
        strict: bool = False,
    ) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.disable = set(disable)
        self.load_only = None if load_only is None else set(load_only)
        self.strict = strict
        self.failures: list[PluginFailure] = []
        self._sources: dict[str, str] = {}
        self._files: dict[str, set[str]] = {}

    @classmethod
    def from_environment(cls, *, config_disable: Iterable[str] = (), strict: bool = False) -> PluginHost:
        """A host honouring ``GOVERN_LOAD_PLUGINS``, ``GOVERN_DISABLE_PLUGINS``, ``GOVERN_STRICT_PLUGINS``."""
        disable = set(config_disable) | (_split_names(os.environ.get(ENV_DISABLE)) or set())
        return cls(
            disable=disable,
            load_only=_split_names(os.environ.get(ENV_LOAD)),
            strict=strict or os.environ.get(ENV_STRICT) == "1",
        )

    # ---------------------------------------------------------------------------- loading

    def load_plugins(self, entry_points: Iterable[Any] | None = None) -> None:
        """Register the built-ins, then every entry point of group ``govern``.

        ``entry_points`` replaces the installed ones (for tests). Refuses to disable an
        essential built-in (E_PLUGIN_FAILED).
        """
        blocked_essentials = sorted(self.disable & ESSENTIAL_PLUGINS)
        if blocked_essentials:
            raise GovernError(
                "E_PLUGIN_FAILED",
                f"cannot disable {', '.join(blocked_essentials)}: govern cannot work without "
                f"{'it' if len(blocked_essentials) == 1 else 'them'}",
            )
        for module_name in DEFAULT_PLUGINS:
            name = module_name.rsplit(".", 1)[1]
            if name in self.disable:
                continue
            self._register_safely(name, "built-in", lambda m=module_name: importlib.import_module(m))
        if entry_points is None:
            from importlib.metadata import entry_points as installed

            entry_points = installed(group=PROJECT_NAME)
        for entry_point in sorted(entry_points, key=lambda ep: ep.name):
            if entry_point.name in self.disable:
                continue
            if self.load_only is not None and entry_point.name not in self.load_only:
                continue
            dist = getattr(entry_point, "dist", None)
            source = f"{dist.name} {dist.version}" if dist is not None else "entry point"
            self._register_safely(entry_point.name, source, entry_point.load)

    def register(self, plugin: object, name: str, source: str = "registered object") -> None:
        """Register a plugin object (a module, class instance, …) and validate its hooks."""
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise GovernError("E_PLUGIN_FAILED", f"plugin {name} ({source}): {exc}") from None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise exc
        self._sources[name] = source
        self._files[name] = _plugin_files(plugin)

    def unregister(self, name: str) -> None:
        """Remove a plugin by name."""
        self.pm.unregister(name=name)
        self._sources.pop(name, None)
        self._files.pop(name, None)

    def _register_safely(self, name: str, source: str, load: Any) -> None:
        if self.pm.has_plugin(name):
            self._fail(PluginFailure(name, source, f"the name {name!r} is already taken by {self._sources.get(name)}"))
            return
        try:
            plugin = load()
            self.register(plugin, name, source)
        except GovernError:
            raise
        except pluggy.PluginValidationError as exc:
            self._fail(PluginFailure(name, source, str(exc)))
        except Exception as exc:  # an import-time crash in a third-party plugin
            self._fail(PluginFailure(name, source, f"{type(exc).__name__}: {exc}"))

    def _fail(self, failure: PluginFailure) -> None:
        if self.strict:
            raise GovernError("E_PLUGIN_FAILED", failure.message(), exit_code=ExitCode.USAGE)
        self.failures.append(failure)

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its source and hooks, sorted by name."""
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            infos.append(PluginInfo(name, self._sources.get(name, "registered object"), hooks))
        return sorted(infos, key=lambda info: info.name)

    # ---------------------------------------------------------------------------- calling

    def _call(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a hook; an exception from a plugin becomes E_PLUGIN_FAILED naming it."""
        try:
            return getattr(self.pm.hook, hook_name)(**kwargs)
        except GovernError:
            raise
        except Exception as exc:
            culprit = self._culprit(exc.__traceback__)
            error = GovernError(
                "E_PLUGIN_FAILED",
                f"plugin {culprit} raised in {hook_name}: {type(exc).__name__}: {exc}",
                exit_code=ExitCode.USAGE,
            )
            error.__cause__ = exc
            raise error from exc

    def _culprit(self, tb: TracebackType | None) -> str:
        frames = [frame.filename for frame in traceback.extract_tb(tb)]
        for filename in reversed(frames):
            for name, files in self._files.items():
                if filename in files:
                    return name
        return "(unknown)"

    def registry_kinds(self) -> dict[str, RegistryKind]:
        """Every declared kind by name (E_PLUGIN_FAILED if two plugins claim one name)."""
        kinds: dict[str, RegistryKind] = {}
        for declared in self._call("govern_registry_kinds"):
            for kind in declared or ():
                if kind.name in kinds:
                    raise GovernError("E_PLUGIN_FAILED", f"registry kind {kind.name!r} is declared by two plugins")
                kinds[kind.name] = kind
        return dict(sorted(kinds.items()))

    def discover_snapshots(self, registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
        """Snapshots of ``registry`` among ``runs``, or None when no plugin handles its kind."""
        return self._call("govern_discover_snapshots", registry=registry, workspace=workspace, runs=runs)

    def exclusion(self, registry: Registry, workspace: Workspace) -> str | None:
        """Why ``registry`` is excluded by design, or None."""
        return self._call("govern_exclusion", registry=registry, workspace=workspace)

    def delta_basis(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta:
        """The delta between two snapshots (``unknown`` when nothing better is possible)."""
        return self._call("govern_delta_basis", registry=registry, before=before, after=after)

    def seal(self, run_dir: Path, envelope: dict[str, Any], reseal: bool, progress: Progress) -> SealResult:
        """Seal a run folder."""
        return self._call("govern_seal", run_dir=run_dir, envelope=envelope, reseal=reseal, progress=progress)

    def verify_seal(self, run_dir: Path, deep: bool, progress: Progress) -> SealCheck:
        """Check a run's seal (``deep``: every payload file too)."""
        return self._call("govern_verify_seal", run_dir=run_dir, deep=deep, progress=progress)

    def operations(self) -> list[Operation]:
        """Every operation plugins declare, sorted by op id."""
        return sorted((op for ops in self._call("govern_operations") for op in ops or ()), key=lambda op: op.op_id)

    def catalog_addenda(self, workspace: Workspace) -> list[CatalogEntry]:
        """Every registry plugins contribute to the catalog, sorted by id."""
        entries = self._call("govern_catalog_addenda", workspace=workspace)
        return sorted((e for group in entries for e in group or ()), key=lambda e: e.registry_id)

    def report_sections(self, report: str, context: dict[str, Any]) -> list[ReportSection]:
        """Sections plugins add to ``report``, sorted by (order, title)."""
        sections = self._call("govern_report_sections", report=report, context=context)
        return sorted((s for group in sections for s in group or ()), key=lambda s: (s.order, s.title))

    def register_commands(self, app: typer.Typer) -> None:
        """Let plugins add CLI commands."""
        self._call("govern_register_commands", app=app)


def _plugin_files(plugin: object) -> set[str]:
    """Source files a plugin's code lives in (to name the culprit of an exception)."""
    module: ModuleType | None
    if isinstance(plugin, ModuleType):
        module = plugin
    else:
        module = sys.modules.get(getattr(type(plugin) if not isinstance(plugin, type) else plugin, "__module__", ""), None)
    filename = getattr(module, "__file__", None)
    return {filename} if filename else set()
