"""Walking a run folder: what files it holds, under which manifest paths.

The walk never follows a symbolic link and never descends outside the run. Names found on
disk are recorded NFC-normalised (DESIGN §4); two names that collide after NFC or after
case-folding would be ambiguous on another filesystem, so they are a problem, as are
symlinks, FIFOs, sockets, devices and names no manifest may hold. Output is sorted by path,
so nothing depends on directory listing order.
"""

from __future__ import annotations

import os
from collections import Counter
import stat
import unicodedata
from pathlib import Path

import attrs

from govern.atomic import TEMP_PREFIX
from govern.errors import Problem
from govern.paths import SEAL_FILES, name_problem


@attrs.frozen
class DiskFile:
    """A regular file found in a run: its manifest path, where it is, and its stat."""

    path: str
    disk_path: Path
    size: int
    mtime_ns: int


@attrs.frozen
class TreeScan:
    """The regular files of a run (sorted by path) and the problems met on the way."""

    files: tuple[DiskFile, ...]
    problems: tuple[Problem, ...]


def _is_seal_leftover(name: str) -> bool:
    """A temp file an interrupted seal left at the top of a run (removed by the next seal)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(SEAL_FILES)


def scan_run_tree(run_dir: Path) -> TreeScan:
    """List every regular file under ``run_dir`` except the seal files at its top."""
    run_dir = Path(run_dir)
    files: list[DiskFile] = []
    problems: list[Problem] = []
    stack: list[tuple[Path, str]] = [(run_dir, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            problems.append(Problem("E_FILE_UNREADABLE", prefix.rstrip("/") or ".", f"cannot list directory: {exc.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            if not prefix and (name in SEAL_FILES or _is_seal_leftover(name)):
                continue
            shown = prefix + name
            reason = name_problem(name)
            if reason:
                problems.append(Problem("E_UNSAFE_NAME", repr(shown), reason))
                continue
            path = unicodedata.normalize("NFC", shown)
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
                files.append(DiskFile(path, Path(entry.path), info.st_size, info.st_mtime_ns))
            else:
                problems.append(Problem("E_SPECIAL_FILE", path, "FIFOs, sockets and devices cannot be sealed"))
    files.sort(key=lambda f: f.path)
    problems.extend(_collisions(files))
    problems.sort(key=lambda p: (p.where, p.code))
    return TreeScan(tuple(files), tuple(problems))


def _collisions(files: list[DiskFile]) -> list[Problem]:
    """Names that differ on disk but not after NFC, or not after case-folding."""
    problems: list[Problem] = []
    for path, count in Counter(file.path for file in files).items():
        if count > 1:
            problems.append(Problem("E_NAME_COLLISION", path, f"{count} names on disk are equal after NFC normalisation"))
    by_fold: dict[str, set[str]] = {}
    for file in files:
        by_fold.setdefault(file.path.casefold(), set()).add(file.path)
    for paths in by_fold.values():
        if len(paths) > 1:
            first, *others = sorted(paths)
            problems.append(Problem("E_NAME_COLLISION", first, f"equal after case-folding to {', '.join(others)}"))
    return problems
