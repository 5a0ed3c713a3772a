"""Writing a new sealed run from a plugin's payload: staged, sealed, then put in place at once.

``govern snapshot`` (the ``govern_snapshot`` hook) writes runs this way. On a local runs root
the run is staged in a hidden folder beside the runs (:data:`govern.store.atomic.TEMP_PREFIX`,
which the next locked writer removes if a crash left it), sealed, fsynced, then renamed into
place: readers see the whole sealed run or nothing. On an ``s3://`` runs root it is written and
sealed in a private local temporary folder named after the run, which the caller publishes
(:func:`govern.runs.publishing.publish_sealed_run`) and then removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.runs.run_store import workspace_runs
from govern.runtime import interrupts
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.sealing import seal_run
from govern.store.atomic import TEMP_PREFIX, fsync_directory, io_error


def write_new_run(workspace: Workspace, run_id: str, write_payload: Callable[[Path], dict[str, Any]], progress: Progress = NO_PROGRESS) -> Path:
    """Write the run ``run_id``: ``write_payload(folder)`` fills a staging folder and returns
    the run.json document (what it read is known only then), the folder is sealed with it and
    moved into place; return the run's folder
    (for an ``s3://`` runs root, a local temporary folder the caller publishes and removes).

    E_RUN_EXISTS (exit 1) when the runs root already holds ``run_id`` (runs are never
    overwritten). Whatever ``write_payload`` or sealing raises leaves nothing behind.
    Call under the workspace lock on a local runs root.
    """
    local = workspace.runs_root_is_local
    if workspace_runs(workspace).exists(run_id):
        raise GovernError("E_RUN_EXISTS", f"{workspace.run_location(run_id)}: a run of that name already exists; it is never overwritten")
    parent = workspace.runs_root if local else Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    staging = parent / (f"{TEMP_PREFIX}{run_id}" if local else run_id)
    try:
        staging.mkdir()
    except OSError as exc:
        if not local:
            shutil.rmtree(parent, ignore_errors=True)
        raise io_error("create", staging, exc, "no run was written") from None
    try:
        with interrupts.staging():
            envelope = write_payload(staging)
            seal_run(staging, envelope=envelope, reseal=False, progress=progress)
            if not local:
                return staging
            final = parent / run_id
            with interrupts.commit_point():
                try:
                    # os.rename would replace an empty folder of that name: checked just before, under the lock.
                    if final.exists() or final.is_symlink():
                        raise GovernError("E_RUN_EXISTS", f"{final}: a run of that name already exists; it is never overwritten")
                    os.rename(staging, final)
                    fsync_directory(parent)
                except OSError as exc:
                    raise io_error("rename", staging, exc, "no run was written") from None
            return final
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging if local else parent)
        raise


def remove_local_copy(folder: Path) -> None:
    """Remove the local temporary folder :func:`write_new_run` wrote an object-storage run in
    (after it was published, or failed to be)."""
    shutil.rmtree(folder.parent, ignore_errors=True)
