"""Walking a run folder: what files it holds, under which manifest paths.

The walk never follows a symbolic link and never descends outside the run. Names found on
disk are recorded NFC-normalised (DESIGN §4); two names that collide after NFC or after
case-folding would be ambiguous on another filesystem, so they are a problem, as are
symlinks, FIFOs, sockets, devices and names no manifest may hold. Output is sorted by path,
so nothing depends on directory listing order.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

import attrs

from govern.atomic import TEMP_PREFIX
from govern.errors import Problem
from govern.paths import SEAL_FILES, manifest_path_problem, name_problem


@attrs.frozen
class DiskFile:
    """A regular file found in a run: its manifest path, where it is, and its stat.

    ``location`` is kept as given (a ``str`` from the walk: building a :class:`Path` per file
    is a measurable share of scanning a large run); :attr:`disk_path` is the ``Path`` view.
    """

    path: str
    location: str | os.PathLike[str]
    size: int
    mtime_ns: int

    @property
    def disk_path(self) -> Path:
        """Where the file is, as a :class:`Path`."""
        return Path(self.location)


@attrs.frozen
class TreeScan:
    """The regular files of a run (sorted by path), the problems met on the way, and each
    folder walked with its modification time (adding, removing or renaming an entry changes
    it), so :func:`tree_unchanged` can tell whether the run changed since."""

    files: tuple[DiskFile, ...]
    problems: tuple[Problem, ...]
    directories: tuple[tuple[str, int], ...] = ()


def tree_unchanged(scan: TreeScan) -> bool:
    """True when no folder gained, lost or renamed an entry and no file changed size or
    modification time since ``scan`` — a stat per folder and per file, no re-walk."""
    try:
        for location, mtime_ns in scan.directories:
            if os.stat(location, follow_symlinks=False).st_mtime_ns != mtime_ns:
                return False
        for file in scan.files:
            info = os.stat(file.location, follow_symlinks=False)
            if (info.st_size, info.st_mtime_ns) != (file.size, file.mtime_ns):
                return False
    except OSError:
        return False
    return True


def _is_seal_leftover(name: str) -> bool:
    """A temp file an interrupted seal left at the top of a run (removed by the next seal)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(SEAL_FILES)


def scan_run_tree(run_dir: Path, *, include_seal_leftovers: bool = False) -> TreeScan:
    """List every regular file under ``run_dir`` except the seal files at its top.

    Temp files an interrupted seal left at the top are skipped (the next seal removes them)
    unless ``include_seal_leftovers``: a *sealed* run never legitimately holds one, so
    verification lists them like any other file rather than let them hide from it.
    """
    run_dir = Path(run_dir)
    files: list[DiskFile] = []
    problems: list[Problem] = []
    directories: list[tuple[str, int]] = []
    stack: list[tuple[Path, str]] = [(run_dir, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            # Stat before listing: a change between the two moves the mtime past this stamp.
            directories.append((str(directory), os.stat(directory, follow_symlinks=False).st_mtime_ns))
            entries = list(os.scandir(directory))
        except OSError as exc:
            problems.append(Problem("E_FILE_UNREADABLE", prefix.rstrip("/") or ".", f"cannot list directory: {exc.strerror}"))
            continue
        if not prefix:
            for entry in entries:
                if entry.name in SEAL_FILES and not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
                    # A folder (or FIFO…) squatting on a seal file's name would make the seal unwritable.
                    problems.append(Problem("E_UNSAFE_NAME", entry.name, "reserved for the seal, must be a regular file"))
            entries = [
                e for e in entries
                if not (e.name in SEAL_FILES or (_is_seal_leftover(e.name) and not include_seal_leftovers))
            ]
        problems.extend(_name_collisions(unicodedata.normalize("NFC", prefix), [e.name for e in entries]))
        for entry in entries:
            name = entry.name
            shown = prefix + name
            reason = name_problem(name)
            if reason:
                problems.append(Problem("E_UNSAFE_NAME", repr(shown), reason))
                continue
            path = shown if shown.isascii() else unicodedata.normalize("NFC", shown)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(Problem("E_FILE_UNREADABLE", path, exc.strerror or str(exc)))
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(Problem("E_SYMLINK", path, "symbolic links are refused, never followed"))
            elif stat.S_ISDIR(info.st_mode):
                stack.append((Path(entry.path), shown + "/"))
            elif stat.S_ISREG(info.st_mode):
                # The whole path must be one a manifest may hold (e.g. not '~x' or 'C:x' at the
                # top, not over-long), or verify would reject the seal this scan produces.
                reason = manifest_path_problem(path)
                if reason:
                    problems.append(Problem("E_UNSAFE_NAME", repr(path), reason))
                else:
                    files.append(DiskFile(path, entry.path, info.st_size, info.st_mtime_ns))
            else:
                problems.append(Problem("E_SPECIAL_FILE", path, "FIFOs, sockets and devices cannot be sealed"))
    files.sort(key=lambda f: f.path)
    problems.sort(key=lambda p: (p.where, p.code))
    return TreeScan(tuple(files), tuple(problems), tuple(directories))


def _name_collisions(prefix: str, names: list[str]) -> list[Problem]:
    """Names in one directory (files or folders) equal after NFC, or after case-folding.

    Checked per directory, on every entry, because two folders that merge on another
    filesystem (or a file and a folder) collide even when the file paths under them differ.
    """
    problems: list[Problem] = []
    by_nfc: dict[str, list[str]] = {}
    by_fold: dict[str, list[str]] = {}
    for name in names:
        if name_problem(name):
            continue  # reported on its own as E_UNSAFE_NAME
        nfc = unicodedata.normalize("NFC", name)
        by_nfc.setdefault(nfc, []).append(name)
        by_fold.setdefault(unicodedata.normalize("NFC", nfc.casefold()), []).append(name)
    for nfc, group in sorted(by_nfc.items()):
        if len(group) > 1:
            problems.append(Problem("E_NAME_COLLISION", prefix + nfc, f"{len(group)} names on disk are equal after NFC normalisation"))
    for group in by_fold.values():
        distinct = sorted({unicodedata.normalize("NFC", name) for name in group})
        if len(distinct) > 1:
            first, *others = distinct
            problems.append(Problem("E_NAME_COLLISION", prefix + first, f"equal after case-folding to {', '.join(prefix + o for o in others)}"))
    return problems
