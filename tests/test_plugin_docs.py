"""docs/plugins.md documents every hook, with the exact signature and kind of its hookspec
(datasette's ``tests/test_docs.py`` habit): a hook added, renamed or re-typed in
``govern.host.hookspecs`` without the docs following fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from govern.host import hookspecs
from govern.host.manager import PluginHost

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(govern_\w+)\((.*)\) -> (.+)`$", re.MULTILINE)


def signature_text(function) -> str:
    """``name(arg: Type, …) -> Return`` as the hookspec declares it (annotations as written)."""
    signature = inspect.signature(function)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{function.__name__}({params}) -> {signature.return_annotation}"


def hookspec_functions() -> dict[str, object]:
    return {name: getattr(hookspecs, name) for name in PluginHost.hook_names()}


@pytest.fixture(scope="module")
def documented() -> dict[str, tuple[str, str]]:
    """hook name -> (signature as documented, the section's text)."""
    text = DOC.read_text(encoding="utf-8")
    sections = {}
    matches = list(HEADING.finditer(text))
    for match, following in zip(matches, [*matches[1:], None]):
        end = following.start() if following else len(text)
        name, params, returns = match.groups()
        sections[name] = (f"{name}({params}) -> {returns}", text[match.end() : end])
    return sections


def test_every_hookspec_is_documented(documented):
    assert sorted(set(hookspec_functions()) - set(documented)) == [], "hooks missing from docs/plugins.md"


def test_no_hook_is_documented_that_does_not_exist(documented):
    assert sorted(set(documented) - set(hookspec_functions())) == [], "docs/plugins.md documents hooks govern does not have"


@pytest.mark.parametrize("name", PluginHost.hook_names())
def test_each_hook_is_documented_with_its_exact_signature(documented, name: str):
    function = hookspec_functions()[name]
    assert name in documented, f"{name} is not documented"
    assert documented[name][0] == signature_text(function)


@pytest.mark.parametrize("name", PluginHost.hook_names())
def test_each_hook_is_documented_as_collect_or_firstresult(documented, name: str):
    options = getattr(hookspecs, name).govern_spec
    kind = "*firstresult.*" if options.get("firstresult") else "*collect.*"
    assert documented[name][1].lstrip().startswith(kind), f"{name} should be documented as {kind}"


def test_every_hookspec_has_a_docstring():
    for name, function in hookspec_functions().items():
        assert inspect.getdoc(function), f"{name} has no docstring"


# --- the examples run as written (issue 11 point 13) -----------------------------------------

FENCED = re.compile(r"^```(python|toml)\n# ([\w./-]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: The files of the plugin and tests docs/plugins.md shows, by the path each block names.
EXAMPLE_FILES = ("acme_govern.py", "pyproject.toml", "conftest.py", "tests/test_acme.py")


def documented_files() -> dict[str, str]:
    """Each code block of docs/plugins.md whose first line names a file (``# path``), verbatim."""
    text = DOC.read_text(encoding="utf-8")
    return {path: f"# {path}\n{body}" for _language, path, body in FENCED.findall(text)}


def test_the_plugin_and_its_tests_are_all_in_the_docs():
    assert set(EXAMPLE_FILES) <= set(documented_files())


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, site): the documented files written out verbatim, and the distribution they
    make pip-installed (offline) into ``site``, as a user would install it."""
    from test_example_plugin import _can_build_offline, pip_install

    reason = _can_build_offline()
    if reason:
        pytest.fail(f"cannot build the documented plugin offline: {reason} (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("plugin_docs")
    project = root / "acme-govern"
    for path, text in documented_files().items():
        if path in EXAMPLE_FILES:
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_text(text, encoding="utf-8")
    site = root / "site"
    pip_install(project, site)
    return project, site


def test_the_documented_plugin_installs_and_is_listed(installed_example: tuple[Path, Path], tmp_path: Path):
    from helpers import run_govern

    _project, site = installed_example
    result = run_govern("--json", "plugins", "list", cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert (result.returncode, result.json()["warnings"]) == (0, []), result.stderr
    plugins = {p["name"]: p for p in result.json()["result"]["plugins"]}
    assert plugins["acme"] == {
        "name": "acme",
        "source": "acme-govern 1.0",
        "hooks": ["govern_discover_snapshots", "govern_exclusion", "govern_registry_kinds"],
        "kinds": ["acme_db", "acme_rows"],
    }


def test_the_documented_tests_pass_against_the_documented_plugin(installed_example: tuple[Path, Path]):
    """The docs' test example, run with pytest in a subprocess, as its author would."""
    import os
    import subprocess
    import sys

    project, site = installed_example
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVERN_", "PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(site)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout, completed.stdout


# --- the models and helpers a plugin author uses ---------------------------------------------

MEMBER_ROW = re.compile(r"^\| `(\w+)(\(.*?\))?` \| `(.+?)` \|", re.MULTILINE)


def documented_members(class_name: str) -> dict[str, tuple[str | None, str]]:
    """member -> (its documented parameters, its documented type) from the table under ``### `CLASS```."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"### `{class_name}`\n")
    end = text.find("\n##", start + 1)
    return {
        name: (params, kind.replace("\\|", "|"))
        for name, params, kind in MEMBER_ROW.findall(text[start:end])
    }


def public_members(cls: type) -> dict[str, str]:
    """Every public field, property and method of a model -> its type as annotated."""
    import attrs

    members: dict[str, str] = {}
    if attrs.has(cls):
        members.update({field.name: str(field.type) for field in attrs.fields(cls)})
    for name, value in vars(cls).items():
        if name.startswith("_") or name in members:
            continue
        function = value.fget if isinstance(value, property) else getattr(value, "func", value)
        if callable(function):
            members[name] = str(inspect.signature(function).return_annotation)
    return members


@pytest.mark.parametrize("class_name", ["RunView", "Snapshot", "Delta", "RegistryKind", "SourceVersion"])
def test_every_member_of_the_models_is_documented_with_its_type(class_name: str, tmp_path: Path):
    from govern import api

    cls = getattr(api, class_name)
    expected = public_members(cls)
    if class_name == "RunView":  # plain class: its attributes are set in __init__
        expected.update(run_id="str", runs="RunStore")
        assert set(vars(cls(tmp_path))) == {"run_id", "runs"}
    documented = documented_members(class_name)
    assert sorted(set(expected) - set(documented)) == [], f"{class_name} members missing from docs/plugins.md"
    assert sorted(set(documented) - set(expected)) == [], f"docs/plugins.md documents {class_name} members that do not exist"
    for name, annotation in expected.items():
        assert documented[name][1] == annotation, f"{class_name}.{name}"


@pytest.mark.parametrize("name", ["discover_artifact_snapshots", "sealed_file_bytes", "manifest_delta"])
def test_each_recommended_helper_is_documented_with_its_exact_signature(name: str):
    from govern import api

    text = DOC.read_text(encoding="utf-8")
    assert f"#### `{signature_text(getattr(api, name))}`\n" in text
