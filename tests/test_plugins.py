"""The plugin host: loading that survives a broken plugin, allow- and block-lists, strict mode,
hook validation, failures named by plugin, plugin commands, and ``govern plugins list``.

Loader unit tests use fake entry points (objects with ``.name``, ``.value``, ``.load()`` and
``.dist``) on a fresh :class:`PluginHost`. CLI tests install small plugins for real: a module
plus a ``.dist-info`` folder with an ``entry_points.txt`` in a directory on ``PYTHONPATH``,
which is exactly what ``importlib.metadata`` finds for a pip-installed distribution.
"""

from __future__ import annotations

import textwrap
import types
from pathlib import Path
from typing import Any

import pytest
import typer

from govern import hookimpl
from govern.errors import GovernError
from govern.format.models import RegistryKind
from govern.host.manager import DEFAULT_PLUGINS, ESSENTIAL_PLUGINS, PluginHost
from govern.testing import ScratchWorkspace, invoke_cli, plugin_host
from helpers import run_govern, tree_state

BUILTINS = sorted(module.rsplit(".", 1)[1] for module in DEFAULT_PLUGINS)


# ------------------------------------------------------------------------------ fakes


class FakeDist:
    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version


class FakeEntryPoint:
    """What the loader needs of an ``importlib.metadata.EntryPoint``."""

    def __init__(self, name: str, plugin: Any = None, *, dist: FakeDist | None = None, value: str | None = None, error: BaseException | None = None):
        self.name = name
        self.value = value or f"{name}_module"
        self.dist = dist if dist is not None else FakeDist(f"{name}-dist", "1.0")
        self._plugin = plugin
        self._error = error
        self.loads = 0

    def load(self) -> Any:
        self.loads += 1
        if self._error is not None:
            raise self._error
        return self._plugin


class KindPlugin:
    """Declares one registry kind."""

    def __init__(self, kind: str = "acme") -> None:
        self.kind = kind

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind(self.kind, "an acme kind")]


class MisspeltHook:
    @hookimpl
    def govern_registy_kinds(self) -> list[RegistryKind]:
        return []


class UndecoratedMisspeltHook:
    def govern_registy_kinds(self) -> list[RegistryKind]:
        return []


class ExtraArgument:
    @hookimpl
    def govern_exclusion(self, registry, workspace, colour):  # noqa: ANN001 - govern never passes colour
        return None


def loaded_host(*entry_points: FakeEntryPoint, **options: Any) -> PluginHost:
    host = PluginHost(**options)
    host.load_plugins(list(entry_points))
    return host


def names(host: PluginHost) -> list[str]:
    return [info.name for info in host.plugins()]


# ------------------------------------------------------------------------------ loading


def test_builtins_are_registered_by_name_as_built_in():
    host = loaded_host()
    assert names(host) == BUILTINS
    assert {info.source for info in host.plugins()} == {"built-in"}
    assert host.failures == []


def test_an_entry_point_is_registered_with_its_distribution_and_version():
    host = loaded_host(FakeEntryPoint("acme", KindPlugin(), dist=FakeDist("acme-govern", "1.2.3")))
    info = {i.name: i for i in host.plugins()}["acme"]
    assert info.source == "acme-govern 1.2.3"
    assert info.hooks == ("govern_registry_kinds",)
    assert "acme" in host.registry_kinds()


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_still_load():
    broken = FakeEntryPoint("aaa_broken", error=ModuleNotFoundError("No module named 'yaml'"), dist=FakeDist("broken-govern", "0.1"))
    good = FakeEntryPoint("zzz_good", KindPlugin("zzz"))
    host = loaded_host(broken, good)
    assert "zzz_good" in names(host) and "aaa_broken" not in names(host)
    (failure,) = host.failures
    assert failure.message() == (
        "plugin aaa_broken (broken-govern 0.1) failed to load: ModuleNotFoundError: No module named 'yaml' "
        "(disable it with GOVERN_DISABLE_PLUGINS=aaa_broken)"
    )


