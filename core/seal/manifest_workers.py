"""Reading the seals of many runs at once, large manifests side by side in worker processes.

A delta build reads every new snapshot's manifest, and a large one is a second or so of
parsing on one core; :func:`read_seals` spreads them over the CPUs. A worker is forked
(:class:`govern.runtime.parallel.Parallel`: it dies with this process and never holds its
lock; a manifest whose worker dies is read here instead), so it starts in milliseconds with
every module imported, and hands its result back through memory shared with this process: the manifest's paths, digests and sizes as three flat blocks, which
this process turns back into columns. (A hundred megabytes pushed through the result pipe
instead cost more than the copy, on a busy machine several times more.)
"""

from __future__ import annotations

import array
import mmap
import os
from collections.abc import Sequence
from pathlib import Path

import attrs

from govern.format.manifest import MANIFEST_NAME, Manifest, SealCheck
from govern.seal.seal_file import read_seal

#: Manifests at least this large are worth a worker process of their own.
PARALLEL_MANIFEST_BYTES = 16 << 20

#: Where a worker left a manifest: run id and the lengths of the paths, digests and sizes.
_Layout = tuple[str, int, int, int]


def _manifest_size(run_dir: Path) -> int:
    try:
        return os.lstat(run_dir / MANIFEST_NAME).st_size
    except OSError:
        return 0  # read_seal reports why


def read_seals(run_dirs: Sequence[Path], jobs: int | None = None) -> list[SealCheck]:
    """:func:`govern.seal.seal_file.read_seal` of every run, in order; large manifests side by side.

    When two or more manifests are large (:data:`PARALLEL_MANIFEST_BYTES`), all but the first
    are read by forked worker processes (at most ``jobs`` processes in all, default: the
    usable CPUs) while this process reads the first and the small ones. The results are
    those of ``read_seal`` either way.
    """
    run_dirs = [Path(run_dir) for run_dir in run_dirs]
    sizes = [_manifest_size(run_dir) for run_dir in run_dirs]
    large = [index for index, size in enumerate(sizes) if size >= PARALLEL_MANIFEST_BYTES]
    if len(large) >= 2 and jobs is None:
        from govern.runtime.jobs import default_jobs

        jobs = default_jobs()
    if len(large) < 2 or jobs is None or jobs < 2:
        return [read_seal(run_dir) for run_dir in run_dirs]
    from govern.runtime.parallel import CAN_FORK, Parallel

    if not CAN_FORK:
        return [read_seal(run_dir) for run_dir in run_dirs]
    elsewhere = large[1:]
    checks: dict[int, SealCheck] = {}
    # Per run (by index), the buffer its worker leaves the manifest in: mapped before the
    # workers fork (they inherit them, as the pool's shared object), so both see the same
    # memory. A worker's payload (paths, digests, sizes) is smaller than the manifest text.
    buffers = {index: mmap.mmap(-1, sizes[index]) for index in elsewhere}
    try:
        with Parallel(min(jobs - 1, len(elsewhere)), shared=buffers) as pool:
            tickets = {index: pool.submit(_read_seal_in_worker, (run_dirs[index], index)) for index in elsewhere}
            for index, run_dir in enumerate(run_dirs):
                if index not in tickets:
                    checks[index] = read_seal(run_dir)
            for index, ticket in tickets.items():
                check, layout = pool.result(ticket)
                checks[index] = check if layout is None else attrs.evolve(check, manifest=_take_shared(buffers[index], layout))
    finally:
        for buffer in buffers.values():
            buffer.close()
    return [checks[index] for index in range(len(run_dirs))]


def _read_seal_in_worker(buffers: dict[int, mmap.mmap], task: tuple[Path, int]) -> tuple[SealCheck, _Layout | None]:
    """In a worker: read the seal of ``(run_dir, index)``; leave a large manifest in its
    buffer among the shared ``buffers`` (returning the check without it, and where it lies), or return the whole
    check when it does not fit."""
    run_dir, index = task
    check = read_seal(run_dir)
    manifest = check.manifest
    joined = None if manifest is None else manifest.joined_columns()
    if manifest is None or joined is None:
        return check, None
    paths, digests = joined
    try:
        sizes = array.array("Q", manifest.sizes).tobytes()
    except OverflowError:  # a size beyond 64 bits
        return check, None
    buffer = buffers[index]
    end = len(paths) + len(digests) + len(sizes)
    if end > len(buffer):
        return check, None
    buffer[: len(paths)] = paths
    buffer[len(paths) : len(paths) + len(digests)] = digests
    buffer[len(paths) + len(digests) : end] = sizes
    return attrs.evolve(check, manifest=None), (manifest.run_id, len(paths), len(digests), len(sizes))


def _take_shared(buffer: mmap.mmap, layout: _Layout) -> Manifest:
    """The manifest a worker left in ``buffer``."""
    run_id, paths_length, digests_length, sizes_length = layout
    with memoryview(buffer) as view:
        paths = str(view[:paths_length], "ascii").split("\n")
        digests = str(view[paths_length : paths_length + digests_length], "ascii").split("\n")
        sizes = array.array("Q")
        sizes.frombytes(view[paths_length + digests_length : paths_length + digests_length + sizes_length])
    # Kept as columns only: this manifest is not handed on again.
    return Manifest.from_columns(run_id, paths, digests, sizes.tolist())
