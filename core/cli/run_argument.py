"""A run named on the command line: a path to its folder, or a bare run id in the workspace."""

from __future__ import annotations

import os
from pathlib import Path

from govern.cli.state import CliState
from govern.errors import GovernError


def run_folder(state: CliState, given: Path) -> Path:
    """The run folder ``given`` names (``govern verify``, ``govern diff``): an existing folder
    (its absolute path: the run id is the folder's name, so "." or "sub/.." must become it),
    or a bare run id looked up in the workspace's runs root.

    E_NOT_A_DIRECTORY when there is no such folder; E_NOT_A_RUN for a folder no run can be —
    its name is not a run id, and a sealed run's manifest names its folder — so ``verify
    /etc`` is a wrong argument, not a run missing its seal.
    """
    from govern.format.paths import is_run_id

    if given.is_dir():
        run_dir = Path(os.path.abspath(given))
    elif len(given.parts) == 1 and (state.workspace(needs_kind_plugins=False).runs_root / given).is_dir():
        # Only seals are read: a kind whose plugin is not installed is a warning here.
        run_dir = state.workspace(needs_kind_plugins=False).runs_root / given
    else:
        raise GovernError("E_NOT_A_DIRECTORY", f"{given}: no such run folder (a path, or a run id under the workspace's runs root)")
    if not is_run_id(run_dir.name):
        raise GovernError("E_NOT_A_RUN", f"{run_dir}: not a run folder; a run is named YYYY-MM-DD__HHMMSS__slug (slug: a-z, 0-9, _)")
    return run_dir
