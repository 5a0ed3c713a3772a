"""Scratch workspaces for the governance tests: the seed's baseline books, the reference runs.

The baseline books (35 operations, 30 at C3+, 164 executables, a frozen catalog of the 12
reference registries) are written in-process by the same code as
``scripts/make_reference_governance.py``; every command under test then runs as the installed
console script in a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from helpers import run_govern, tree_state

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_reference_governance.py"
#: The seed's change moment, and a moment after it.
CHANGE_AT = "2026-02-05T03:10:05Z"
LATER_AT = "2026-02-06T00:00:00Z"
GOVERNANCE = "governance"
CATALOG = "governance/ALLOWED_OPERATIONS_CATALOG.json"
MATRIX = "governance/ENFORCEMENT_COVERAGE_MATRIX.json"
SCORECARD = "governance/GOVERNANCE_COMPLETENESS_SCORECARD.json"
REGISTRY_CATALOG = "governance/REGISTRY_CATALOG.json"
ADDENDUM = "governance/addenda/REGISTRY_CATALOG_ADDENDUM_v0_1__phase_2_2_3.json"
OP_QA11 = ("OP-QA11", "--title", "Registry Delta Log Build", "--executable", "govern delta build", "--coverage", "C3", "--enforcement", "E1,E2,E5,E6,E7")


def reference_script():
    """``scripts/make_reference_governance.py`` as a module."""
    spec = importlib.util.spec_from_file_location("make_reference_governance", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def baseline_workspace(root: Path) -> Path:
    """A workspace at ``root`` with the reference config and the v0.1 baseline books (no runs)."""
    from govern.format.jsonio import dump_canonical
    from govern.store.atomic import write_atomic

    root.mkdir(parents=True)
    shutil.copyfile(REPO / "registry_config.toml", root / "registry_config.toml")
    (root / ".codex" / "RUNS").mkdir(parents=True)
    (root / GOVERNANCE).mkdir()
    for document in reference_script().baseline_books(root):
        write_atomic(root / GOVERNANCE / document.relpath, dump_canonical(document.to_json()))
    return root


def reference_copy(root: Path) -> Path:
    """A full copy of the reference workspace (config, schemas, governance, runs) at ``root``."""
    root.mkdir(parents=True)
    shutil.copyfile(REPO / "registry_config.toml", root / "registry_config.toml")
    for part in ("schemas", GOVERNANCE, ".codex/RUNS"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns(".govern.lock", "__pycache__", "*.py"))
    return root


def read(root: Path, relpath: str) -> dict[str, Any]:
    """A JSON document of the workspace, parsed."""
    return json.loads((root / relpath).read_bytes())


def write(root: Path, relpath: str, document: dict[str, Any]) -> None:
    """Overwrite a document by hand (not canonically: as a person editing it would)."""
    (root / relpath).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def governance_state(root: Path) -> dict:
    """A photograph of the governance directory (bytes and mtimes of every file)."""
    return tree_state(root / GOVERNANCE)


def gov(root: Path, *args: str, env: dict[str, str] | None = None):
    """``govern -C root ARGS`` with built-in plugins only."""
    return run_govern("-C", root, *args, env={"GOVERN_LOAD_PLUGINS": "", **(env or {})})


def figures(root: Path) -> tuple:
    """(operations, at C3+, percent, executables, sealed/total) of the stored scorecard."""
    card = read(root, SCORECARD)["figures"]
    share = card["at_or_above_threshold"]
    sealed = card["sealed_registries"]
    return card["operations"], share["count"], share["percent"], card["executables"], f"{sealed['sealed']}/{sealed['total']}"
