"""The layering of core/ (docs/architecture.md): the import-linter contract has no exception."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_layers_contract_has_no_ignored_import():
    """The config layer never reaches up into runs: the run store is built by the runs layer
    (workspace_runs) over Workspace.store(), so the layers contract needs no exception."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layers and all(not contract.get("ignore_imports") for contract in layers)


def test_no_module_of_the_config_layer_imports_the_runs_layer():
    """Not even lazily or under TYPE_CHECKING (import-linter sees both)."""
    for source in sorted((ROOT / "core" / "config").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            assert not any(name.startswith(("govern.runs", "govern.log", "govern.host")) for name in names), (source, names)