def test_strict_mode_makes_a_load_failure_fatal_with_exit_2():
    broken = FakeEntryPoint("broken", error=RuntimeError("boom"))
    with pytest.raises(GovernError) as raised:
        loaded_host(broken, strict=True)
    assert raised.value.code == "E_PLUGIN_FAILED" and raised.value.exit_code == 2
    assert "plugin broken (broken-dist 1.0) failed to load: RuntimeError: boom" in raised.value.message


def test_sys_exit_at_import_is_a_load_failure_not_an_exit():
    host = loaded_host(FakeEntryPoint("quitter", error=SystemExit(3)))
    assert [f.name for f in host.failures] == ["quitter"]


@pytest.mark.parametrize("plugin", [MisspeltHook(), UndecoratedMisspeltHook()], ids=["decorated", "undecorated"])
def test_a_misspelt_hook_is_caught_by_check_pending_and_reported_by_plugin_name(plugin: object):
    host = loaded_host(FakeEntryPoint("typo", plugin, dist=FakeDist("typo-govern", "2.0")))
    (failure,) = host.failures
    assert failure.name == "typo"
    assert failure.reason == "unknown hook govern_registy_kinds (did you mean govern_registry_kinds?)"
    assert "typo" not in names(host)
    host.pm.check_pending()  # the rejected plugin left nothing behind


def test_a_hook_asking_for_an_argument_govern_never_passes_is_rejected():
    host = loaded_host(FakeEntryPoint("extra", ExtraArgument()))
    (failure,) = host.failures
    assert failure.reason == "govern_exclusion asks for colour, which govern never passes (it passes: registry, workspace)"


def test_an_undecorated_hook_with_the_right_name_is_a_hook():
    module = types.SimpleNamespace(govern_registry_kinds=lambda: [RegistryKind("plain", "no decorator")])
    host = loaded_host(FakeEntryPoint("plain", module))
    assert "plain" in host.registry_kinds()


def test_a_name_taken_by_a_builtin_is_a_failure():
    host = loaded_host(FakeEntryPoint("sealed_registry", KindPlugin("x")))
    (failure,) = host.failures
    assert "already taken by built-in" in failure.reason


def test_one_object_under_two_names_is_a_failure_not_a_crash():
    shared = KindPlugin("shared")
    host = loaded_host(FakeEntryPoint("first", shared), FakeEntryPoint("second", shared))
    assert names(host).count("first") == 1
    (failure,) = host.failures
    assert failure.name == "second" and "already registered as 'first'" in failure.reason


def test_the_same_distribution_found_twice_on_the_path_loads_once():
    plugin = KindPlugin()
    first = FakeEntryPoint("acme", plugin, value="acme.plugin")
    again = FakeEntryPoint("acme", plugin, value="acme.plugin")
    host = loaded_host(first, again)
    assert host.failures == [] and names(host).count("acme") == 1


# ------------------------------------------------------------------------------ choosing


def test_the_allow_list_loads_only_the_named_entry_points():
    a, b = FakeEntryPoint("a", KindPlugin("a")), FakeEntryPoint("b", KindPlugin("b"))
    host = loaded_host(a, b, load_only={"a"})
    assert "a" in names(host) and "b" not in names(host)
    assert b.loads == 0  # never imported
    assert [(s.name, s.reason) for s in host.skipped] == [("b", "not in GOVERN_LOAD_PLUGINS")]


def test_an_empty_allow_list_loads_no_third_party_plugin_but_every_builtin():
    host = PluginHost.from_environment(environ={"GOVERN_LOAD_PLUGINS": ""})
    host.load_plugins([FakeEntryPoint("a", KindPlugin("a"))])
    assert names(host) == BUILTINS


def test_block_list_from_environment_and_config_with_where_each_name_came_from():
    host = PluginHost.from_environment(config_disable=["excluded_kinds"], environ={"GOVERN_DISABLE_PLUGINS": " acme , "})
    host.load_plugins([FakeEntryPoint("acme", KindPlugin())])
    assert "acme" not in names(host) and "excluded_kinds" not in names(host)
    reasons = {s.name: s.reason for s in host.skipped}
    assert reasons == {"acme": "disabled by GOVERN_DISABLE_PLUGINS", "excluded_kinds": "disabled by [plugins] disable"}


