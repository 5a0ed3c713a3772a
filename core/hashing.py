"""Streaming SHA-256 of run files, with constant memory and change detection.

A file is opened without following links, hashed with :func:`hashlib.file_digest` (which
uses OpenSSL's SHA-256 and a fixed buffer), and its size and mtime are compared before and
after: a file that changes while it is hashed would otherwise be sealed with a digest that
matches neither its old nor its new content.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator

import attrs

from govern.errors import Problem
from govern.progress import NO_PROGRESS, Progress
from govern.tree import DiskFile

@attrs.frozen
class FileDigest:
    """The outcome of hashing one file: its digest and size, or the problem met."""

    path: str
    sha256: str | None
    size: int | None
    problem: Problem | None = None


def hash_disk_file(file: DiskFile) -> FileDigest:
    """Hash one file found by :func:`govern.tree.scan_run_tree`."""
    try:
        # O_NONBLOCK: a file swapped for a FIFO since the scan must not hang the hash.
        fd = os.open(file.disk_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "became a symbolic link after the folder was scanned"))
        return FileDigest(file.path, None, None, Problem("E_FILE_UNREADABLE", file.path, exc.strerror or str(exc)))
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "is no longer a regular file"))
        try:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            return FileDigest(file.path, None, None, Problem("E_FILE_UNREADABLE", file.path, exc.strerror or str(exc)))
        after = os.fstat(fd)
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
        before.st_size,
        before.st_mtime_ns,
    ) != (file.size, file.mtime_ns)
    if changed:
        return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "changed while it was being hashed"))
    return FileDigest(file.path, digest, after.st_size)


def hash_files(files: Iterable[DiskFile], progress: Progress = NO_PROGRESS) -> Iterator[FileDigest]:
    """Hash files in order, yielding one :class:`FileDigest` each; progress counts bytes."""
    for file in files:
        result = hash_disk_file(file)
        progress.advance(file.size)
        yield result
