"""Streaming SHA-256 of run files, with constant memory and change detection.

A file is opened without following links and fstat-ed: that gives its *stamp* (size and
modification time) and how much to read. A small file is read in one call (one byte more than
its stamp says, to see one that grew) and hashed; a large one streams through
:func:`hashlib.file_digest` (OpenSSL's SHA-256, a fixed buffer) and is fstat-ed again.
Sealing stamps every file before any is hashed (:meth:`FileHasher.stamps`) and once more when
all are (:meth:`FileHasher.unchanged`): a file that changes at any moment in between — before,
while or after its hash — is refused (``E_FILE_CHANGED``), as its digest could match neither
its old nor its new content.

Many files are hashed by forked worker processes (:class:`govern.runtime.parallel.Parallel`:
they die with this process, leave interrupts to it, never hold its lock, and a range whose
worker dies is hashed here instead), each taking contiguous ranges of the listing (Python
threads would serialise on the per-file overhead; processes scale with the cores). Workers
inherit the listing and the selection — the pool's shared :class:`_Work` — when they fork,
and send back one compact result per range — digests as one bytes blob, sizes and times as
arrays — not an object per file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from govern.runtime.jobs import default_jobs
from govern.runtime.parallel import CAN_FORK, Parallel
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.tree import RunListing

#: Files up to this size are read in one call (cheaper than a buffered reader per file).
SMALL_FILE_BYTES = 1 << 20
#: Below these, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 256
PARALLEL_MIN_BYTES = 32 << 20
#: A file this large met inside a range of many is hashed as a task of its own, so two big
#: files never queue behind each other in one worker while another worker idles.
OWN_TASK_BYTES = 16 << 20

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
_DIGEST_BYTES = 32


def _read_small(fd: int, size: int) -> bytes:
    # One byte more than fstat said, so a file that grew since is seen to have. A short read
    # (the file shrank, or a signal) is followed up until end of file.
    data = os.read(fd, size + 1)
    if len(data) >= size:
        return data
    chunks = [data]
    while chunk := os.read(fd, size + 1):
        chunks.append(chunk)
    return b"".join(chunks)


_CHANGED = "E_FILE_CHANGED", "changed while it was being hashed"


def fingerprint(location: str, own_task_bytes: int | None = None) -> tuple[bytes, int, int] | tuple[str, str] | None:
    """Hash the file at ``location``: ``(digest, size, mtime_ns)``, or ``(code, message)`` for
    a problem, or None when it is larger than ``own_task_bytes`` (left for a task of its own).

    The one per-file rule: opened without following links (O_NONBLOCK: a file swapped for a
    FIFO since the walk must not hang the hash), a regular file, as many bytes read as its
    fstat said. A change that keeps the size is for the stamps to show: sealing compares
    every file's stamp with this one once all are hashed.
    """
    try:
        fd = os.open(location, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "E_FILE_CHANGED", "became a symbolic link after the folder was scanned"
        return "E_FILE_UNREADABLE", exc.strerror or str(exc)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "E_FILE_CHANGED", "is no longer a regular file"
        size = info.st_size
        if own_task_bytes is not None and size > own_task_bytes:
            return None
        try:
            if size <= SMALL_FILE_BYTES:
                data = _read_small(fd, size)
                if len(data) != size:
                    return _CHANGED
                digest = hashlib.sha256(data).digest()
            else:
                with os.fdopen(os.dup(fd), "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").digest()
                after = os.fstat(fd)
                if (after.st_size, after.st_mtime_ns) != (size, info.st_mtime_ns):
                    return _CHANGED
        except OSError as exc:
            return "E_FILE_UNREADABLE", exc.strerror or str(exc)
    finally:
        os.close(fd)
    return digest, size, info.st_mtime_ns


@attrs.frozen
class Stamps:
    """Size and modification time of the selected files, by position in the selection; a
    file that could not be stat-ed has zeros and its problem in ``problems``."""

    sizes: array
    mtimes: array
    problems: tuple[tuple[int, str, str], ...]


@attrs.frozen
class Fingerprints(Stamps):
    """:class:`Stamps` (taken by the hash's own fstat) plus digests: 32 raw bytes per file,
    zeros for a file with a problem."""

    digests: bytearray = attrs.field(factory=bytearray)

    def sha256(self, position: int) -> str:
        """Lowercase hex digest of the file at ``position``."""
        return self.digests[position * _DIGEST_BYTES : (position + 1) * _DIGEST_BYTES].hex()

    def hex_digests(self) -> Iterator[str]:
        """Every lowercase hex digest, in selection order (one conversion for all)."""
        text = self.digests.hex()
        width = 2 * _DIGEST_BYTES
        return (text[start : start + width] for start in range(0, len(text), width))


@attrs.frozen
class _Work:
    """What the workers hash: the pool's shared object, inherited when they fork instead of
    received file by file through a pipe."""

    listing: RunListing
    selection: Sequence[int]


def _locations(work: _Work, start: int, stop: int) -> Iterator[str]:
    """Where the files at selection positions ``start..stop`` are."""
    listing, selection = work.listing, work.selection
    directories, directory_of, names = listing.directories, listing.directory_of, listing.names
    for position in range(start, stop):
        index = selection[position]
        yield f"{directories[directory_of[index]]}/{names[index]}"


_Found = list[tuple[int, str, str]]


def _stamp_range(work: _Work, task: tuple[int, int]) -> tuple[bytes, bytes, _Found]:
    """lstat the files at positions ``start..stop``: sizes, mtimes, problems."""
    start, stop = task
    sizes, mtimes = array("q"), array("q")
    problems: _Found = []
    for position, location in enumerate(_locations(work, start, stop), start):
        try:
            info = os.stat(location, follow_symlinks=False)
        except OSError as exc:
            problems.append((position, "E_FILE_UNREADABLE", exc.strerror or str(exc)))
            sizes.append(0)
            mtimes.append(0)
            continue
        sizes.append(info.st_size)
        mtimes.append(info.st_mtime_ns)
    return sizes.tobytes(), mtimes.tobytes(), problems


def _hash_range(work: _Work, task: tuple[int, int, int | None, bytes, bytes]) -> tuple[bytes, bytes, _Found, list[int], bytes]:
    """Hash the files at positions ``start..stop``; each must still have its stamp from
    :func:`_stamp_range` (given as sizes and mtimes; empty: no stamps to match). Returns
    sizes, mtimes, problems, the positions left for tasks of their own, and the digests."""
    start, stop, own_task_bytes, size_bytes, mtime_bytes = task
    expected_sizes, expected_mtimes = array("q", size_bytes), array("q", mtime_bytes)
    digests = bytearray()
    sizes, mtimes = array("q"), array("q")
    problems: _Found = []
    deferred: list[int] = []
    zeros = bytes(_DIGEST_BYTES)
    for offset, location in enumerate(_locations(work, start, stop)):
        outcome = fingerprint(location, own_task_bytes)
        if outcome is not None and len(outcome) == 3:
            digest, size, mtime_ns = outcome
            if not expected_sizes or (size == expected_sizes[offset] and mtime_ns == expected_mtimes[offset]):
                digests += digest
                sizes.append(size)
                mtimes.append(mtime_ns)
                continue
            outcome = _CHANGED
        if outcome is None:
            deferred.append(start + offset)
        else:
            problems.append((start + offset, *outcome))
        digests += zeros
        sizes.append(0)
        mtimes.append(0)
    return sizes.tobytes(), mtimes.tobytes(), problems, deferred, bytes(digests)


def _range_unchanged(work: _Work, task: tuple[int, int, bytes, bytes]) -> bool:
    """True when every file at positions ``start..stop`` still has the given sizes and mtimes."""
    start, stop, size_bytes, mtime_bytes = task
    sizes, mtimes = array("q", size_bytes), array("q", mtime_bytes)
    try:
        for offset, location in enumerate(_locations(work, start, stop)):
            info = os.stat(location, follow_symlinks=False)
            if info.st_size != sizes[offset] or info.st_mtime_ns != mtimes[offset]:
                return False
    except OSError:
        return False
    return True


class FileHasher:
    """Stamps and hashes the selected files of a listing — in this process, or in forked
    workers that stay from the first stamp to the final re-check. Use as a context manager."""

    def __init__(self, listing: RunListing, selection: Sequence[int] | None = None, jobs: int | None = None) -> None:
        self.listing = listing
        self.selection: Sequence[int] = range(len(listing.paths)) if selection is None else selection
        self.jobs = default_jobs() if jobs is None else jobs
        self._pool = Parallel(0)
        self._ranges: list[tuple[int, int]] = []

    def _parallel(self) -> bool:
        count = len(self.selection)
        if self.jobs <= 1 or count < 2:
            return False
        if count >= PARALLEL_MIN_FILES:
            return True
        total = 0
        for index in self.selection:  # few files: their sizes decide, at a stat each
            try:
                total += os.stat(self.listing.location(index), follow_symlinks=False).st_size
            except OSError:
                pass  # reported when it is hashed
        return total >= PARALLEL_MIN_BYTES

    def __enter__(self) -> FileHasher:
        count = len(self.selection)
        work = _Work(self.listing, self.selection)
        if self._parallel() and CAN_FORK:
            # Many more ranges than workers: load balance on a busy machine, and progress.
            # Few files are parallel only because they are big: one task each.
            per_range = 1 if count < PARALLEL_MIN_FILES else min(max(count // (self.jobs * 16), 32), 4096)
            self._ranges = [(start, min(start + per_range, count)) for start in range(0, count, per_range)]
            # Forked: workers start in milliseconds and inherit the modules and the listing
            # (the pool's shared work); they die with this process and never hold its lock.
            self._pool = Parallel(min(self.jobs, len(self._ranges)), shared=work)
        else:
            # In this process: file by file while few (progress moves with each), else in ranges.
            step = 1 if count < PARALLEL_MIN_FILES else 256
            self._ranges = [(start, min(start + step, count)) for start in range(0, count, step)]
            self._pool = Parallel(0, shared=work)
        return self

    def __exit__(self, *exc_info: object) -> None:
        # An exception (an interrupt included) kills the workers: none outlives it.
        self._pool.__exit__(*exc_info)

    def stamps(self) -> Stamps:
        """Every selected file's size and modification time (an lstat each)."""
        count = len(self.selection)
        sizes, mtimes = array("q", bytes(8 * count)), array("q", bytes(8 * count))
        problems: _Found = []
        for (start, stop), (size_bytes, mtime_bytes, found) in zip(self._ranges, self._pool.map(_stamp_range, self._ranges)):
            sizes[start:stop] = array("q", size_bytes)
            mtimes[start:stop] = array("q", mtime_bytes)
            problems.extend(found)
        return Stamps(sizes, mtimes, tuple(problems))

    def fingerprint(self, progress: Progress = NO_PROGRESS, expected: Stamps | None = None) -> Fingerprints:
        """Hash every selected file; ``progress`` counts files. With ``expected`` (from
        :meth:`stamps`), a file whose stamp moved since is a problem (``E_FILE_CHANGED``)."""
        return self.start_fingerprint(expected)(progress)

    def start_fingerprint(self, expected: Stamps | None = None) -> Callable[[Progress], Fingerprints]:
        """:meth:`fingerprint` in two steps: the workers start hashing now, and the returned
        function collects their results (reporting to the progress it is given). The caller
        may work meanwhile."""
        count = len(self.selection)
        digests = bytearray(count * _DIGEST_BYTES)
        sizes, mtimes = array("q", bytes(8 * count)), array("q", bytes(8 * count))
        problems: _Found = []

        def store(start: int, result: tuple[bytes, bytes, _Found, list[int], bytes]) -> int:
            size_bytes, mtime_bytes, found, deferred, blob = result
            stop = start + len(blob) // _DIGEST_BYTES
            digests[start * _DIGEST_BYTES : stop * _DIGEST_BYTES] = blob
            sizes[start:stop] = array("q", size_bytes)
            mtimes[start:stop] = array("q", mtime_bytes)
            problems.extend(found)
            return stop - start - len(deferred)

        def task(start: int, stop: int, own_task_bytes: int | None) -> tuple[int, int, int | None, bytes, bytes]:
            if expected is None:
                return start, stop, own_task_bytes, b"", b""
            return start, stop, own_task_bytes, expected.sizes[start:stop].tobytes(), expected.mtimes[start:stop].tobytes()

        # A big file met in a range of many is left for a task of its own (in parallel only).
        own_task = OWN_TASK_BYTES if self._pool.processes and self._ranges[0][1] - self._ranges[0][0] > 1 else None
        tasks = [task(start, stop, own_task) for start, stop in self._ranges]
        results = self._pool.map(_hash_range, tasks)  # workers (if any) start on every range now

        def collect(progress: Progress = NO_PROGRESS) -> Fingerprints:
            single: list[tuple[int, Any]] = []  # (position, the worker pool's ticket for it)
            for (start, _), result in zip(self._ranges, results):
                progress.advance(store(start, result))
                single.extend((p, self._pool.submit(_hash_range, task(p, p + 1, None))) for p in result[3])
            for position, ticket in single:
                store(position, self._pool.result(ticket))
                progress.advance(1)
            problems.sort()
            return Fingerprints(sizes, mtimes, tuple(problems), digests)

        return collect

    def unchanged(self, stamps: Stamps) -> Callable[[], bool]:
        """Start checking that every selected file still has its stamp in ``stamps`` (a stat
        each, spread over the workers; call once all files are hashed). Returns the answer
        to wait for: True when none changed. The caller may work meanwhile."""
        tasks = [
            (start, stop, stamps.sizes[start:stop].tobytes(), stamps.mtimes[start:stop].tobytes())
            for start, stop in self._ranges
        ]
        tickets = [self._pool.submit(_range_unchanged, task) for task in tasks]
        return lambda: all([self._pool.result(ticket) for ticket in tickets])
