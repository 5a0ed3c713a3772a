"""A run named on the command line: a path to its folder, or a bare run id in the workspace
(on object storage: a run read through the workspace's run store)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from govern.cli.state import CliState
from govern.errors import GovernError
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.format.manifest import SealCheck
    from govern.runtime.progress import Progress


def stored_run_id(state: CliState, given: Path) -> str | None:
    """The run id ``given`` names when it is a bare run id (not a local folder) and the
    workspace's runs root is on object storage, where the run is read through the run store;
    None for anything :func:`run_folder` resolves.

    E_NOT_A_RUN for a name no run can have, E_NOT_A_DIRECTORY when the store holds no such run.
    """
    from govern.format.paths import is_run_id

    if given.is_dir() or len(given.parts) != 1:
        return None
    workspace = state.workspace(needs_kind_plugins=False)
    if workspace.runs_root_is_local:
        return None
    run_id = given.name
    if not is_run_id(run_id):
        raise GovernError("E_NOT_A_RUN", f"{given}: not a run id; a run is named YYYY-MM-DD__HHMMSS__slug (slug: a-z, 0-9, _)")
    if not workspace_runs(workspace).exists(run_id):
        raise GovernError("E_NOT_A_DIRECTORY", f"{given}: no such run folder (a path) nor run in the runs root {workspace.runs_location}")
    return run_id


def run_seal(state: CliState, given: Path, deep: bool, progress: Progress) -> tuple[str, SealCheck]:
    """The seal check of the run ``given`` names (``deep``: and every payload file), and where
    the run is (its folder, or its URL on object storage): the seal plugin's check of a local
    folder, or the run store's of a stored run (:func:`govern.log.verification.seal_check`)."""
    from govern.log.verification import seal_check

    run_id = stored_run_id(state, given)
    if run_id is None:
        folder = run_folder(state, given)
        return str(folder), state.plugins().verify_seal(folder, deep, progress)
    workspace = state.workspace(needs_kind_plugins=False)
    return workspace.run_location(run_id), seal_check(workspace_runs(workspace), run_id, state.plugins(), deep=deep, progress=progress)


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
