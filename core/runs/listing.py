"""Finding run folders under a runs root, in run-id order, independent of listing order."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from govern.format.paths import is_run_id
from govern.store.atomic import TEMP_PREFIX

#: The lock file govern keeps in a runs root (never a run).
LOCK_NAME = ".govern.lock"


@attrs.frozen
class RunsListing:
    """The run folders of a runs root (sorted by run id) and the names that are not runs."""

    root: Path
    #: The run folders' names, sorted (run ids sort by time).
    names: tuple[str, ...]
    ignored: tuple[str, ...]
    staging: tuple[str, ...]

    @property
    def runs(self) -> tuple[Path, ...]:
        """The run folders, sorted by run id. Built on each access: a caller that needs only
        names or staging folders does not pay a path object per run (thousands, in a long
        history)."""
        return tuple(self.root / name for name in self.names)


def staging_names(runs_root: Path) -> list[str]:
    """The staging folders (and files) govern's interrupted writes left in ``runs_root``,
    sorted — without classifying every run folder, as :func:`list_runs` does."""
    try:
        return sorted(entry.name for entry in os.scandir(runs_root) if entry.name.startswith(TEMP_PREFIX))
    except FileNotFoundError:
        return []


def list_runs(runs_root: Path) -> RunsListing:
    """Every directory under ``runs_root`` named like a run id, sorted by run id.

    Names that are not run ids are returned in ``ignored`` (so a command can say so), govern's
    own staging folders in ``staging``; the lock file is skipped silently.
    """
    names: list[str] = []
    ignored: list[str] = []
    staging: list[str] = []
    try:
        entries = list(os.scandir(runs_root))
    except FileNotFoundError:
        return RunsListing(runs_root, (), (), ())
    for entry in entries:
        if entry.name == LOCK_NAME:
            continue
        if entry.name.startswith(TEMP_PREFIX):
            staging.append(entry.name)
        elif is_run_id(entry.name) and entry.is_dir(follow_symlinks=False):
            names.append(entry.name)
        else:
            ignored.append(entry.name)
    return RunsListing(runs_root, tuple(sorted(names)), tuple(sorted(ignored)), tuple(sorted(staging)))
