"""Helpers and pytest fixtures for testing govern plugins (like tox's ``tox.pytest``).

Enable the fixtures in a plugin's test suite with::

    pytest_plugins = ["govern.testing"]

The helpers work without pytest too. Everything uses real files in a temporary directory:

- :class:`ScratchWorkspace` — a workspace (``govern init`` done) whose registries you
  configure, with run folders you lay down and seal, and the CLI run on it;
- :func:`make_run`, :func:`seal_run`, :func:`make_sealed_run` — run folders and seals;
- :func:`plugin_host` — a fresh :class:`~govern.host.manager.PluginHost` with the
  built-ins and your plugin object registered (installed plugins left out unless asked);
- :func:`invoke_cli` — ``govern`` in this process, with your plugin object registered as if
  it were installed (fast; ``plugins``); :func:`run_cli` — the installed ``govern`` console
  script in a subprocess (the real thing: entry points, exit codes, stderr).

Fixtures: ``govern_workspace`` (a :class:`ScratchWorkspace`), ``govern_host`` (the
:func:`plugin_host` factory), ``govern_cli`` (:func:`invoke_cli`) and ``govern_cli_subprocess``
(:func:`run_cli`). Both runners drop ``GOVERN_*`` and ``SOURCE_DATE_EPOCH`` from the
environment first, so the developer's shell never leaks into a test.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from govern.config.workspace import Workspace
    from govern.host.manager import PluginHost

#: The clock runs are sealed with unless a test says otherwise.
DEFAULT_AT = "2024-01-02T03:04:05Z"
#: Environment variables that change govern's behaviour, removed before every CLI run.
_ISOLATED_PREFIX = "GOVERN_"
_ISOLATED_NAMES = ("SOURCE_DATE_EPOCH",)


class CliResult(NamedTuple):
    """What one ``govern`` invocation did; unpacks as ``(returncode, stdout, stderr)``."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as exactly one JSON document (run with ``--json``)."""
        return json.loads(self.stdout)

    @property
    def stderr_lines(self) -> list[str]:
        """stderr split into lines."""
        return self.stderr.splitlines()


# ------------------------------------------------------------------------------ run folders


def make_run(runs_root: str | os.PathLike[str], run_id: str, files: Mapping[str, bytes | str]) -> Path:
    """Create the run folder ``runs_root/run_id`` holding ``files`` (relative path -> content;
    text is written as UTF-8)."""
    run_dir = Path(runs_root) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    for relative, data in files.items():
        target = run_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return run_dir


def seal_run(run_dir: str | os.PathLike[str], *, at: str = DEFAULT_AT, op_id: str | None = None, reseal: bool = False) -> str:
    """Seal ``run_dir`` as ``govern seal --at AT`` does (in-process); return its ROOT_SHA256."""
    from govern.format.envelope import make_envelope
    from govern.runtime.clock import parse_utc
    from govern.seal.sealing import seal_run as seal

    run_dir = Path(run_dir)
    envelope = make_envelope(run_dir.name, op_id=op_id, clock=parse_utc(at))
    return seal(run_dir, envelope=envelope, reseal=reseal).root_sha256


def make_sealed_run(
    runs_root: str | os.PathLike[str], run_id: str, files: Mapping[str, bytes | str], *, at: str = DEFAULT_AT
) -> Path:
    """:func:`make_run`, then :func:`seal_run`."""
    run_dir = make_run(runs_root, run_id, files)
    seal_run(run_dir, at=at)
    return run_dir


# ------------------------------------------------------------------------------ plugin host


def plugin_host(
    *plugins: object | tuple[str, object],
    builtins: bool = True,
    installed: bool = False,
    disable: Iterable[str] = (),
) -> PluginHost:
    """A fresh plugin host with ``plugins`` registered (each an object, or ``(name, object)``).

    The built-ins are loaded unless ``builtins`` is False; installed entry points only with
    ``installed``. A plugin that fails validation raises E_PLUGIN_FAILED naming it.
    """
    from govern.host.manager import PluginHost

    host = PluginHost(disable=disable)
    if builtins:
        host.load_plugins(None if installed else [])
    for plugin in plugins:
        name, obj = plugin if isinstance(plugin, tuple) else (_plugin_name(plugin), plugin)
        host.register(obj, name, "test plugin")
    return host


def _plugin_name(plugin: object) -> str:
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    return str(name).rsplit(".", 1)[-1]


# ------------------------------------------------------------------------------ the CLI


def isolated_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without govern's own variables (``GOVERN_*``, ``SOURCE_DATE_EPOCH``),
    plus ``extra``: what every CLI run in a test should see."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED_PREFIX) and k not in _ISOLATED_NAMES}
    env.update(extra or {})
    return env


def govern_executable() -> str:
    """The installed ``govern`` console script (beside this interpreter first, then PATH)."""
    beside = Path(sys.executable).with_name("govern")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("govern")
    if found is None:
        raise RuntimeError("the govern console script is not installed")
    return found


