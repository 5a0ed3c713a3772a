"""Finding run folders under a runs root, in run-id order, independent of listing order."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs

from govern.format.heads import LOG_FOLDER
from govern.format.paths import is_run_id
from govern.store.atomic import TEMP_PREFIX
from govern.store.local import LocalStore

#: The lock file govern keeps in a runs root (never a run).
LOCK_NAME = ".govern.lock"


@attrs.frozen
class RunsListing:
    """The run folders of a runs root (sorted by run id) and the names that are not runs."""

    #: The runs root when it is a local folder (None for another store).
    root: Path | None
    #: The run folders' names, sorted (run ids sort by time).
    names: tuple[str, ...]
    ignored: tuple[str, ...]
    staging: tuple[str, ...]

    @property
    def runs(self) -> tuple[Path, ...]:
        """The run folders of a local runs root, sorted by run id. Built on each access: a
        caller that needs only names or staging folders does not pay a path object per run
        (thousands, in a long history)."""
        if self.root is None:
            raise ValueError("the runs root is not a local folder: use the run ids (names)")
        return tuple(self.root / name for name in self.names)


def staging_names(runs_root: Path) -> list[str]:
    """The staging folders (and files) govern's interrupted writes left in ``runs_root``,
    sorted — without classifying every run folder, as :func:`list_runs` does."""
    try:
        return sorted(entry.name for entry in os.scandir(runs_root) if entry.name.startswith(TEMP_PREFIX))
    except FileNotFoundError:
        return []


def runs_listing(root: Path | None, level: Iterable[tuple[str, bool]]) -> RunsListing:
    """Classify the top level of a runs root (each name, and whether it is a folder): folders
    named like a run id are runs, sorted by run id; govern's own staging names go in
    ``staging``; the lock file and the delta log's head folder (``_log``) are skipped silently; anything else is ``ignored`` (so a command
    can say so)."""
    names: list[str] = []
    ignored: list[str] = []
    staging: list[str] = []
    for name, is_folder in level:
        if name in (LOCK_NAME, LOG_FOLDER):
            continue
        if name.startswith(TEMP_PREFIX):
            staging.append(name)
        elif is_folder and is_run_id(name):
            names.append(name)
        else:
            ignored.append(name)
    return RunsListing(root, tuple(sorted(names)), tuple(sorted(ignored)), tuple(sorted(staging)))


def list_runs(runs_root: Path) -> RunsListing:
    """Every directory under the local ``runs_root`` named like a run id, sorted by run id
    (:func:`runs_listing`; :meth:`govern.runs.run_store.RunStore.list_runs` for any store)."""
    return runs_listing(runs_root, LocalStore(runs_root).list_level(""))
