"""``--changed PATH…`` (``verify``, ``validate``): the files of a commit, as a git hook such as
pre-commit passes them, turned into the runs of the workspace that hold them (docs/ci.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govern.cli.state import CliState
from govern.errors import GovernError

if TYPE_CHECKING:
    from govern.config.workspace import Workspace
    from govern.runs.changed_paths import ChangedRuns

#: Why --changed needs a folder: the paths are files of a work tree, the runs a folder of it.
_LOCAL_ONLY = "--changed maps the files of a git work tree to run folders: it needs a local runs root (use 'govern verify --all' for object storage)"


def changed_workspace(state: CliState, *, needs_kind_plugins: bool) -> Workspace:
    """The workspace, with the hint a git hook needs when it is not found: a hook runs at the
    repository's root, and a workspace in a sub-folder is named with ``-C``."""
    try:
        return state.workspace(needs_kind_plugins=needs_kind_plugins)
    except GovernError as error:
        if error.code != "E_WORKSPACE_NOT_FOUND":
            raise
        raise GovernError(
            error.code,
            f"{error.message}; in a pre-commit hook, name the workspace with args: [-C, path/to/workspace] (docs/ci.md)",
        ) from None


def changed_runs_of(workspace: Workspace, given: Sequence[Path]) -> tuple[Path, ChangedRuns]:
    """The workspace's local runs root and the runs in it holding the paths ``given``
    (relative to the current directory, as a hook passes them)."""
    from govern.runs.changed_paths import changed_runs

    runs_root = workspace.local_runs_root(_LOCAL_ONLY)
    return runs_root, changed_runs(given, runs_root)
