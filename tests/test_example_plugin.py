"""The example third-party plugin (examples/govern-jsonl-records), pip-installed and driven
through the ``govern`` console script.

The plugin is installed with pip — offline (``--no-index --no-deps --no-build-isolation``,
building with the setuptools of this environment) — into a temporary ``--target`` folder put
on ``PYTHONPATH`` for the ``govern`` subprocesses: a real installation with a real entry point,
that never touches the test environment itself. The source is copied first, so the build
leaves nothing in the repository. Broken copies (an import error, a misspelt hook) are
installed the same way to show they do not take govern down.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govern.testing import ScratchWorkspace
from helpers import run_govern

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "govern-jsonl-records"
PLUGIN_MODULE = Path("src") / "govern_jsonl_records" / "plugin.py"
ARTIFACT = "RUNS.jsonl"
BUILD_AT = "2024-03-01T00:00:00Z"


def _can_build_offline() -> str | None:
    """Why a local build is impossible here (None when it is possible)."""
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed in the test environment (needed to build without network access)"
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        return "this setuptools needs the 'wheel' package to build a wheel, and it is not installed"
    return None


def copy_example(destination: Path) -> Path:
    """A clean copy of the example's source (no build debris)."""
    shutil.copytree(
        EXAMPLE,
        destination,
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"),
    )
    return destination


def pip_install(source: Path, site: Path) -> None:
    """``pip install`` ``source`` into ``site``, offline; fails the test with pip's output."""
    completed = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-index", "--no-deps", "--no-build-isolation", "--target", str(site), str(source),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
        timeout=300,
    )
    if completed.returncode != 0:
        pytest.fail(f"pip install {source} failed:\n{completed.stdout}\n{completed.stderr}")


