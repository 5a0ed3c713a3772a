"""Finding run folders under a runs root, in run-id order, independent of listing order."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from govern.atomic import TEMP_PREFIX
from govern.paths import is_run_id

#: The lock file govern keeps in a runs root (never a run).
LOCK_NAME = ".govern.lock"


@attrs.frozen
class RunsListing:
    """The run folders of a runs root (sorted by run id) and the names that are not runs."""

    runs: tuple[Path, ...]
    ignored: tuple[str, ...]
    staging: tuple[str, ...]


def list_runs(runs_root: Path) -> RunsListing:
    """Every directory under ``runs_root`` named like a run id, sorted by run id.

    Names that are not run ids are returned in ``ignored`` (so a command can say so), govern's
    own staging folders in ``staging``; the lock file is skipped silently.
    """
    runs: list[Path] = []
    ignored: list[str] = []
    staging: list[str] = []
    try:
        entries = list(os.scandir(runs_root))
    except FileNotFoundError:
        return RunsListing((), (), ())
    for entry in entries:
        if entry.name == LOCK_NAME:
            continue
        if entry.name.startswith(TEMP_PREFIX):
            staging.append(entry.name)
        elif is_run_id(entry.name) and entry.is_dir(follow_symlinks=False):
            runs.append(Path(entry.path))
        else:
            ignored.append(entry.name)
    runs.sort(key=lambda p: p.name)
    return RunsListing(tuple(runs), tuple(sorted(ignored)), tuple(sorted(staging)))