def run_cli(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run the installed ``govern`` in a subprocess (stdin closed, output captured)."""
    completed = subprocess.run(
        [govern_executable(), *map(str, args)],
        cwd=cwd,
        env=isolated_environment(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def invoke_cli(
    *args: str | os.PathLike[str],
    plugins: Mapping[str, object] | Iterable[object] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> CliResult:
    """Run ``govern ARGS`` in this process and capture what it prints.

    ``plugins`` (name -> object, or objects named after their module/class) are registered
    after the built-ins, as if installed — installed entry points still load too, unless
    ``env`` sets ``GOVERN_LOAD_PLUGINS``. The command sees the environment of :func:`run_cli`
    (handed to ``main(…, environ=…)``; ``os.environ`` is left alone). ``sys.stdout``,
    ``sys.stderr`` and, with ``cwd``, the working directory are this process's: redirected
    for the call, so do not run it in threads (call ``govern.cli.main`` there).
    """
    from govern.cli import main

    named = (
        tuple(plugins.items())
        if isinstance(plugins, Mapping)
        else tuple((_plugin_name(plugin), plugin) for plugin in plugins)
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    previous_cwd = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main([str(arg) for arg in args], plugins=named, environ=isolated_environment(env))
    finally:
        os.chdir(previous_cwd)
    return CliResult(int(code), stdout.getvalue(), stderr.getvalue())


# ------------------------------------------------------------------------------ workspaces


class ScratchWorkspace:
    """A workspace in a directory of your own, and the moves a plugin test makes on it."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        registries: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        disable: Iterable[str] = (),
    ) -> None:
        self.root = Path(root)
        #: The configured registries (id -> table), as :meth:`write_config` writes them.
        self.registries: dict[str, dict[str, Any]] = {rid: dict(table) for rid, table in (registries or {}).items()}
        #: ``[plugins] disable``.
        self.disable = list(disable)

    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        registries: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        disable: Iterable[str] = (),
    ) -> ScratchWorkspace:
        """``govern init`` in ``root``, then a config with ``registries`` (id -> table)."""
        from govern.governance.scaffold import init_workspace

        init_workspace(Path(root))
        workspace = cls(root, registries, disable=disable)
        workspace.write_config()
        return workspace

    def write_config(self) -> None:
        """Write ``registry_config.toml`` from :attr:`registries` and :attr:`disable`."""
        import tomli_w

        config = {
            "workspace": {"runs_root": ".codex/RUNS", "delta_log_artifact": "REGISTRY_DELTA_LOG_v0_1.jsonl"},
            "plugins": {"disable": self.disable},
            "registries": self.registries,
        }
        (self.root / "registry_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")

    def add_registry(self, registry_id: str, **table: Any) -> None:
        """Configure one more registry (``kind=…, artifact=…, path=…, options={…}``)."""
        self.registries[registry_id] = table
        self.write_config()

    @property
    def runs_root(self) -> Path:
        """Where run folders live (``.codex/RUNS``)."""
        return self.root / ".codex" / "RUNS"

    def run(self, run_id: str, files: Mapping[str, bytes | str], *, seal: bool = True, at: str = DEFAULT_AT) -> Path:
        """A run folder holding ``files``, sealed unless ``seal`` is False."""
        run_dir = make_run(self.runs_root, run_id, files)
        if seal:
            seal_run(run_dir, at=at)
        return run_dir

    def load(self) -> Workspace:
        """The workspace as govern loads it."""
        from govern.config.workspace import load_workspace

        return load_workspace(explicit=self.root)

    def cli(self, *args: str | os.PathLike[str], plugins: Mapping[str, object] | Iterable[object] = (), env: Mapping[str, str] | None = None) -> CliResult:
        """``govern -C ROOT ARGS`` in this process (:func:`invoke_cli`)."""
        return invoke_cli("-C", self.root, *args, plugins=plugins, env=env)

    def cli_subprocess(self, *args: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> CliResult:
        """``govern -C ROOT ARGS`` in a subprocess (:func:`run_cli`)."""
        return run_cli("-C", self.root, *args, env=env)

    def latest_build(self) -> Path | None:
        """The latest delta-log build run, or None."""
        from govern.log.delta_log import list_builds

        builds = list_builds(self.runs_root)
        return builds[-1] if builds else None

    def log_records(self) -> list[dict[str, Any]]:
        """The records of the latest build's delta log (empty when there is none)."""
        build = self.latest_build()
        if build is None:
            return []
        from govern.log.delta_log import parse_log_lines

        data = (build / "REGISTRY_DELTA_LOG_v0_1.jsonl").read_bytes()
        return parse_log_lines(data, f"{build.name}/REGISTRY_DELTA_LOG_v0_1.jsonl")


# ------------------------------------------------------------------------------ fixtures

try:
    import pytest
except ImportError:  # pragma: no cover - the helpers above work without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def govern_workspace(tmp_path: Path) -> ScratchWorkspace:
        """A fresh :class:`ScratchWorkspace` (no registries yet) in a temporary directory."""
        return ScratchWorkspace.create(tmp_path / "workspace")

    @pytest.fixture
    def govern_host() -> Any:
        """:func:`plugin_host`: ``govern_host(my_plugin)`` -> a fresh host with it registered."""
        return plugin_host

    @pytest.fixture
    def govern_cli() -> Any:
        """:func:`invoke_cli`: ``govern_cli("-C", root, "delta", "build", plugins=[my_plugin])``."""
        return invoke_cli

    @pytest.fixture
    def govern_cli_subprocess() -> Any:
        """:func:`run_cli`: the installed console script in a subprocess."""
        return run_cli
