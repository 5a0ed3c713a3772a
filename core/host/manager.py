"""The plugin host: loads built-in and third-party plugins and calls their hooks.

Built-ins are registered by module name from :data:`DEFAULT_PLUGINS` through the same path as
entry points (group ``govern``). Entry points are loaded one by one, so one broken plugin is
reported ("plugin NAME (DIST VERSION) failed to load: …") and skipped instead of taking
govern down (llm issue #1280) — unless strict mode makes it fatal. Every plugin is checked
when it is registered: a hook name no hookspec declares (``pm.check_pending()``) or an
argument govern never passes rejects the plugin, by name, with the closest real hook.

Choosing what loads: ``GOVERN_LOAD_PLUGINS`` is an allow-list of entry-point names (set but
empty: no third-party plugin at all), ``GOVERN_DISABLE_PLUGINS`` and ``[plugins] disable`` a
block-list of plugin names (built-in or not), blocked in pluggy (``set_blocked``) — except
:data:`ESSENTIAL_PLUGINS`, which govern cannot work without. ``GOVERN_STRICT_PLUGINS=1``
(``--strict-plugins``) makes every plugin failure fatal (exit 2); ``GOVERN_TRACE_PLUGINS=1``
traces every hook call (:mod:`govern.host.tracing`).

A registry's hooks (discovery, exclusion, delta basis) go to the plugin that declared its
kind (:meth:`PluginHost.kind_plugin`). The host never imports typer or click: adding plugins'
commands is the CLI's (``govern.cli.plugin_commands``).

Nothing happens at import time: a test builds a fresh :class:`PluginHost`.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pluggy

from govern.__about__ import PROJECT_NAME
from govern.errors import GovernError
from govern.host import hookspecs
from govern.host.tracing import is_firstresult, trace_hook_calls

if TYPE_CHECKING:
    import datetime as dt

    from govern.config.workspace import Registry, Workspace
    from govern.format.manifest import SealCheck
    from govern.format.models import CatalogEntry, Delta, Operation, RegistryKind, ReportSection, SourceVersion
    from govern.runs.views import RunView, Snapshot
    from govern.runtime.progress import Progress
    from govern.seal.sealing import SealResult

#: Built-in plugins, by module; registered under their last name part.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "govern.plugins.sha256_seal",
    "govern.plugins.sealed_registry",
    "govern.plugins.excluded_kinds",
    "govern.plugins.sql_table",
    "govern.plugins.collection",
    "govern.plugins.ocfl_object",
    "govern.plugins.bagit",
    "govern.plugins.git_history",
    "govern.plugins.manifest_diff",
    "govern.plugins.unknown_basis",
    "govern.plugins.delta_log",
    "govern.plugins.governance",
)
#: Built-ins govern cannot work without (seals, the honest ``unknown`` fallback, OP-QA11);
#: they cannot be disabled.
ESSENTIAL_PLUGINS = frozenset({"sha256_seal", "unknown_basis", "delta_log"})

ENV_LOAD = "GOVERN_LOAD_PLUGINS"
ENV_DISABLE = "GOVERN_DISABLE_PLUGINS"
ENV_STRICT = "GOVERN_STRICT_PLUGINS"
ENV_TRACE = "GOVERN_TRACE_PLUGINS"
CONFIG_DISABLE = "[plugins] disable"
#: Every hook's name starts with this; a function so named is a hook implementation.
HOOK_PREFIX = "govern_"
_TRUE = frozenset({"1", "true", "yes", "on"})

#: Where a plugin object handed to :meth:`PluginHost.load_plugins` (``main(plugins=…)``) comes from.
EXTRA_SOURCE = "test plugin"


def _as_given(plugin: object) -> object:
    """A plugin object handed over already loaded (:data:`EXTRA_PLUGINS`)."""
    return plugin


# Dataclasses, not attrs: plugins load on every command (`--help` too) and attrs would be
# its most expensive import (issue 7's start-up target).
@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A loaded plugin: its name, where it came from, and the hooks it implements."""

    name: str
    source: str
    hooks: tuple[str, ...]

    @property
    def builtin(self) -> bool:
        """True for govern's own plugins."""
        return self.source == "built-in"


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded (or could not add its commands), and why."""

    name: str
    source: str
    reason: str
    #: What failed: ``load`` (import, validation) or ``add its commands``.
    action: str = "load"

    def message(self) -> str:
        """The one-line report, with the hint to disable it."""
        return (
            f"plugin {self.name} ({self.source}) failed to {self.action}: {self.reason} "
            f"(disable it with {ENV_DISABLE}={self.name})"
        )


@dataclass(frozen=True, slots=True)
class PluginSkip:
    """A plugin deliberately not loaded: blocked, or not on the allow-list."""

    name: str
    source: str
    reason: str


class PluginRejected(Exception):
    """A plugin object failed validation (unknown hook, wrong arguments, name taken)."""


class _GovernPluginManager(pluggy.PluginManager):
    """pluggy's manager, taking every function named ``govern_*`` as a hook implementation.

    As pytest does with ``pytest_*``: a hook whose ``@hookimpl`` was forgotten still runs, and
    a misspelt one is still seen — and rejected by ``check_pending`` — instead of being
    silently ignored.
    """

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            value = inspect.getattr_static(plugin, name, None)
            if isinstance(value, (staticmethod, classmethod)) or inspect.isfunction(value) or inspect.ismethod(value):
                return {}
        return opts


def split_names(value: str | None) -> set[str] | None:
    """Names of a comma-separated list (None stays None: the variable is not set)."""
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def one_line(text: str) -> str:
    """Multi-line messages (pluggy's, exceptions') as one line."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip()) or "(no message)"