def test_a_disabled_name_is_blocked_in_pluggy_and_cannot_be_registered_later():
    host = PluginHost.from_environment(config_disable=["excluded_kinds"], environ={"GOVERN_DISABLE_PLUGINS": "acme"})
    host.load_plugins([])
    assert host.pm.is_blocked("acme") and host.pm.is_blocked("excluded_kinds")
    with pytest.raises(GovernError) as raised:
        host.register(KindPlugin(), "acme", "test plugin")
    assert raised.value.message == "plugin acme (test plugin): the name 'acme' is disabled by GOVERN_DISABLE_PLUGINS"
    assert "acme" not in names(host)


@pytest.mark.parametrize("essential", sorted(ESSENTIAL_PLUGINS))
def test_an_essential_builtin_cannot_be_disabled(essential: str):
    host = PluginHost.from_environment(environ={"GOVERN_DISABLE_PLUGINS": essential})
    with pytest.raises(GovernError) as raised:
        host.load_plugins([])
    assert raised.value.code == "E_PLUGIN_FAILED"
    assert raised.value.message.startswith(f"cannot disable {essential} (named in GOVERN_DISABLE_PLUGINS): govern cannot work without it")


def test_names_in_the_lists_that_match_nothing_are_noted():
    host = PluginHost.from_environment(environ={"GOVERN_DISABLE_PLUGINS": "nosuch", "GOVERN_LOAD_PLUGINS": "ghost"})
    host.load_plugins([])
    assert host.notes == [
        "GOVERN_DISABLE_PLUGINS names 'nosuch', but no plugin of that name is installed",
        "GOVERN_LOAD_PLUGINS names 'ghost', but no installed entry point has that name",
    ]


@pytest.mark.parametrize("value,strict", [("1", True), ("true", True), ("0", False), ("", False)])
def test_strict_from_the_environment(value: str, strict: bool):
    assert PluginHost.from_environment(environ={"GOVERN_STRICT_PLUGINS": value}).strict is strict


# ------------------------------------------------------------------------------ calling


class Raiser(KindPlugin):
    """Declares kind ``acme`` and raises when asked whether an acme registry is excluded."""

    def __init__(self, error: Exception) -> None:
        super().__init__("acme")
        self.error = error

    @hookimpl
    def govern_exclusion(self, registry, workspace):  # noqa: ANN001
        raise self.error


class Abstainer(KindPlugin):
    """Declares kind ``quiet`` and never excludes anything."""

    def __init__(self) -> None:
        super().__init__("quiet")

    @hookimpl(tryfirst=True)
    def govern_exclusion(self, registry, workspace):  # noqa: ANN001
        return None


def _registry(kind: str = "acme"):
    from govern.config.workspace import Registry, RegistryConfig

    return Registry("r", RegistryConfig(kind=kind, artifact="R.json"))


def test_an_exception_in_a_hook_names_the_plugin_that_raised_it():
    # Two plugins whose classes live in this one file: told apart by their code, not their file.
    host = plugin_host(("quiet", Abstainer()), ("noisy", Raiser(ValueError("bad\nthing"))))
    with pytest.raises(GovernError) as raised:
        host.exclusion(_registry(), None)
    assert raised.value.code == "E_PLUGIN_FAILED"
    assert raised.value.message == (
        "plugin noisy (test plugin) raised in govern_exclusion: ValueError: bad; thing (disable it with GOVERN_DISABLE_PLUGINS=noisy)"
    )


def test_a_deliberate_governerror_from_a_plugin_passes_through():
    refusal = GovernError("E_CONFIG_INVALID", "no thanks")
    host = plugin_host(("refuser", Raiser(refusal)))
    with pytest.raises(GovernError) as raised:
        host.exclusion(_registry(), None)
    assert raised.value is refusal


def test_a_wrong_result_type_is_a_plugin_failure_naming_the_implementers():
    class Wrong(KindPlugin):
        @hookimpl(tryfirst=True)
        def govern_exclusion(self, registry, workspace):  # noqa: ANN001
            return 42

    host = plugin_host(("wrong", Wrong()))
    with pytest.raises(GovernError) as raised:
        host.exclusion(_registry(), None)
    assert "govern_exclusion returned 42 (a int), not a non-empty reason (str)" in raised.value.message
    assert "wrong" in raised.value.message


