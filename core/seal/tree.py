"""Walking a run folder: what files it holds, under which manifest paths.

The walk never follows a symbolic link and never descends outside the run. Names found on
disk are recorded NFC-normalised (docs/formats.md, "5. Paths"); two names that collide after NFC or after
case-folding would be ambiguous on another filesystem, so they are a problem, as are
symlinks, FIFOs, sockets, devices and names no manifest may hold. Output is sorted by path,
so nothing depends on directory listing order.

:func:`list_run_tree` is the walk sealing and verification use: it takes each entry's type
from the directory listing itself and stats no regular file (the hash that follows fstats
each file it opens, so a stat here would be a second one — a third of the cost of sealing
many small files).
"""

from __future__ import annotations

import itertools
import os
import stat
import unicodedata
from array import array
from pathlib import Path

import attrs

from govern.errors import Problem
from govern.format.paths import UNLISTED_FILES, all_plain_names, all_plain_paths, manifest_path_problem, name_problem
from govern.store.atomic import TEMP_PREFIX


@attrs.frozen
class RunListing:
    """The regular files of a run in path order, as parallel columns (a million files must
    fit in memory: one object per file would cost several times more), the problems met, and
    each folder walked with its modification time (adding, removing or renaming an entry
    changes it), so :func:`directories_unchanged` can tell whether entries came or went since.

    File ``i`` has manifest path ``paths[i]`` and lies at
    ``directories[directory_of[i]] + "/" + names[i]`` (``names`` as spelt on disk).
    """

    paths: list[str]
    names: list[str]
    directory_of: array
    directories: list[str]
    problems: tuple[Problem, ...]
    directory_stamps: tuple[tuple[str, int], ...] = ()

    def location(self, index: int) -> str:
        """Where file ``index`` is on disk."""
        return f"{self.directories[self.directory_of[index]]}/{self.names[index]}"


def directories_unchanged(listing: RunListing) -> bool:
    """True when no folder gained, lost or renamed an entry since ``listing`` was made (one
    stat per folder; a file's own changes are caught by its stamp, see govern.seal.hashing)."""
    try:
        for location, mtime_ns in listing.directory_stamps:
            if os.stat(location, follow_symlinks=False).st_mtime_ns != mtime_ns:
                return False
    except OSError:
        return False
    return True


