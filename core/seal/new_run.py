"""Writing a new sealed run that govern makes itself (a registry snapshot): staged, sealed, then renamed into place.

The run is written in a hidden staging folder beside where it lands, sealed there, and
renamed to its run id in one step, so the runs root never shows a half-written or unsealed
snapshot run. An existing run of that name is never overwritten (E_RUN_EXISTS). A runs root
on object storage gets the run in a private local folder (:func:`new_run_parent`); the command
then publishes it (``govern.runs.publishing``), as ``delta build`` does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.sealing import seal_run
from govern.store.atomic import TEMP_PREFIX, fsync_directory, io_error


def new_run_parent(workspace: Workspace) -> Path:
    """Where a new run govern makes is written: the local runs root, or a fresh private
    temporary folder when the runs root is on object storage (to publish from)."""
    if workspace.runs_root_is_local:
        return workspace.runs_root
    return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))


@contextlib.contextmanager
def _io_step(action: str, path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise io_error(action, path, exc, "the run was not written") from exc


def create_sealed_run(
    parent: Path,
    envelope: dict[str, Any],
    write_payload: Callable[[Path], None],
    progress: Progress = NO_PROGRESS,
) -> Path:
    """Make the sealed run ``parent/<envelope run_id>`` and return its folder.

    ``write_payload(folder)`` writes the payload files into the staging folder; the run is
    then sealed with ``envelope`` as its run.json and renamed into place. On any failure the
    staging folder is removed and nothing is left under ``parent``.
    """
    run_id = envelope["run_id"]
    target = parent / run_id
    if target.exists():
        raise GovernError("E_RUN_EXISTS", f"{target}: a run of that name already exists; it is never overwritten")
    staging = parent / f"{TEMP_PREFIX}{run_id}"
    with _io_step("create", staging):
        try:
            staging.mkdir()
        except FileExistsError:
            raise GovernError("E_RUN_EXISTS", f"{staging}: another writer is writing a run of that name") from None
    try:
        write_payload(staging)
        seal_run(staging, envelope=envelope, progress=progress)
        with _io_step("rename", target):
            if target.exists():
                raise GovernError("E_RUN_EXISTS", f"{target}: a run of that name appeared meanwhile; it is never overwritten")
            os.rename(staging, target)
            fsync_directory(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
