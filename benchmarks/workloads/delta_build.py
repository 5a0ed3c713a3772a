"""A delta build over two sealed snapshots of ``manifest_files`` files each, against GNU ``diff``.

The two snapshots are synthetic sealed runs (manifests written directly, no payload): the
second modifies 1% of the files, removes 0.5% and adds 0.5%. ``govern delta build`` (the
bootstrap record and one transition) is compared with ``diff`` of the same two manifests
written as path-sorted text lines ``path sha256 bytes``. Targets: ≤ 3× diff, ≤ 1.5 GiB peak.
Each round deletes the build run the previous one made, so every round does the same build.
"""

from __future__ import annotations

import hashlib
import shutil

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import Entry, run_id, write_seal, write_workspace
from benchmarks.report import GIB, WorkloadReport, compare_row, memory_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 3.0
MEMORY_LIMIT = GIB + GIB // 2
PER_FOLDER = 1000
CONFIG = '[registries.bulk]\nkind = "sealed"\nartifact = "data"\n'


def snapshot_entries(files: int) -> tuple[list[Entry], list[Entry]]:
    """The two snapshots' manifest entries (sorted): the second with 1% modified, 0.5% removed
    and 0.5% added."""
    first: list[Entry] = []
    second: list[Entry] = []
    for i in range(files):
        path = f"data/d{i // PER_FOLDER:04d}/f{i % PER_FOLDER:04d}.bin"
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        first.append((path, digest, 4096))
        if i % 200 == 1:
            continue  # removed
        if i % 100 == 0:
            digest = hashlib.sha256(f"{i} modified".encode()).hexdigest()
        second.append((path, digest, 4096))
        if i % 200 == 2:
            second.append((path.replace(".bin", "a.bin"), hashlib.sha256(f"{i} added".encode()).hexdigest(), 4096))
    second.sort()
    return first, second


def _write_lines(path, entries: list[Entry]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{p} {d} {s}\n" for p, d, s in entries))


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    workspace = root / "workspace"
    runs_root = write_workspace(ctx, workspace, CONFIG)
    first, second = snapshot_entries(sizes.manifest_files)
    write_seal(runs_root / run_id(0, 0, "snapshot_a"), first)
    write_seal(runs_root / run_id(1, 0, "snapshot_b"), second)
    _write_lines(root / "a.txt", first)
    _write_lines(root / "b.txt", second)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"2 synthetic sealed snapshots of {len(first)} / {len(second)} entries; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    del first, second

    def remove_builds() -> None:
        for path in runs_root.iterdir():
            if path.name.endswith("__registry_delta_log_build") or path.name.startswith(".govern-tmp"):
                shutil.rmtree(path)

    build = Command.single("govern delta build", ctx.govern("-C", workspace, "delta", "build", "--at", "2024-02-01T00:00:00Z"), prepare=remove_builds)
    diff = Command.single("diff", ["diff", root / "a.txt", root / "b.txt"], ok_codes=frozenset({0, 1}))
    missing = ctx.missing("diff", "diff")
    results = measure_alternately([build] + ([] if missing else [diff]), sizes.repeat, sizes.warmup)
    report.rows.append(compare_row("delta build vs diff", results[build.label], missing or results["diff"], TARGET, f"<= {TARGET}"))
    report.rows.append(memory_row("delta build peak memory", results[build.label], MEMORY_LIMIT, "<= 1.5 GiB"))
    return report


def _disk(sizes: Sizes) -> int:
    # two manifests (~150 B/entry), their text lines (~90 B/entry), the log (~40 B/entry)
    return sizes.manifest_files * 2 * (150 + 90 + 40)


WORKLOAD = Workload("delta_build", "delta build over two large sealed snapshots vs diff", _run, _disk)