def test_two_plugins_declaring_one_kind_are_both_named():
    host = plugin_host(("one", KindPlugin("acme")), ("two", KindPlugin("acme")))
    with pytest.raises(GovernError) as raised:
        host.registry_kinds()
    assert "registry kind 'acme' is declared by two plugins:" in raised.value.message
    assert "one" in raised.value.message and "two" in raised.value.message


def test_kind_providers_say_which_plugin_declares_each_kind():
    host = plugin_host(("acme_plugin", KindPlugin("acme")))
    providers = {name: plugin for name, (_kind, plugin) in host.registry_kind_providers().items()}
    assert providers["acme"] == "acme_plugin"
    assert providers["sealed"] == "sealed_registry"
    assert providers["external"] == "excluded_kinds"


# ------------------------------------------------------------------------------ commands


class HelloCommand:
    """A third-party plugin adding ``govern hello``."""

    @hookimpl
    def govern_register_commands(self, app: typer.Typer) -> None:
        @app.command("hello")
        def hello(ctx: typer.Context, name: str = "world") -> None:
            """Say hello."""
            ctx.obj.output.emit({"greeting": f"hello {name}"}, [f"hello {name}"])


class ClashingCommand:
    @hookimpl
    def govern_register_commands(self, app: typer.Typer) -> None:
        app.command("bye")(lambda: None)
        app.command("delta")(lambda: None)


class FailingCommand:
    @hookimpl
    def govern_register_commands(self, app: typer.Typer) -> None:
        app.command("half")(lambda: None)
        raise RuntimeError("half-way")


def test_a_plugin_adds_a_command_and_it_runs():
    result = invoke_cli("--json", "hello", "--name", "govern", plugins={"greeter": HelloCommand()})
    assert result.returncode == 0, result.stderr
    assert result.json()["result"] == {"greeting": "hello govern"}


def test_a_plugin_never_replaces_a_command_and_its_additions_are_taken_back():
    result = invoke_cli("--help", plugins={"clash": ClashingCommand(), "greeter": HelloCommand()})
    assert result.returncode == 0
    assert result.stderr_lines == [
        "govern: warning: plugin clash (test plugin) failed to add its commands: command delta already exists; "
        "a plugin never replaces a command (disable it with GOVERN_DISABLE_PLUGINS=clash)"
    ]
    assert "hello" in result.stdout and "bye" not in result.stdout
    assert invoke_cli("delta", "--help").stdout == invoke_cli("delta", "--help", plugins={"clash": ClashingCommand()}).stdout


def test_a_plugin_failing_to_add_commands_is_one_warning_and_govern_works():
    result = invoke_cli("--help", plugins={"failing": FailingCommand()})
    assert result.returncode == 0
    assert result.stderr_lines == [
        "govern: warning: plugin failing (test plugin) failed to add its commands: RuntimeError: half-way "
        "(disable it with GOVERN_DISABLE_PLUGINS=failing)"
    ]
    assert "half" not in result.stdout.split()
    strict = invoke_cli("--strict-plugins", "--help", plugins={"failing": FailingCommand()})
    assert strict.returncode == 2 and "E_PLUGIN_FAILED" in strict.stderr


# ------------------------------------------------------------------------------ installed for real


def install_plugin(site: Path, dist: str, version: str, entry_name: str, module: str, source: str) -> None:
    """Install a one-module distribution into ``site`` (a directory put on PYTHONPATH)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[govern]\n{entry_name} = {module}\n", encoding="utf-8")


GREETER = '''
    import typer
    from govern import hookimpl
    from govern.format.models import RegistryKind

    @hookimpl
    def govern_registry_kinds():
        return [RegistryKind("greeting", "a kind nobody discovers")]

    @hookimpl
    def govern_register_commands(app: typer.Typer) -> None:
        @app.command("hello")
        def hello(ctx: typer.Context) -> None:
            """Say hello (from a plugin)."""
            ctx.obj.output.emit({"greeting": "hello"}, ["hello from a plugin"])
'''

BROKEN_IMPORT = """
    import yaml_that_does_not_exist
"""

BAD_HOOK_NAME = """
    from govern import hookimpl

    @hookimpl
    def govern_registy_kinds():
        return []