def _is_seal_leftover(name: str) -> bool:
    """A temp file an interrupted seal (or attest) left at the top of a run (removed by the next one)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(UNLISTED_FILES)


_FILE, _DIRECTORY = 0, 1
def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _classify(entries: list[os.DirEntry], shown_prefix: str, problems: list[Problem]) -> list[tuple[str, int, str, str]]:
    """The entries of one folder that the walk keeps, as ``(sort key, kind, name, path)``
    sorted by key; problems for the others.

    The key is the NFC name, with a "/" appended for a folder: visiting entries in key order
    then lists paths in sorted order, because everything under folder ``d`` starts with
    ``d/`` and no name holds a "/".
    """
    kept: list[tuple[str, int, str, str]] = []
    names = [entry.name for entry in entries]
    # Plain names are ASCII, so their own NFC form: the common case skips the per-name checks.
    plain = all_plain_names(names)
    path_prefix = _nfc(shown_prefix)
    for entry, name in zip(entries, names):
        if plain:
            path = path_prefix + name
        else:
            reason = name_problem(name)
            if reason:
                problems.append(Problem("E_UNSAFE_NAME", repr(shown_prefix + name), reason))
                continue
            path = _nfc(shown_prefix + name)
        # The listing's file type (d_type) decides the common cases without a stat; anything
        # else (a symlink, a special file, a filesystem that does not report types, an entry
        # that vanished) is decided by lstat, which reports a failure instead of guessing.
        try:
            if entry.is_file(follow_symlinks=False):
                kept.append((path[len(path_prefix) :], _FILE, name, path))
                continue
            if entry.is_dir(follow_symlinks=False):
                kept.append((path[len(path_prefix) :] + "/", _DIRECTORY, name, path))
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            problems.append(Problem("E_FILE_UNREADABLE", path, exc.strerror or str(exc)))
            continue
        if stat.S_ISLNK(mode):
            problems.append(Problem("E_SYMLINK", path, "symbolic links are refused, never followed"))
        elif stat.S_ISDIR(mode):
            kept.append((path[len(path_prefix) :] + "/", _DIRECTORY, name, path))
        elif stat.S_ISREG(mode):
            kept.append((path[len(path_prefix) :], _FILE, name, path))
        else:
            problems.append(Problem("E_SPECIAL_FILE", path, "FIFOs, sockets and devices cannot be sealed"))
    # The whole path must be one a manifest may hold (e.g. not '~x' or 'C:x' at the top, not
    # over-long), or verify would reject the seal this walk produces. One regex over all the
    # folder's file paths decides the common case; a folder with any other path is judged
    # path by path.
    file_paths = [item[3] for item in kept if item[1] == _FILE]
    if not all_plain_paths(file_paths):
        unsafe = set()
        for path in file_paths:
            reason = manifest_path_problem(path)
            if reason:
                problems.append(Problem("E_UNSAFE_NAME", repr(path), reason))
                unsafe.add(path)
        kept = [item for item in kept if not (item[1] == _FILE and item[3] in unsafe)]
    kept.sort()
    return kept


def list_run_tree(run_dir: Path, *, include_seal_leftovers: bool = False) -> RunListing:
    """List every regular file under ``run_dir`` except the seal files and the attestation at its top
    (:data:`~govern.format.paths.UNLISTED_FILES`), in path order.

    Temp files an interrupted seal left at the top are skipped (the next seal removes them)
    unless ``include_seal_leftovers``: a *sealed* run never legitimately holds one, so
    verification lists them like any other file rather than let them hide from it.
    """
    paths: list[str] = []
    names: list[str] = []
    directory_of = array("l")
    directories: list[str] = []
    problems: list[Problem] = []
    stamps: list[tuple[str, int]] = []

    def open_directory(location: str, shown_prefix: str) -> list[tuple[str, int, str, str]]:
        """Stamp and list one folder; its kept entries in key order."""
        try:
            # Stat before listing: a change between the two moves the mtime past this stamp.
            stamps.append((location, os.stat(location, follow_symlinks=False).st_mtime_ns))
            with os.scandir(location) as listing:
                entries = list(listing)
        except OSError as exc:
            problems.append(Problem("E_FILE_UNREADABLE", shown_prefix.rstrip("/") or ".", f"cannot list directory: {exc.strerror}"))
            return []
        if not shown_prefix:
            for entry in entries:
                if entry.name in UNLISTED_FILES and not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
                    # A folder (or FIFO…) squatting on a seal file's name would make the seal
                    # unwritable; on the attestation's, it would hide files from the manifest.
                    problems.append(Problem("E_UNSAFE_NAME", entry.name, "reserved for the seal or the attestation, must be a regular file"))
            entries = [
                e for e in entries
                if not (e.name in UNLISTED_FILES or (_is_seal_leftover(e.name) and not include_seal_leftovers))
            ]
        problems.extend(name_collisions(_nfc(shown_prefix), [e.name for e in entries]))
        return _classify(entries, shown_prefix, problems)

    top = os.fspath(run_dir)
    # Depth first, each folder's entries in key order: [location, its index in `directories`
    # once it holds a file, on-disk prefix, kept entries, next entry to visit].
    stack: list[list] = [[top, -1, "", open_directory(top, ""), 0]]
    while stack:
        frame = stack[-1]
        location, index, shown_prefix, kept, position = frame
        folder = next((i for i in range(position, len(kept)) if kept[i][1] == _DIRECTORY), len(kept))
        if position < folder:  # the files before the next folder, in one go
            run = kept[position:folder]
            if index < 0:
                index = frame[1] = len(directories)
                directories.append(location)
            paths.extend([item[3] for item in run])
            names.extend([item[2] for item in run])
            directory_of.extend(itertools.repeat(index, len(run)))
        if folder == len(kept):
            stack.pop()
            continue
        frame[4] = folder + 1
        name = kept[folder][2]
        sub, sub_prefix = f"{location}/{name}", f"{shown_prefix}{name}/"
        stack.append([sub, -1, sub_prefix, open_directory(sub, sub_prefix), 0])
    if any(a >= b for a, b in zip(paths, paths[1:])):
        # Only names that collide (refused above) can break the order; keep the promise anyway.
        order = sorted(range(len(paths)), key=paths.__getitem__)
        paths = [paths[i] for i in order]
        names = [names[i] for i in order]
        directory_of = array("l", (directory_of[i] for i in order))
    problems.sort(key=lambda p: (p.where, p.code))
    return RunListing(paths, names, directory_of, directories, tuple(problems), tuple(stamps))


def name_collisions(prefix: str, names: list[str]) -> list[Problem]:
    """Names in one directory (files or folders) equal after NFC, or after case-folding.

    Checked per directory, on every entry, because two folders that merge on another
    filesystem (or a file and a folder) collide even when the file paths under them differ.
    """
    joined = "\0".join(names)
    if joined.isascii() and len({name.lower() for name in names}) == len(names):
        # ASCII names are their own NFC form and case-fold as they lower-case; distinct
        # lower-cased names therefore cannot collide (test_tree_listing proves the shortcut
        # agrees with the full rule below).
        return []
    return _name_collisions(prefix, names)


def _name_collisions(prefix: str, names: list[str]) -> list[Problem]:
    """The full rule behind :func:`name_collisions`."""
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
