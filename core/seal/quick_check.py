"""A quick check of a small sealed run: :func:`govern.seal.verification.verify_run`'s answer for a
run that passes every one of its checks, reached with no import beyond the standard library
and the format's plain rules — so ``govern verify`` of a small run costs little more
than starting Python (docs/performance.md, "Start-up").

The rule is narrower than ``verify_run``'s, never wider. :func:`intact_run` vouches for a run
only when

- its folder's name is a run id, both seal files are regular files, and the seal line pins
  ``manifest.json`` byte for byte;
- ``manifest.json`` is a manifest as govern writes it, read by the very checks
  :func:`govern.format.manifest.parse_manifest` takes first
  (:func:`~govern.format.manifest_columns.columns_if_plainly_valid`,
  :func:`~govern.format.manifest_columns.as_govern_writes_it`), naming this run;
- the walk of the folder finds only regular files and folders, under plain names, no two
  names of one folder equal once lower-cased, and exactly the files the manifest lists (the
  seal files and an attestation at the top — regular files — apart), at most
  :data:`QUICK_MAX_FILES` of them;
- every file has its listed size and SHA-256, unchanged while it was hashed, and no folder
  changed while the files were hashed.

Anything else — every failure included — answers None, and ``verify_run`` decides and
explains; a failing run is therefore hashed twice, which only costs time when something is
wrong. ``tests/test_quick_verify.py`` holds the rule to ``verify_run`` on random runs under
random damage.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

from govern.format.manifest_columns import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    SEAL_LINE_PATTERN,
    SEAL_NAME,
    as_govern_writes_it,
    columns_if_plainly_valid,
)
from govern.format.paths import UNLISTED_FILES, all_plain_names, is_run_id
from govern.seal.seal_reads import MAX_SEAL_BYTES, SealFileRefused, read_seal_file

#: Runs with more files take the full check: its forked workers hash many files faster, and
#: start-up is no longer what their verification costs.
QUICK_MAX_FILES = 256
#: Below this many bytes in all, the files are hashed one after the other (threads would
#: cost more than they save).
_THREADS_FROM_BYTES = 8 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def intact_run(run_dir: str) -> tuple[str, int] | None:
    """``(ROOT_SHA256, number of files)`` of the sealed run in the folder ``run_dir`` (an
    absolute path) when it passes the quick check (see the module's docstring), else None."""
    run_id = os.path.basename(run_dir)
    if not is_run_id(run_id):
        return None
    try:
        seal = read_seal_file(os.path.join(run_dir, SEAL_NAME), MAX_SEAL_BYTES, "E_SEAL_MALFORMED")
        data = read_seal_file(os.path.join(run_dir, MANIFEST_NAME), MAX_MANIFEST_BYTES, "E_MANIFEST_INVALID")
    except (OSError, SealFileRefused):
        return None
    match = SEAL_LINE_PATTERN.match(seal)
    root = hashlib.sha256(data).hexdigest()
    if match is None or match.group(1).decode("ascii") != root or len(data) > MAX_MANIFEST_BYTES:
        return None
    listed = _listed_files(data, run_id)
    if listed is None:
        return None
    walked = _walk(run_dir)
    if walked is None:
        return None
    found, folders = walked
    if found.keys() != listed.keys():
        return None
    if not _files_intact([(found[path], *listed[path]) for path in sorted(listed)]):
        return None
    try:
        if any(_mtime(folder) != stamp for folder, stamp in folders):
            return None
    except OSError:
        return None
    return root, len(listed)


def _listed_files(data: bytes, run_id: str) -> dict[str, tuple[str, int]] | None:
    """``path -> (sha256, bytes)`` of a manifest as govern writes it for ``run_id``, else None."""
    try:
        # The standard library's parser, not orjson (whose import costs more than this whole
        # check): on a manifest the checks below accept both read the same values — strings,
        # lists, objects and integers only, no backslash, no key given twice.
        doc = json.loads(data)
    except ValueError:  # not JSON, or not UTF-8
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list) or len(doc["files"]) > QUICK_MAX_FILES:
        return None
    plain = columns_if_plainly_valid(doc["files"])
    if plain is None or not as_govern_writes_it(doc, data, run_id, len(doc["files"])):
        return None
    columns = plain[0]
    # Strictly ascending plain paths; one listed both as a file and as a folder ("a", "a/b")
    # cannot match what the walk finds (a file is not a folder), so it never passes below.
    return {path: (digest, size) for path, digest, size in zip(columns.paths, columns.digests, columns.sizes)}


def _walk(run_dir: str) -> tuple[dict[str, str], list[tuple[str, int]]] | None:
    """``manifest path -> location`` of every file under ``run_dir`` but the unlisted seal
    files, and each folder with its modification time taken before it was listed; None when
    anything is not plainly sealable or there are more than :data:`QUICK_MAX_FILES` files."""
    found: dict[str, str] = {}
    folders: list[tuple[str, int]] = []
    pending = [(run_dir, "")]
    while pending:
        location, prefix = pending.pop()
        try:
            folders.append((location, _mtime(location)))
            with os.scandir(location) as listing:
                entries = list(listing)
        except OSError:
            return None
        kept = []
        for entry in entries:
            if not prefix and entry.name in UNLISTED_FILES:
                if not entry.is_file(follow_symlinks=False):
                    return None
                continue
            kept.append(entry)
        names = [entry.name for entry in kept]
        if names and (not all_plain_names(names) or len({name.lower() for name in names}) != len(names)):
            return None
        for entry in kept:
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, f"{prefix}{entry.name}/"))
            elif entry.is_file(follow_symlinks=False):
                found[prefix + entry.name] = entry.path
                if len(found) > QUICK_MAX_FILES:
                    return None
            else:  # a symlink, FIFO, socket or device
                return None
    return found, folders


def _files_intact(files: list[tuple[str, str, int]]) -> bool:
    """Whether every ``(location, sha256, bytes)`` holds what is listed, hashed on several
    threads when the files are large (hashlib releases the GIL while it hashes)."""
    if len(files) > 1 and sum(size for _, _, size in files) >= _THREADS_FROM_BYTES:
        from concurrent.futures import ThreadPoolExecutor

        largest_first = sorted(files, key=lambda file: -file[2])
        with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1)) as pool:
            return all(pool.map(_file_intact, largest_first))
    return all(map(_file_intact, files))


def _file_intact(file: tuple[str, str, int]) -> bool:
    """Whether the regular file at ``location`` has ``size`` bytes hashing to ``sha256``, and
    its status did not change while it was hashed."""
    location, sha256, size = file
    try:
        fd = os.open(location, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode) or before.st_size != size:
                return False
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            after = os.fstat(fd)
    except OSError:
        return False
    unchanged = (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns, after.st_ctime_ns)
    return unchanged and digest == sha256


def _mtime(location: str) -> int:
    """The modification time of a folder (a file added or removed in it moves it)."""
    return os.stat(location, follow_symlinks=False).st_mtime_ns