"""

RAISES_IN_BUILD = """
    from govern import hookimpl

    @hookimpl(tryfirst=True)
    def govern_delta_basis(registry, before, after):
        raise RuntimeError("cannot diff " + registry.id)
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


def env_with(site: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(site), **extra}


def test_plugins_list_shows_every_plugin_with_source_hooks_and_kinds(site: Path, tmp_path: Path):
    install_plugin(site, "acme-greeter", "1.4", "greeter", "acme_greeter", GREETER)
    result = run_govern("--json", "plugins", "list", cwd=tmp_path, env=env_with(site))
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in result.json()["result"]["plugins"]}
    assert sorted(plugins) == sorted([*BUILTINS, "greeter"])
    assert plugins["greeter"] == {
        "name": "greeter",
        "source": "acme-greeter 1.4",
        "hooks": ["govern_register_commands", "govern_registry_kinds"],
        "kinds": ["greeting"],
    }
    assert plugins["sealed_registry"]["source"] == "built-in"
    text = run_govern("plugins", "list", cwd=tmp_path, env=env_with(site))
    assert any(line.split()[:3] == ["greeter", "acme-greeter", "1.4"] for line in text.stdout.splitlines())


def test_plugins_list_by_hook(site: Path, tmp_path: Path):
    install_plugin(site, "acme-greeter", "1.4", "greeter", "acme_greeter", GREETER)
    result = run_govern("--json", "plugins", "list", "--hook", "govern_register_commands", cwd=tmp_path, env=env_with(site))
    assert [p["name"] for p in result.json()["result"]["plugins"]] == ["bagit", "governance", "greeter"]
    unknown = run_govern("plugins", "list", "--hook", "govern_nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "E_USAGE" in unknown.stderr and "govern_registry_kinds" in unknown.stderr


def test_a_third_party_plugin_command_runs_in_a_subprocess(site: Path, tmp_path: Path):
    install_plugin(site, "acme-greeter", "1.4", "greeter", "acme_greeter", GREETER)
    result = run_govern("hello", cwd=tmp_path, env=env_with(site))
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello from a plugin\n", "")


@pytest.mark.parametrize(
    "source,reason",
    [
        (BROKEN_IMPORT, "ModuleNotFoundError: No module named 'yaml_that_does_not_exist'"),
        (BAD_HOOK_NAME, "unknown hook govern_registy_kinds (did you mean govern_registry_kinds?)"),
    ],
    ids=["import-error", "bad-hook-name"],
)
def test_a_broken_plugin_is_one_warning_line_and_govern_keeps_working(site: Path, tmp_path: Path, source: str, reason: str):
    install_plugin(site, "broken-govern", "0.1", "broken", "broken_govern", source)
    result = run_govern("plugins", "list", cwd=tmp_path, env=env_with(site))
    assert result.returncode == 0
    assert result.stderr_lines == [
        f"govern: warning: plugin broken (broken-govern 0.1) failed to load: {reason} (disable it with GOVERN_DISABLE_PLUGINS=broken)"
    ]
    assert "failed to load:" in result.stdout and reason in result.stdout
    for strict in (["--strict-plugins"], []):
        env = env_with(site) if strict else env_with(site, GOVERN_STRICT_PLUGINS="1")
        fatal = run_govern(*strict, "plugins", "list", cwd=tmp_path, env=env)
        assert fatal.returncode == 2
        assert fatal.stderr_lines == [
            f"govern: error: E_PLUGIN_FAILED: plugin broken (broken-govern 0.1) failed to load: {reason} "
            "(disable it with GOVERN_DISABLE_PLUGINS=broken)"
        ]
    quiet = run_govern("plugins", "list", cwd=tmp_path, env=env_with(site, GOVERN_DISABLE_PLUGINS="broken"))
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_the_allow_list_and_block_list_reach_installed_plugins(site: Path, tmp_path: Path):
    install_plugin(site, "acme-greeter", "1.4", "greeter", "acme_greeter", GREETER)

    def loaded(**extra: str) -> list[str]:
        result = run_govern("--json", "plugins", "list", cwd=tmp_path, env=env_with(site, **extra))
        assert result.returncode == 0, result.stderr
        return [p["name"] for p in result.json()["result"]["plugins"]]

    assert "greeter" in loaded()
    assert "greeter" not in loaded(GOVERN_LOAD_PLUGINS="")
    assert "greeter" not in loaded(GOVERN_LOAD_PLUGINS="someone_else")
    assert "greeter" in loaded(GOVERN_LOAD_PLUGINS="greeter")
    assert "greeter" not in loaded(GOVERN_DISABLE_PLUGINS="greeter")
    assert "manifest_diff" not in loaded(GOVERN_DISABLE_PLUGINS="manifest_diff")


def test_config_disable_blocks_a_plugin_and_an_essential_one_is_refused_clearly(site: Path, tmp_path: Path):
    install_plugin(site, "acme-greeter", "1.4", "greeter", "acme_greeter", GREETER)
    workspace = ScratchWorkspace.create(tmp_path / "ws", disable=["greeter"])
    result = run_govern("-C", workspace.root, "--json", "plugins", "list", env=env_with(site))
    assert "greeter" not in [p["name"] for p in result.json()["result"]["plugins"]]
    assert {"name": "greeter", "source": "acme-greeter 1.4", "reason": "disabled by [plugins] disable"} in result.json()["result"]["not_loaded"]
    workspace.disable = ["delta_log"]
    workspace.write_config()
    refused = run_govern("-C", workspace.root, "registry", "list")
    assert refused.returncode == 2
    assert refused.stderr_lines == [
        "govern: error: E_PLUGIN_FAILED: cannot disable delta_log (named in [plugins] disable): govern cannot work "
        "without it (essential built-ins: delta_log, sha256_seal, unknown_basis)"
    ]


def test_a_plugin_raising_during_a_build_is_one_error_naming_it_and_nothing_is_written(site: Path, tmp_path: Path):
    install_plugin(site, "acme-differ", "3.0", "differ", "acme_differ", RAISES_IN_BUILD)
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"reg": {"kind": "sealed", "artifact": "R.json"}})
    workspace.run("2024-01-01__000000__one", {"R.json": "{}\n"})
    before = tree_state(workspace.root)
    result = run_govern("-C", workspace.root, "delta", "build", "--at", "2024-02-01T00:00:00Z", env=env_with(site))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr_lines == [
        "govern: error: E_PLUGIN_FAILED: plugin differ (acme-differ 3.0) raised in govern_delta_basis: "
        "RuntimeError: cannot diff reg (disable it with GOVERN_DISABLE_PLUGINS=differ)"
    ]
    after = tree_state(workspace.root)
    after.pop(b".codex/RUNS/.govern.lock", None)
    assert after == before
    fixed = run_govern("-C", workspace.root, "delta", "build", "--at", "2024-02-01T00:00:00Z", env=env_with(site, GOVERN_DISABLE_PLUGINS="differ"))
    assert fixed.returncode == 0, fixed.stderr


def test_in_process_helpers_register_a_plugin_object_like_an_installed_one():
    result = invoke_cli("--json", "plugins", "list", plugins={"acme": KindPlugin("acme")})
    plugins = {p["name"]: p for p in result.json()["result"]["plugins"]}
    assert plugins["acme"]["source"] == "test plugin"
    assert plugins["acme"]["kinds"] == ["acme"]
    later = invoke_cli("--json", "plugins", "list").json()["result"]["plugins"]
    assert "acme" not in {p["name"] for p in later}  # handed to that one call only


def test_plugins_list_still_lists_when_a_plugin_fails_to_declare_its_kinds():
    class BadKinds:
        @hookimpl
        def govern_registry_kinds(self):
            raise KeyError("kinds")

    result = invoke_cli("--json", "plugins", "list", plugins={"bad_kinds": BadKinds()})
    assert result.returncode == 0
    document = result.json()
    assert "bad_kinds" in [p["name"] for p in document["result"]["plugins"]]
    assert document["warnings"] == [
        "registry kinds not shown: plugin bad_kinds (test plugin) raised in govern_registry_kinds: KeyError: 'kinds' "
        "(disable it with GOVERN_DISABLE_PLUGINS=bad_kinds)"
    ]