def _entry_point_source(entry_point: Any) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return f"entry point {getattr(entry_point, 'value', '?')}"
    return f"{dist.name} {dist.version}"


class PluginHost:
    """Owns the pluggy manager; one typed method per hook."""

    def __init__(
        self,
        *,
        disable: Iterable[str] | Mapping[str, str] = (),
        load_only: Iterable[str] | None = None,
        strict: bool = False,
        trace: Callable[[str], None] | None = None,
    ) -> None:
        """``disable``: names not to load (a mapping gives where each name was configured);
        ``load_only``: the entry points allowed (None: all); ``strict``: failures are fatal;
        ``trace``: where to write one ``govern: trace: …`` line per hook call (None: no trace)."""
        self.pm = _GovernPluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        if trace is not None:
            trace_hook_calls(self.pm, trace)
        self.disable: dict[str, str] = (
            dict(disable) if isinstance(disable, Mapping) else {name: "the disable list" for name in disable}
        )
        self.load_only = None if load_only is None else set(load_only)
        self.strict = strict
        self.failures: list[PluginFailure] = []
        self.skipped: list[PluginSkip] = []
        #: Warnings about the selection itself (a disabled name no plugin has, …).
        self.notes: list[str] = []
        self._sources: dict[str, str] = {}
        #: :meth:`registry_kind_providers` for the plugins registered when it was computed
        #: (see :meth:`_kind_providers`).
        self._kinds_seen: tuple[tuple[tuple[str, int], ...], dict[str, tuple[RegistryKind, str]]] | None = None

    @classmethod
    def from_environment(
        cls,
        *,
        config_disable: Iterable[str] = (),
        strict: bool = False,
        environ: Mapping[str, str] | None = None,
        trace_to: Callable[[str], None] | None = None,
    ) -> PluginHost:
        """A host honouring ``GOVERN_LOAD_PLUGINS``, ``GOVERN_DISABLE_PLUGINS``,
        ``GOVERN_STRICT_PLUGINS`` (read from ``environ``, the invocation's environment; None:
        this process's) and the config's ``[plugins] disable``. With ``GOVERN_TRACE_PLUGINS=1``
        every hook call is traced to ``trace_to``."""
        env = os.environ if environ is None else environ
        disable = {name: CONFIG_DISABLE for name in config_disable}
        disable.update({name: ENV_DISABLE for name in split_names(env.get(ENV_DISABLE)) or ()})
        return cls(
            disable=disable,
            load_only=split_names(env.get(ENV_LOAD)),
            strict=strict or env.get(ENV_STRICT, "").strip().lower() in _TRUE,
            trace=trace_to if env.get(ENV_TRACE, "").strip().lower() in _TRUE else None,
        )

    # ---------------------------------------------------------------------------- loading

    def load_plugins(self, entry_points: Iterable[Any] | None = None, extra: Iterable[tuple[str, object]] = ()) -> None:
        """Register the built-ins, then ``extra``, then every entry point of group ``govern``.

        ``entry_points`` replaces the installed ones (tests pass fakes: objects with
        ``.name``, ``.load()`` and ``.dist``). ``extra`` are ``(name, plugin object)`` pairs
        registered as if installed (``main(argv, plugins=…)``: how :mod:`govern.testing` runs
        the CLI in-process with a plugin under test). Refuses to disable an essential built-in
        (E_PLUGIN_FAILED, exit 2). A plugin that fails is recorded in :attr:`failures`, or
        raises E_PLUGIN_FAILED in strict mode.
        """
        blocked_essentials = sorted(set(self.disable) & ESSENTIAL_PLUGINS)
        if blocked_essentials:
            where = sorted({self.disable[name] for name in blocked_essentials})
            raise GovernError(
                "E_PLUGIN_FAILED",
                f"cannot disable {', '.join(blocked_essentials)} (named in {' and '.join(where)}): "
                f"govern cannot work without {'it' if len(blocked_essentials) == 1 else 'them'} "
                f"(essential built-ins: {', '.join(sorted(ESSENTIAL_PLUGINS))})",
            )
        # Blocked in pluggy itself: a blocked name can never be registered afterwards, by this
        # loader or by anyone calling register().
        for name in self.disable:
            self.pm.set_blocked(name)
        seen: set[str] = set()
        for module_name in DEFAULT_PLUGINS:
            name = module_name.rsplit(".", 1)[1]
            seen.add(name)
            if self._blocked(name, "built-in"):
                continue
            self._register_safely(name, "built-in", functools.partial(importlib.import_module, module_name))
        for name, plugin in extra:
            seen.add(name)
            if not self._blocked(name, EXTRA_SOURCE):
                self._register_safely(name, EXTRA_SOURCE, functools.partial(_as_given, plugin))
        if entry_points is None:
            from govern.host.installed_plugins import may_declare_plugins

            entry_points = ()
            if may_declare_plugins():  # else importlib.metadata would find none (and cost ~25 ms)
                from importlib.metadata import entry_points as installed

                entry_points = installed(group=PROJECT_NAME)
        loaded_values: dict[str, str] = {}
        for entry_point in sorted(entry_points, key=lambda ep: ep.name):
            name = entry_point.name
            source = _entry_point_source(entry_point)
            seen.add(name)
            value = getattr(entry_point, "value", None)
            if value is not None and loaded_values.get(name) == value:
                continue  # the same distribution found twice on sys.path
            if value is not None:
                loaded_values.setdefault(name, value)
            if self._blocked(name, source):
                continue
            if self.load_only is not None and name not in self.load_only:
                self.skipped.append(PluginSkip(name, source, f"not in {ENV_LOAD}"))
                continue
            self._register_safely(name, source, entry_point.load)
        for name in sorted(set(self.disable) - seen):
            self.notes.append(f"{self.disable[name]} names {name!r}, but no plugin of that name is installed")
        for name in sorted((self.load_only or set()) - seen):
            self.notes.append(f"{ENV_LOAD} names {name!r}, but no installed entry point has that name")

    def _blocked(self, name: str, source: str) -> bool:
        """Whether pluggy blocks ``name`` (see :meth:`load_plugins`); if so it is recorded in
        :attr:`skipped`, for ``govern plugins list``."""
        if not self.pm.is_blocked(name):
            return False
        self.skipped.append(PluginSkip(name, source, f"disabled by {self.disable.get(name, 'the disable list')}"))
        return True

    def register(self, plugin: object, name: str, source: str = "registered object") -> None:
        """Register a plugin object (a module, class instance, …) and validate its hooks.

        Raises E_PLUGIN_FAILED naming the plugin when the name is taken, a hook name is
        unknown (caught by ``check_pending``) or a hook asks for an argument govern never
        passes; the manager is then left as it was.
        """
        try:
            self._add(plugin, name, source)
        except PluginRejected as rejected:
            raise GovernError("E_PLUGIN_FAILED", f"plugin {name} ({source}): {rejected}") from None

    def _add(self, plugin: object, name: str, source: str) -> None:
        if self.pm.has_plugin(name):
            raise PluginRejected(f"the name {name!r} is already taken by {self._sources.get(name, 'another plugin')}")
        if self.pm.is_blocked(name):
            raise PluginRejected(f"the name {name!r} is disabled by {self.disable.get(name, 'the disable list')}")
        if self.pm.is_registered(plugin):
            raise PluginRejected(f"the same object is already registered as {self.pm.get_name(plugin)!r}")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginRejected(self._explain(plugin, exc)) from None
        except ValueError as exc:
            raise PluginRejected(one_line(str(exc))) from None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            explanation = self._explain(plugin, exc)
            self.pm.unregister(plugin)
            raise PluginRejected(explanation) from None
        self._sources[name] = source

    def _explain(self, plugin: object, exc: pluggy.PluginValidationError) -> str:
        """Why pluggy refused ``plugin``, in one line naming the hook (and the closest real one)."""
        problems = []
        known = self.hook_names()
        for attr in sorted(dir(plugin)):
            opts = self.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            hook_name = opts.get("specname") or attr
            if hook_name not in known:
                if opts.get("optionalhook"):
                    continue
                close = difflib.get_close_matches(hook_name, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else f" (no hookspec of that name in {hookspecs.__name__})"
                problems.append(f"unknown hook {hook_name}{hint}")
                continue
            passed = getattr(self.pm.hook, hook_name).spec.argnames
            wanted = _required_arguments(getattr(plugin, attr, None))
            extra = [arg for arg in wanted if arg not in passed]
            if extra:
                problems.append(
                    f"{hook_name} asks for {', '.join(extra)}, which govern never passes "
                    f"(it passes: {', '.join(passed) or 'nothing'})"
                )
        return "; ".join(problems) or one_line(str(exc))

    def unregister(self, name: str) -> None:
        """Remove a plugin by name."""
        self.pm.unregister(name=name)
        self._sources.pop(name, None)

    def _register_safely(self, name: str, source: str, load: Callable[[], object]) -> None:
        try:
            plugin = load()
            self._add(plugin, name, source)
        except PluginRejected as rejected:
            self.record_failure(PluginFailure(name, source, str(rejected)))
        except (Exception, SystemExit) as exc:  # an import-time crash (or sys.exit) in a plugin
            self.record_failure(PluginFailure(name, source, f"{type(exc).__name__}: {one_line(str(exc))}"))

    def record_failure(self, failure: PluginFailure) -> None:
        """Record a plugin that failed (strict mode: raise E_PLUGIN_FAILED instead)."""
        if self.strict:
            raise GovernError("E_PLUGIN_FAILED", failure.message())
        self.failures.append(failure)

    def source(self, name: str) -> str:
        """Where a registered plugin came from: ``built-in``, ``DIST VERSION``, …"""
        return self._sources.get(name, "registered object")

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its source and hooks, sorted by name."""
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            infos.append(PluginInfo(name, self.source(name), hooks))
        return sorted(infos, key=lambda info: info.name)

    @staticmethod
    def hook_names() -> list[str]:
        """Every hook govern defines (the functions of :mod:`govern.host.hookspecs`), sorted."""
        return sorted(name for name in dir(hookspecs) if name.startswith(HOOK_PREFIX))

    # ---------------------------------------------------------------------------- calling

    def _call(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a hook; an exception from a plugin becomes E_PLUGIN_FAILED naming it.

        A :class:`GovernError` a plugin raises (a deliberate refusal) passes through as is.
        """
        return self._invoke(getattr(self.pm.hook, hook_name), hook_name, kwargs)

    def _invoke(self, caller: Any, hook_name: str, kwargs: Mapping[str, Any]) -> Any:
        """Call ``caller`` (the hook, or a subset of its plugins) as :meth:`_call` does."""
        try:
            return caller(**kwargs)
        except GovernError:
            raise
        except Exception as exc:
            raise self._hook_error(hook_name, exc) from exc

    def _hook_error(self, hook_name: str, exc: BaseException, culprit: str | None = None) -> GovernError:
        culprit = culprit or self._culprit(hook_name, exc.__traceback__)
        who = f"plugin {culprit} ({self.source(culprit)})" if culprit else "a plugin"
        hint = f" (disable it with {ENV_DISABLE}={culprit})" if culprit and culprit not in ESSENTIAL_PLUGINS else ""
        return GovernError(
            "E_PLUGIN_FAILED",
            f"{who} raised in {hook_name}: {type(exc).__name__}: {one_line(str(exc))}{hint}",
        )

    def _culprit(self, hook_name: str, tb: TracebackType | None) -> str | None:
        """The plugin whose hook implementation is the innermost frame of ``tb``.

        Frames are matched by code object, so two plugins defined in one file are told apart
        and a plugin that fails inside a helper it calls is still named.
        """
        caller = getattr(self.pm.hook, hook_name, None)
        codes: dict[Any, str] = {}
        for impl in caller.get_hookimpls() if caller is not None else ():
            for code in _code_objects(impl.function):
                codes[code] = impl.plugin_name
        culprit = None
        while tb is not None:
            culprit = codes.get(tb.tb_frame.f_code, culprit)
            tb = tb.tb_next
        return culprit

    def _implementers(self, hook_name: str) -> list[str]:
        caller = getattr(self.pm.hook, hook_name)
        return sorted({impl.plugin_name for impl in caller.get_hookimpls()})

    def _wrong_result(self, hook_name: str, value: Any, expected: str) -> GovernError:
        return GovernError(
            "E_PLUGIN_FAILED",
            f"{hook_name} returned {_describe(value)}, not {expected} "
            f"(implemented by: {', '.join(self._implementers(hook_name))})",
        )

    def _collected(self, hook_name: str, groups: Any, item_type: type, expected: str) -> list[Any]:
        """Flatten a collect hook's results, checking each plugin returned a list of ``item_type``."""
        items: list[Any] = []
        for group in groups:
            if group is None:
                continue
            if not isinstance(group, (list, tuple)) or not all(isinstance(item, item_type) for item in group):
                raise self._wrong_result(hook_name, group, f"a list of {expected}")
            items.extend(group)
        return items

    def _call_plugin(self, hook_name: str, plugin_name: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementations of a *collect* hook, as pluggy would (its
        arguments by name), so that the results and any failure are that plugin's. Wrappers
        are not called: these hooks are collected plugin by plugin.

        An exception (other than a deliberate GovernError) is E_PLUGIN_FAILED naming the plugin.
        """
        return list(self._call_one(hook_name, plugin_name, kwargs))

    def plugin_order(self, hook_name: str) -> list[str]:
        """The plugins implementing a hook, in the order pluggy calls them (tryfirst first)."""
        order: list[str] = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            if impl.plugin_name not in order:
                order.append(impl.plugin_name)
        return order

    def registry_kinds(self) -> dict[str, RegistryKind]:
        """Every declared kind by name (E_PLUGIN_FAILED if two plugins claim one name)."""
        return {name: kind for name, (kind, _plugin) in self.registry_kind_providers().items()}

    def registry_kind_providers(self) -> dict[str, tuple[RegistryKind, str]]:
        """Every declared kind by name, with the plugin that declares it."""
        from govern.format.models import RegistryKind

        kinds: dict[str, tuple[RegistryKind, str]] = {}
        for plugin_name in self.plugin_order("govern_registry_kinds"):
            groups = self._call_plugin("govern_registry_kinds", plugin_name)
            for kind in self._collected("govern_registry_kinds", groups, RegistryKind, "RegistryKind"):
                self._check_kind_keys(kind, plugin_name)
                if kind.name in kinds:
                    raise GovernError(
                        "E_PLUGIN_FAILED",
                        f"registry kind {kind.name!r} is declared by two plugins: {kinds[kind.name][1]} and {plugin_name} "
                        f"(disable one with {ENV_DISABLE})",
                    )
                kinds[kind.name] = (kind, plugin_name)
        return dict(sorted(kinds.items()))

    def _check_kind_keys(self, kind: RegistryKind, plugin_name: str) -> None:
        """A kind may declare as its ``keys`` only kind-specific fields of ``RegistryConfig``
        (a key no configuration can hold would never be read): E_PLUGIN_FAILED naming the
        plugin, the kind and the keys there are."""
        from govern.config.workspace import KIND_KEYS

        unknown = [key for key in kind.keys if key not in KIND_KEYS]
        if unknown:
            raise GovernError(
                "E_PLUGIN_FAILED",
                f"govern_registry_kinds of plugin {plugin_name}: kind {kind.name!r} declares keys {', '.join(map(repr, unknown))}, "
                f"not kind-specific registry keys (those are: {', '.join(KIND_KEYS)}; a kind's own settings go in its options)",
            )

    def _kind_providers(self) -> dict[str, tuple[RegistryKind, str]]:
        """:meth:`registry_kind_providers`, computed again only when the registered plugins change.

        Dispatching by kind asks it once per registry and once per record of a build; the
        kinds a plugin declares do not change while it is registered.
        """
        registered = tuple((name, id(plugin)) for name, plugin in self.pm.list_name_plugin() if plugin is not None)
        if self._kinds_seen is None or self._kinds_seen[0] != registered:
            self._kinds_seen = (registered, self.registry_kind_providers())
        return self._kinds_seen[1]

    def kind_plugin(self, kind: str) -> str | None:
        """The plugin that declares registry kind ``kind`` (None when no plugin declares it)."""
        provider = self._kind_providers().get(kind)
        return None if provider is None else provider[1]

    def discover_snapshots(self, registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
        """Snapshots of ``registry`` among ``runs``, or None when no plugin handles its kind.

        Only the plugin that declares the registry's kind is asked: another plugin's answer
        (an empty list from a plugin that meant "not mine") never hides a kind's snapshots.
        """
        from govern.runs.views import Snapshot

        owner = self.kind_plugin(registry.kind)
        groups = [[owner]] if owner is not None else []
        found, _plugin = self._first_answer("govern_discover_snapshots", groups, registry=registry, workspace=workspace, runs=runs)
        if found is not None and (not isinstance(found, list) or not all(isinstance(s, Snapshot) for s in found)):
            raise self._wrong_result("govern_discover_snapshots", found, "a list of Snapshot")
        return found

    def exclusion(self, registry: Registry, workspace: Workspace) -> str | None:
        """Why ``registry`` is excluded by design, or None.

        Only the plugin that declares the registry's kind is asked, as for discovery: no
        other plugin can exclude (or un-exclude) a registry of a kind it does not own.
        """
        owner = self.kind_plugin(registry.kind)
        groups = [[owner]] if owner is not None else []
        reason, _plugin = self._first_answer("govern_exclusion", groups, registry=registry, workspace=workspace)
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            raise self._wrong_result("govern_exclusion", reason, "a non-empty reason (str)")
        return reason

    def snapshot(self, registry: Registry, workspace: Workspace, clock: dt.datetime, progress: Progress, op_id: str | None) -> Path | None:
        """Have the plugin that declares ``registry``'s kind write a new sealed snapshot run;
        its folder, or None when that plugin writes none. Only the kind's plugin is asked."""
        owner = self.kind_plugin(registry.kind)
        groups = [[owner]] if owner is not None else []
        folder, _plugin = self._first_answer(
            "govern_snapshot", groups, registry=registry, workspace=workspace, clock=clock, progress=progress, op_id=op_id
        )
        if folder is not None and not isinstance(folder, Path):
            raise self._wrong_result("govern_snapshot", folder, "the run folder (a Path)")
        return folder

    def source_versions(self, registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
        """The versions of ``registry`` kept outside the runs root (OCFL, BagIt, git), oldest
        first, or None when its kind keeps none. Only the kind's plugin is asked."""
        from govern.format.models import SourceVersion

        owner = self.kind_plugin(registry.kind)
        groups = [[owner]] if owner is not None else []
        found, _plugin = self._first_answer("govern_source_versions", groups, registry=registry, workspace=workspace, progress=progress)
        if found is not None and (not isinstance(found, list) or not all(isinstance(v, SourceVersion) for v in found)):
            raise self._wrong_result("govern_source_versions", found, "a list of SourceVersion")
        return found

    def keeps_source_versions(self, kind: str) -> bool:
        """True when the plugin declaring ``kind`` reads its registries' versions where they are
        (it implements ``govern_source_versions``): known without reading any source."""
        owner = self.kind_plugin(kind)
        return owner is not None and owner in self._implementers("govern_source_versions")

    def snapshot_due(self, registry: Registry, workspace: Workspace) -> bool | None:
        """Whether a new snapshot of ``registry`` would differ from its latest (None: its kind
        takes no snapshots). Dispatched by kind."""
        owner = self.kind_plugin(registry.kind)
        groups = [[owner]] if owner is not None else []
        due, _plugin = self._first_answer("govern_snapshot_due", groups, registry=registry, workspace=workspace)
        if due is not None and not isinstance(due, bool):
            raise self._wrong_result("govern_snapshot_due", due, "True or False")
        return due

    def delta_basis(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta:
        """The delta between two snapshots (``unknown`` when nothing better is possible)."""
        return self.answered_delta_basis(registry, before, after)[0]

    def answered_delta_basis(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> tuple[Delta, str | None]:
        """:meth:`delta_basis` and the plugin that answered (None when a wrapper took part,
        as the answer may then be the wrapper's).

        Asked in this order, the first non-None answer winning: the plugin that declares the
        registry's kind; then the *basis plugins*, those that declare no kind (the built-in
        ``manifest_diff``, which serves every kind whose snapshots are sealed runs, and the
        ``trylast`` ``unknown`` fallback), in pluggy's order. A plugin that declares other
        kinds is never asked about this registry.
        """
        from govern.format.models import Delta

        providers = self._kind_providers()
        kind_plugins = {plugin for _kind, plugin in providers.values()}
        owner = providers.get(registry.kind)
        basis_plugins = [name for name in self.plugin_order("govern_delta_basis") if name not in kind_plugins]
        groups = [[owner[1]], basis_plugins] if owner is not None else [basis_plugins]
        delta, plugin_name = self._first_answer("govern_delta_basis", groups, registry=registry, before=before, after=after)
        if not isinstance(delta, Delta):
            raise self._wrong_result("govern_delta_basis", delta, "a Delta")
        return delta, plugin_name

    def _first_answer(self, hook_name: str, groups: Sequence[Sequence[str]], **kwargs: Any) -> tuple[Any, str | None]:
        """Call a *firstresult* hook on the plugins of ``groups``, group after group, and say
        which plugin answered (plugins in no group are not called).

        pluggy does not tell, so within a group the implementations are called here, in
        pluggy's order (tryfirst first, trylast last), as pluggy would call them; a group with
        a wrapper is left to pluggy (``subset_hook_caller``; the answering plugin is then
        None). An exception is E_PLUGIN_FAILED naming the plugin, a deliberate GovernError
        passes through.
        """
        caller = getattr(self.pm.hook, hook_name)
        for group in groups:
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin_name in group]
            if any(impl.wrapper or impl.hookwrapper for impl in impls):
                others = [plugin for name, plugin in self.pm.list_name_plugin() if plugin is not None and name not in group]
                result = self._invoke(self.pm.subset_hook_caller(hook_name, others), hook_name, kwargs)
                if result is not None:
                    return result, None
                continue
            for impl in reversed(impls):
                result = self._call_one(hook_name, impl.plugin_name, kwargs)
                if result is not None:
                    return result, impl.plugin_name
        return None, None

    def _call_one(self, hook_name: str, plugin_name: str, kwargs: Mapping[str, Any]) -> Any:
        """Call one plugin's implementation of a hook, through pluggy (so that hook-call
        monitoring, ``GOVERN_TRACE_PLUGINS``, sees the call and the plugin that made it).

        Returns what pluggy returns for that one plugin: its answer for a *firstresult* hook,
        a list of its non-None answers otherwise. An exception (other than a deliberate
        GovernError) is E_PLUGIN_FAILED naming the plugin.
        """
        try:
            return self.call_plugin(hook_name, plugin_name, **kwargs)
        except GovernError:
            raise
        except Exception as exc:
            raise self._hook_error(hook_name, exc, plugin_name) from exc

    def call_plugin(self, hook_name: str, plugin_name: str, **kwargs: Any) -> Any:
        """Call plugin ``plugin_name``'s implementation of ``hook_name`` alone, through pluggy
        (traced like every hook call): its answer for a *firstresult* hook, the list of its
        non-None answers otherwise. Wrappers are not called (alone, they would wrap nothing).
        An exception propagates as raised, for the caller to attribute (the CLI does, adding
        a plugin's commands)."""
        caller = getattr(self.pm.hook, hook_name)
        impls = [
            impl
            for impl in caller.get_hookimpls()
            if impl.plugin_name == plugin_name and not (impl.wrapper or impl.hookwrapper)
        ]
        # What pluggy's own subset_hook_caller does when called, without its set of the other
        # plugin objects (which refuses unhashable plugins, e.g. a SimpleNamespace).
        return self.pm._hookexec(hook_name, impls, kwargs, is_firstresult(self.pm, hook_name))

    def delta_bases(self) -> dict[str, tuple[str, ...]]:
        """Every declared delta basis, with the plugins that declare it (sorted by basis).

        A name that is not ``[a-z][a-z0-9_]*`` is E_PLUGIN_FAILED naming its plugin.
        """
        import re

        declared: dict[str, list[str]] = {}
        for plugin_name in self.plugin_order("govern_delta_bases"):
            groups = self._call_plugin("govern_delta_bases", plugin_name)
            for basis in self._collected("govern_delta_bases", groups, str, "str"):
                if not re.fullmatch(r"[a-z][a-z0-9_]*", basis):
                    raise GovernError(
                        "E_PLUGIN_FAILED",
                        f"plugin {plugin_name} ({self.source(plugin_name)}) declares delta basis {basis!r}: "
                        "a basis is a name matching [a-z][a-z0-9_]*",
                    )
                declared.setdefault(basis, []).append(plugin_name)
        return {basis: tuple(plugins) for basis, plugins in sorted(declared.items())}

    def seal(self, run_dir: Path, envelope: dict[str, Any], reseal: bool, progress: Progress) -> SealResult:
        """Seal a run folder."""
        from govern.seal.sealing import SealResult

        result = self._call("govern_seal", run_dir=run_dir, envelope=envelope, reseal=reseal, progress=progress)
        if not isinstance(result, SealResult):
            raise self._wrong_result("govern_seal", result, "a SealResult")
        return result

    def verify_seal(self, run_dir: Path, deep: bool, progress: Progress) -> SealCheck:
        """Check a run's seal (``deep``: every payload file too)."""
        from govern.format.manifest import SealCheck

        check = self._call("govern_verify_seal", run_dir=run_dir, deep=deep, progress=progress)
        if not isinstance(check, SealCheck):
            raise self._wrong_result("govern_verify_seal", check, "a SealCheck")
        return check

    def operations(self) -> list[Operation]:
        """Every operation plugins declare, sorted by op id."""
        from govern.format.models import Operation

        ops = self._collected("govern_operations", self._call("govern_operations"), Operation, "Operation")
        return sorted(ops, key=lambda op: op.op_id)

    def operation_providers(self) -> dict[str, str]:
        """``op id -> name of the plugin declaring it``, for every operation plugins declare."""
        from govern.format.models import Operation

        providers: dict[str, str] = {}
        for plugin_name in self.plugin_order("govern_operations"):
            groups = self._call_plugin("govern_operations", plugin_name)
            for op in self._collected("govern_operations", groups, Operation, "Operation"):
                providers.setdefault(op.op_id, plugin_name)
        return dict(sorted(providers.items()))

    def catalog_addenda(self, workspace: Workspace) -> list[CatalogEntry]:
        """Every registry plugins contribute to the catalog, sorted by id."""
        from govern.format.models import CatalogEntry

        groups = self._call("govern_catalog_addenda", workspace=workspace)
        return sorted(self._collected("govern_catalog_addenda", groups, CatalogEntry, "CatalogEntry"), key=lambda e: e.registry_id)

    def report_sections(self, report: str, context: dict[str, Any]) -> list[ReportSection]:
        """Sections plugins add to ``report``, sorted by (order, title)."""
        from govern.format.models import ReportSection

        groups = self._call("govern_report_sections", report=report, context=context)
        sections = self._collected("govern_report_sections", groups, ReportSection, "ReportSection")
        return sorted(sections, key=lambda s: (s.order, s.title))


def _required_arguments(function: Any) -> list[str]:
    """The arguments pluggy passes to ``function``: positional ones without a default."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind in positional and p.default is inspect.Parameter.empty]


def _code_objects(function: Any) -> set[Any]:
    """The code objects a hook implementation runs as (through bound methods and decorators)."""
    codes = set()
    for candidate in (function, getattr(function, "__func__", None)):
        while candidate is not None:
            code = getattr(candidate, "__code__", None)
            if code is not None:
                codes.add(code)
            candidate = getattr(candidate, "__wrapped__", None)
    return codes


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (a {type(value).__name__})"
