"""Which runs a list of changed files touches: the paths a git hook hands over (pre-commit
passes the files of a commit, relative to the repository's root), sorted by the run folder of
a local runs root that holds them (``verify --changed``, ``validate --changed``; docs/ci.md).

A path is taken as it is written (relative to ``cwd``), never read: a file deleted in the
commit still names its run. Only the folders above it are resolved (so a runs root reached
through a symlinked folder still matches), never the file itself: a symlink planted in a run
must name that run, not whatever it points at.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import attrs

from govern.format.paths import is_run_id


@attrs.frozen
class ChangedRuns:
    """Changed paths sorted by the run holding them."""

    #: (run id, the changed paths inside it in manifest form, sorted), by run id; a path
    #: naming the run folder itself selects the run with no path inside it.
    runs: tuple[tuple[str, tuple[str, ...]], ...]
    #: The paths given that lie in no run folder (outside the runs root, or in it but not
    #: under a folder named like a run): ignored.
    outside: tuple[str, ...]

    @property
    def run_ids(self) -> tuple[str, ...]:
        """The runs selected, sorted."""
        return tuple(run_id for run_id, _ in self.runs)


def _absolute(given: str | os.PathLike[str], cwd: Path) -> str:
    """``given`` made absolute from ``cwd``, its folders resolved (symlinks, ``..``), its last
    name kept as written."""
    path = Path(cwd, given)
    folder, name = os.path.split(os.path.normpath(path))
    return os.path.join(os.path.realpath(folder), name) if name else os.path.realpath(folder)


def changed_runs(paths: Iterable[str | os.PathLike[str]], runs_root: Path, *, cwd: Path | None = None) -> ChangedRuns:
    """The runs under ``runs_root`` holding any of ``paths`` (relative paths are taken from
    ``cwd``, default the current directory), with the paths inside each; the other paths are
    listed as outside."""
    here = Path.cwd() if cwd is None else cwd
    root = os.path.realpath(runs_root)
    inside: dict[str, set[str]] = {}
    outside: list[str] = []
    for given in paths:
        absolute = _absolute(given, here)
        relative = os.path.relpath(absolute, root)
        parts = PurePosixPath(Path(relative).as_posix()).parts
        if not parts or parts[0] in (".", "..") or not is_run_id(parts[0]):
            outside.append(os.fspath(given))
            continue
        found = inside.setdefault(parts[0], set())
        if len(parts) > 1:
            # Manifest paths are NFC (docs/formats.md): a name typed in another form still matches.
            found.add(unicodedata.normalize("NFC", "/".join(parts[1:])))
    runs = tuple((run_id, tuple(sorted(inside[run_id]))) for run_id in sorted(inside))
    return ChangedRuns(runs, tuple(outside))
