"""pyproject.toml lists every package of the source tree: a package left out would be missing
from a wheel (an editable install, as the tests use, would never notice)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_of_the_tree_is_listed_in_pyproject() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = set()
    for name, folder in setuptools["package-dir"].items():
        root = REPO / folder
        found.update(
            ".".join([name, *init.parent.relative_to(root).parts]) for init in root.rglob("__init__.py") if "__pycache__" not in init.parts
        )
    assert found - listed == set(), "packages missing from pyproject.toml [tool.setuptools] packages"
    assert listed - found == set(), "pyproject.toml lists packages that do not exist"