@pytest.fixture(scope="module")
def installs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """site folders: ``good`` (the example as is), ``import_error`` and ``bad_hook`` (broken copies)."""
    reason = _can_build_offline()
    if reason:
        # The test extra installs the build backend (pyproject.toml), so this is a broken
        # environment, not a reason to pass silently.
        pytest.fail(f"cannot build the example plugin offline: {reason} (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("example_plugin")
    sites = {}
    breakages = {
        "good": None,
        "import_error": lambda text: text + "\nimport govern_jsonl_records_missing_dependency  # deliberately broken\n",
        "bad_hook": lambda text: text.replace("def govern_registry_kinds(", "def govern_registy_kinds("),
    }
    for name, breakage in breakages.items():
        source = copy_example(root / f"src_{name}")
        if breakage is not None:
            module = source / PLUGIN_MODULE
            module.write_text(breakage(module.read_text(encoding="utf-8")), encoding="utf-8")
        sites[name] = root / f"site_{name}"
        pip_install(source, sites[name])
    return sites


def env_for(site: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(site), **extra}


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


@pytest.fixture
def workspace(tmp_path: Path) -> ScratchWorkspace:
    """A workspace with one jsonl_records registry and two sealed snapshots of it."""
    workspace = ScratchWorkspace.create(
        tmp_path / "ws", {"runs": {"kind": "jsonl_records", "artifact": ARTIFACT, "options": {"key": "run_id"}}}
    )
    workspace.run("2024-01-01__000000__first", {ARTIFACT: jsonl({"run_id": "r1", "ok": True}, {"run_id": "r2", "ok": True})})
    workspace.run("2024-01-02__000000__second", {ARTIFACT: jsonl({"run_id": "r1", "ok": False}, {"run_id": "r3", "ok": True})})
    return workspace


def test_the_installed_plugin_is_listed_with_its_distribution_hooks_and_kind(installs: dict[str, Path], tmp_path: Path):
    result = run_govern("--json", "plugins", "list", cwd=tmp_path, env=env_for(installs["good"]))
    assert (result.returncode, result.json()["warnings"]) == (0, []), result.stderr
    plugins = {p["name"]: p for p in result.json()["result"]["plugins"]}
    assert plugins["jsonl_records"] == {
        "name": "jsonl_records",
        "source": "govern-jsonl-records 0.1.0",
        "hooks": ["govern_delta_basis", "govern_discover_snapshots", "govern_registry_kinds"],
        "kinds": ["jsonl_records"],
    }


def test_delta_build_records_changed_records_by_key(installs: dict[str, Path], workspace: ScratchWorkspace):
    env = env_for(installs["good"])
    built = run_govern("-C", workspace.root, "delta", "build", "--at", BUILD_AT, env=env)
    assert (built.returncode, built.stderr) == (0, ""), built.stderr
    bootstrap, transition = workspace.log_records()
    assert bootstrap["added_paths"] == [ARTIFACT, f"{ARTIFACT}#r1", f"{ARTIFACT}#r2"]
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == (
        [f"{ARTIFACT}#r3"],
        [f"{ARTIFACT}#r2"],
        [ARTIFACT, f"{ARTIFACT}#r1"],
    )
    assert {bootstrap["delta_basis"], transition["delta_basis"]} == {"manifest_diff"}
    verified = run_govern("-C", workspace.root, "verify", "--log", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = run_govern("-C", workspace.root, "--json", "delta", "show", "--path", f"{ARTIFACT}#r2", env=env)
    assert [r["to_ref"]["run_id"] for r in shown.json()["result"]["records"]] == [
        "2024-01-01__000000__first",
        "2024-01-02__000000__second",
    ]


def test_registry_add_and_list_know_the_plugins_kind(installs: dict[str, Path], tmp_path: Path):
    env = env_for(installs["good"])
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    missing_key = run_govern("-C", workspace.root, "registry", "add", "runs", "--kind", "jsonl_records", "--artifact", ARTIFACT, env=env)
    assert missing_key.returncode == 2 and "registries.runs.options.key: required for kind 'jsonl_records'" in missing_key.stderr
    added = run_govern("-C", workspace.root, "registry", "add", "runs", "--kind", "jsonl_records", "--artifact", ARTIFACT, "--option", "key=run_id", env=env)
    assert added.returncode == 0, added.stderr
    listed = run_govern("-C", workspace.root, "--json", "registry", "list", env=env).json()["result"]
    assert [(r["registry_id"], r["kind"], r["status"]) for r in listed["registries"]] == [("runs", "jsonl_records", "covered")]


def test_govern_disable_plugins_blocks_it(installs: dict[str, Path], workspace: ScratchWorkspace, tmp_path: Path):
    env = env_for(installs["good"], GOVERN_DISABLE_PLUGINS="jsonl_records")
    listed = run_govern("--json", "plugins", "list", cwd=tmp_path, env=env)
    assert "jsonl_records" not in [p["name"] for p in listed.json()["result"]["plugins"]]
    assert {"name": "jsonl_records", "source": "govern-jsonl-records 0.1.0", "reason": "disabled by GOVERN_DISABLE_PLUGINS"} in listed.json()["result"]["not_loaded"]
    # A workspace that needs the kind now says which kinds are installed.
    build = run_govern("-C", workspace.root, "delta", "build", "--at", BUILD_AT, env=env)
    assert build.returncode == 2
    assert build.stderr_lines == [
        f"govern: error: E_CONFIG_UNKNOWN_KIND: {workspace.root.resolve() / 'registry_config.toml'}: registries.runs.kind: "
        "no installed plugin handles kind 'jsonl_records' (installed kinds: bagit, collection, external, git, ocfl_object, presentation, sealed, sql_table)"
    ]
    assert workspace.latest_build() is None


def test_checks_of_seals_and_the_log_need_no_plugin_only_a_build_does(installs: dict[str, Path], workspace: ScratchWorkspace):
    # Issue 11, point 7: the pipeline's machine has the plugin and builds; the auditor's does
    # not have it, and must still be able to check every seal and the log.
    built = run_govern("-C", workspace.root, "delta", "build", "--at", BUILD_AT, env=env_for(installs["good"]))
    assert built.returncode == 0, built.stderr
    warning = (
        f"govern: warning: {workspace.root.resolve() / 'registry_config.toml'}: registries.runs.kind: no installed plugin "
        "handles kind 'jsonl_records'; checking seals and the log does not need it, building does "
        "(install the plugin that provides it: entry-point group 'govern')"
    )
    for args in (["verify", "--all"], ["verify", "--log"], ["verify", "--all", "--log"], ["delta", "show"], ["validate"]):
        checked = run_govern("-C", workspace.root, *args)  # no PYTHONPATH: the plugin is not installed here
        assert (checked.returncode, checked.stderr_lines) == (0, [warning]), (args, checked.stdout + checked.stderr)
    as_json = run_govern("-C", workspace.root, "--json", "verify", "--all", "--log").json()
    assert (as_json["exit_code"], as_json["warnings"]) == (0, [warning.removeprefix("govern: warning: ")])
    # Where the kind's code must run, it stays an error, and nothing is written.
    workspace.run("2024-01-03__000000__third", {ARTIFACT: jsonl({"run_id": "r1", "ok": True})})
    build = run_govern("-C", workspace.root, "delta", "build", "--at", "2024-03-02T00:00:00Z")
    assert build.returncode == 2
    assert build.stderr_lines[0].startswith("govern: error: E_CONFIG_UNKNOWN_KIND: ")
    assert workspace.latest_build().name.startswith("2024-03-01__")


@pytest.mark.parametrize(
    "broken,reason",
    [
        ("import_error", "ModuleNotFoundError: No module named 'govern_jsonl_records_missing_dependency'"),
        ("bad_hook", "unknown hook govern_registy_kinds (did you mean govern_registry_kinds?)"),
    ],
)
def test_a_broken_copy_is_one_warning_and_govern_keeps_working(installs: dict[str, Path], tmp_path: Path, broken: str, reason: str):
    site = installs[broken]
    line = (
        f"govern: warning: plugin jsonl_records (govern-jsonl-records 0.1.0) failed to load: {reason} "
        "(disable it with GOVERN_DISABLE_PLUGINS=jsonl_records)"
    )
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"plain": {"kind": "sealed", "artifact": "P.json"}})
    workspace.run("2024-01-01__000000__first", {"P.json": "{}\n"})
    for args in (["plugins", "list"], ["delta", "build", "--at", BUILD_AT], ["registry", "list"]):
        result = run_govern("-C", workspace.root, *args, env=env_for(site))
        assert (result.returncode, result.stderr_lines) == (0, [line]), (args, result.stderr)
    assert len(workspace.log_records()) == 1
    strict = run_govern("-C", workspace.root, "--strict-plugins", "registry", "list", env=env_for(site))
    assert strict.returncode == 2
    assert strict.stderr_lines == [line.replace("govern: warning: ", "govern: error: E_PLUGIN_FAILED: ")]


