"""Finding the workspace: the directory holding ``registry_config.toml`` (docs/configuration.md).

Found like git finds a repository: ``-C/--workspace DIR``, else walking up from the current
directory. Kept apart from :mod:`govern.config.workspace` because every command (``--help`` included)
looks for the workspace early, to read ``[plugins] disable`` before plugins load, and must
not pay for the config models' imports (attrs, cattrs) to do so.
"""

from __future__ import annotations

import os

# Not `from typing import TYPE_CHECKING`: typing costs ~2 ms that verify's quick answer does
# not otherwise pay (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

#: The config file whose directory is the workspace.
CONFIG_NAME = "registry_config.toml"


def nearest_workspace(start: str) -> str | None:
    """The nearest of ``start`` (made absolute, symlinks resolved) and its ancestors holding
    the config file, or None: the walk :func:`find_workspace_root` makes, with no import beyond
    :mod:`os` (``govern verify``'s quick check looks for a workspace too)."""
    here = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(here, CONFIG_NAME)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def find_workspace_root(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The workspace directory: ``explicit`` if given, else the nearest ancestor with the config."""
    # Imported here: this module is read before anything else is (see the module's docstring).
    from pathlib import Path

    from govern.errors import GovernError

    if explicit is not None:
        explicit = Path(explicit)
        if not (explicit / CONFIG_NAME).is_file():
            raise GovernError("E_WORKSPACE_NOT_FOUND", f"{explicit}: no {CONFIG_NAME} here (run 'govern init {explicit}' to create one)")
        return explicit.resolve()
    found = nearest_workspace(os.fspath(start) if start is not None else os.getcwd())
    if found is not None:
        return Path(found)
    raise GovernError(
        "E_WORKSPACE_NOT_FOUND",
        f"no {CONFIG_NAME} in {Path(start or Path.cwd()).resolve()} or any parent directory (use -C DIR, or 'govern init')",
    )
