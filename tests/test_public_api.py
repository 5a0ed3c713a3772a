"""``govern.api``, the one module a plugin imports (issue 12, point 5).

Its ``__all__`` is the supported API: every name in it importable and documented, every type a
hook receives or returns among them, the docs' reference table listing exactly those names;
docs/plugins.md and the example plugin import govern only through ``govern.api`` and
``govern.testing``; and importing it never pulls in the command line.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import govern.api

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "plugins.md"
HOOKSPECS = REPO / "core" / "host" / "hookspecs.py"
EXAMPLE = REPO / "examples" / "govern-jsonl-records"
#: The modules a plugin (and its tests) may import govern through.
PUBLIC_MODULES = {"govern.api", "govern.testing"}
#: Names in hookspec signatures that are not govern's: the standard library's and typer's
#: (``govern_register_commands`` receives the typer app; a plugin imports typer itself).
FOREIGN_TYPES = {"Any", "Path", "Sequence", "datetime", "typer"}


def test_all_names_exactly_the_public_objects_of_the_module():
    names = govern.api.__all__
    assert len(names) == len(set(names)), "a name is listed twice in govern.api.__all__"
    defined = {name for name in vars(govern.api) if not name.startswith("_")} - {"annotations"}
    assert sorted(defined - set(names)) == [], "public names of govern.api missing from __all__"
    assert sorted(set(names) - defined) == [], "__all__ names objects govern.api does not have"


@pytest.mark.parametrize("name", govern.api.__all__)
def test_each_public_name_is_importable_documented_and_the_object_govern_uses(name: str):
    namespace: dict[str, object] = {}
    exec(f"from govern.api import {name}", namespace)
    value = namespace[name]
    assert (value.__doc__ or "").strip(), f"govern.api.{name} has no docstring"
    # A re-export, not a copy: the object govern's own code uses (isinstance checks hold).
    if hasattr(value, "__module__") and value.__module__.startswith("govern."):
        assert getattr(importlib.import_module(value.__module__), name) is value


def test_the_api_reference_table_lists_exactly_all():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## The public API: `govern.api`\n")
    section = text[start : text.index("\n## ", start + 1)]
    listed = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    assert listed == list(govern.api.__all__), "docs/plugins.md's govern.api table and __all__ differ (same order)"


def _names_in_annotation(node: ast.expr | None) -> set[str]:
    """Every top-level name an annotation uses (``typer.Typer`` → ``typer``)."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        node = ast.parse(node.value, mode="eval").body
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def hookspec_types() -> dict[str, str]:
    """Every type name in a hookspec signature (parameters and return) -> the module
    ``core/host/hookspecs.py`` imports it from (read from its source: several are imported only
    for type checking)."""
    tree = ast.parse(HOOKSPECS.read_text(encoding="utf-8"))
    origins = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origins.update({alias.asname or alias.name: node.module for alias in node.names})
        elif isinstance(node, ast.Import):
            origins.update({alias.asname or alias.name: alias.name for alias in node.names})
    used: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("govern_"):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for annotation in [node.returns, *(argument.annotation for argument in arguments)]:
                used |= _names_in_annotation(annotation)
    return {name: origins.get(name, "?") for name in used - set(dir(builtins))}


def test_every_type_a_hook_receives_or_returns_is_exported():
    types = hookspec_types()
    assert {"Registry", "Workspace", "RunView", "Snapshot", "Delta", "SealResult", "SealCheck"} <= set(types)  # the scan works
    govern_types = {name: module for name, module in types.items() if name not in FOREIGN_TYPES}
    assert all(module.startswith("govern.") for module in govern_types.values()), govern_types
    assert sorted(set(govern_types) - set(govern.api.__all__)) == [], "hookspec types govern.api does not export"
    for name, module in govern_types.items():
        assert getattr(govern.api, name) is getattr(importlib.import_module(module), name), name


def _govern_imports(source: str) -> list[str]:
    """The govern modules a piece of Python source imports (``from govern import x`` → ``govern``)."""
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [module for module in modules if module == "govern" or module.startswith("govern.")]


def documented_python() -> list[str]:
    """Every fenced Python block of docs/plugins.md."""
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_the_docs_code_imports_govern_only_through_the_public_modules():
    blocks = documented_python()
    imported = [module for block in blocks for module in _govern_imports(block)]
    assert "govern.api" in imported  # the scan sees the examples
    assert sorted(set(imported) - PUBLIC_MODULES) == [], "docs/plugins.md examples import govern internals"
    # The prose sends plugin authors nowhere else either.
    prose = re.sub(r"^```.*?^```$", "", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    assert re.findall(r"from govern(?:\.\w+)* import", prose) == ["from govern.testing import"]


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*.py")), ids=str
)
def test_the_example_plugin_imports_govern_only_through_the_public_modules(path: str):
    imported = _govern_imports((EXAMPLE / path).read_text(encoding="utf-8"))
    assert sorted(set(imported) - PUBLIC_MODULES) == [], f"{path} imports govern internals"


def test_the_example_plugin_uses_the_public_api():
    plugin = (EXAMPLE / "src" / "govern_jsonl_records" / "plugin.py").read_text(encoding="utf-8")
    assert "govern.api" in _govern_imports(plugin)


def test_importing_the_api_does_not_import_the_command_line():
    probe = (
        "import sys, govern.api; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click') or m.startswith('govern.cli'))))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == []


def test_hookimpl_is_the_marker_of_the_govern_project():
    import govern

    assert govern.api.hookimpl is govern.hookimpl
    assert govern.api.hookimpl.project_name == govern.PROJECT_NAME