def test_the_examples_own_test_suite_passes_with_govern_testing(installs: dict[str, Path], tmp_path: Path):
    source = copy_example(tmp_path / "example")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
        cwd=source,
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GOVERN_")}, "PYTHONPATH": str(installs["good"])},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout


# Issue 12 point 3: a third-party plugin answering `[]` for every registry (instead of None for
# the kinds it does not declare) used to hide the snapshots of every other kind.
DISCOVERS_NOTHING = '''
from govern import hookimpl
from govern.format.models import RegistryKind


@hookimpl
def govern_registry_kinds():
    return [RegistryKind("acme_db", "a kind of the acme plugin")]


@hookimpl(tryfirst=True)
def govern_discover_snapshots(registry, workspace, runs):
    return []
'''

DISCOVERS_NOTHING_PROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-discovers-nothing"
version = "1.0"

[project.entry-points.govern]
discovers_nothing = "acme_discovers_nothing"

[tool.setuptools]
py-modules = ["acme_discovers_nothing"]
'''


def test_an_installed_plugin_discovering_nothing_hides_neither_sealed_nor_the_examples_snapshots(
    installs: dict[str, Path], tmp_path: Path
):
    project = tmp_path / "acme-discovers-nothing"
    project.mkdir()
    (project / "pyproject.toml").write_text(DISCOVERS_NOTHING_PROJECT, encoding="utf-8")
    (project / "acme_discovers_nothing.py").write_text(DISCOVERS_NOTHING, encoding="utf-8")
    pip_install(project, tmp_path / "site_nothing")
    env = {"PYTHONPATH": os.pathsep.join([str(installs["good"]), str(tmp_path / "site_nothing")])}
    workspace = ScratchWorkspace.create(
        tmp_path / "ws",
        {
            "books": {"kind": "sealed", "artifact": "BOOKS.json"},
            "runs": {"kind": "jsonl_records", "artifact": ARTIFACT, "options": {"key": "run_id"}},
        },
    )
    workspace.run("2024-01-01__000000__first", {"BOOKS.json": "{}\n", ARTIFACT: jsonl({"run_id": "r1"})})
    workspace.run("2024-01-02__000000__second", {"BOOKS.json": '{"v": 2}\n', ARTIFACT: jsonl({"run_id": "r1"}, {"run_id": "r2"})})
    listed = run_govern("--json", "plugins", "list", cwd=tmp_path, env=env)
    assert {"discovers_nothing", "jsonl_records"} <= {p["name"] for p in listed.json()["result"]["plugins"]}, listed.stderr
    built = run_govern("-C", workspace.root, "delta", "build", "--at", BUILD_AT, env=env)
    assert (built.returncode, built.stderr) == (0, ""), built.stdout + built.stderr
    recorded = [(r["registry_id"], r["to_ref"]["run_id"], r["added_paths"], r["modified_paths"]) for r in workspace.log_records()]
    assert sorted(recorded) == [
        ("books", "2024-01-01__000000__first", ["BOOKS.json"], []),
        ("books", "2024-01-02__000000__second", [], ["BOOKS.json"]),
        ("runs", "2024-01-01__000000__first", [ARTIFACT, f"{ARTIFACT}#r1"], []),
        ("runs", "2024-01-02__000000__second", [f"{ARTIFACT}#r2"], [ARTIFACT]),
    ]
