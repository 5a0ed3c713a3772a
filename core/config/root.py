"""Finding the workspace: the directory holding ``registry_config.toml`` (docs/configuration.md).

Found like git finds a repository: ``-C/--workspace DIR``, else walking up from the current
directory. Kept apart from :mod:`govern.config.workspace` because every command (``--help`` included)
looks for the workspace early, to read ``[plugins] disable`` before plugins load, and must
not pay for the config models' imports (attrs, cattrs) to do so.
"""

from __future__ import annotations

from pathlib import Path

from govern.errors import GovernError

#: The config file whose directory is the workspace.
CONFIG_NAME = "registry_config.toml"


def find_workspace_root(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The workspace directory: ``explicit`` if given, else the nearest ancestor with the config."""
    if explicit is not None:
        explicit = Path(explicit)
        if not (explicit / CONFIG_NAME).is_file():
            raise GovernError("E_WORKSPACE_NOT_FOUND", f"{explicit}: no {CONFIG_NAME} here (run 'govern init {explicit}' to create one)")
        return explicit.resolve()
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise GovernError(
        "E_WORKSPACE_NOT_FOUND",
        f"no {CONFIG_NAME} in {here} or any parent directory (use -C DIR, or 'govern init')",
    )
