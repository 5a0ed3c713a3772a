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


#: Files up to this size are read in one call (cheaper than a buffered reader per file).
SMALL_FILE_BYTES = 1 << 20
#: Below these, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 256
PARALLEL_MIN_BYTES = 32 << 20
#: Environment variable capping the worker processes (default: the CPUs this process may use).
JOBS_ENV = "GOVERN_JOBS"


def _read_small(fd: int, size: int) -> bytes:
    chunks = []
    remaining = size + 1  # one byte more: a file that grew since fstat is caught below
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _digest_fd(fd: int, size: int) -> str:
    if size <= SMALL_FILE_BYTES:
        return hashlib.sha256(_read_small(fd, size)).hexdigest()
    with os.fdopen(os.dup(fd), "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def hash_disk_file(file: DiskFile) -> FileDigest:
    """Hash one file found by :func:`govern.tree.scan_run_tree`."""
    try:
        # O_NONBLOCK: a file swapped for a FIFO since the scan must not hang the hash.
        fd = os.open(file.location, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "became a symbolic link after the folder was scanned"))
        return FileDigest(file.path, None, None, Problem("E_FILE_UNREADABLE", file.path, exc.strerror or str(exc)))
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "is no longer a regular file"))
        try:
            digest = _digest_fd(fd, before.st_size)
        except OSError as exc:
            return FileDigest(file.path, None, None, Problem("E_FILE_UNREADABLE", file.path, exc.strerror or str(exc)))
        after = os.fstat(fd)
    finally:
        os.close(fd)
    stamp = (before.st_size, before.st_mtime_ns)
    if stamp != (after.st_size, after.st_mtime_ns) or stamp != (file.size, file.mtime_ns):
        return FileDigest(file.path, None, None, Problem("E_FILE_CHANGED", file.path, "changed while it was being hashed"))
    return FileDigest(file.path, digest, after.st_size)


def default_jobs() -> int:
    """Worker processes to hash with: ``GOVERN_JOBS`` if set, else the usable CPUs."""
    configured = os.environ.get(JOBS_ENV, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _hash_chunk(files: list[DiskFile]) -> list[FileDigest]:
    return [hash_disk_file(file) for file in files]


def _chunks(files: list[DiskFile], jobs: int) -> list[list[DiskFile]]:
    """Contiguous chunks of similar byte size, many more than workers (load balance, progress)."""
    total = sum(file.size for file in files)
    target_bytes = max(total // (jobs * 16), 1)
    target_files = max(len(files) // (jobs * 16), 64)
    chunks: list[list[DiskFile]] = []
    current: list[DiskFile] = []
    current_bytes = 0
    for file in files:
        current.append(file)
        current_bytes += file.size
        if current_bytes >= target_bytes or len(current) >= target_files:
            chunks.append(current)
            current, current_bytes = [], 0
    if current:
        chunks.append(current)
    return chunks


def hash_files(files: Iterable[DiskFile], progress: Progress = NO_PROGRESS, jobs: int | None = None) -> Iterator[FileDigest]:
    """Hash files, yielding one :class:`FileDigest` each in the given order; progress counts bytes.

    Many files, or many bytes, are spread over worker processes (Python threads would
    serialise on the per-file overhead; processes that each take a contiguous chunk scale
    with the cores). Results come back in order either way.
    """
    files = list(files)
    jobs = default_jobs() if jobs is None else jobs
    total = sum(file.size for file in files)
    if jobs <= 1 or len(files) < 2 or (len(files) < PARALLEL_MIN_FILES and total < PARALLEL_MIN_BYTES):
        for file in files:
            result = hash_disk_file(file)
            progress.advance(file.size)
            yield result
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = _chunks(files, jobs)
    # fork: workers start in milliseconds and inherit the already-imported modules.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=context) as pool:
        for chunk, results in zip(chunks, pool.map(_hash_chunk, chunks)):
            progress.advance(sum(file.size for file in chunk))
            yield from results
