"""Memory ceilings (opt-in with ``--heavy``: generating a million files takes minutes).

``govern seal`` of ``heavy_files`` files of 64 B in ``heavy_folders`` folders: peak ≤ 1 GiB.
``govern seal`` of a run holding one sparse file of ``sparse_file_mib`` MiB (its holes read as
zeros; hashing cost is the same): peak ≤ 100 MiB — hashing must stream. One round each; the
peak is the largest resident set of any govern process (worker processes included).
"""

from __future__ import annotations

import os

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import run_id, write_small_tree
from benchmarks.report import GIB, MIB, WorkloadReport, memory_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.heavy_files} files of 64 B in {sizes.heavy_folders} folders; one sparse file of {sizes.sparse_file_mib} MiB; one round each",
    )
    many = root / run_id(0, 0, "many_files")
    write_small_tree(many, sizes.heavy_files, sizes.heavy_folders, 64)
    os.sync()
    seal = Command.single("govern seal (many files)", ctx.govern("seal", many, "--at", "2024-01-01T00:00:00Z"))
    result = measure_alternately([seal], 1)[seal.label]
    report.rows.append(memory_row(f"seal {sizes.heavy_files} files: peak", result, GIB, "<= 1 GiB"))

    sparse = root / run_id(0, 1, "sparse_file")
    sparse.mkdir()
    with open(sparse / "sparse.bin", "wb") as handle:
        handle.truncate(sizes.sparse_file_mib * MIB)
    seal = Command.single("govern seal (sparse file)", ctx.govern("seal", sparse, "--at", "2024-01-01T00:00:00Z"))
    result = measure_alternately([seal], 1)[seal.label]
    report.rows.append(memory_row(f"seal {sizes.sparse_file_mib} MiB file: peak", result, 100 * MIB, "<= 100 MiB"))
    return report


def _disk(sizes: Sizes) -> int:
    return sizes.heavy_files * (4096 + 200)


WORKLOAD = Workload("memory", "peak memory of sealing many files and one huge file (--heavy)", _run, _disk, heavy=True)
