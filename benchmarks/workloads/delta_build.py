"""A delta build over two sealed snapshots of ``manifest_files`` files each, against GNU ``diff``.

The two snapshots are sealed runs with manifests written directly, and a payload of tiny files
(a build hashes the artifact files of every snapshot it records for the first time, issue 11;
the second snapshot's unchanged files are hard links to the first's): the second modifies 1%
of the files, removes 0.5% and adds 0.5%. ``govern delta build`` (the bootstrap record and one
transition, both snapshots' payloads hashed) is compared with ``diff`` of the same two
manifests written as path-sorted text lines ``path sha256 bytes``. Targets: ≤ 3× diff, ≤ 1.5 GiB
peak (set before builds hashed payloads). Each round deletes the build run the previous one
made, so every round does the same build.
"""

from __future__ import annotations

import hashlib
import os

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import Entry, build_undoer, run_id, write_seal, write_workspace
from benchmarks.report import GIB, WorkloadReport, compare_row, memory_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 3.0
MEMORY_LIMIT = GIB + GIB // 2
PER_FOLDER = 1000
CONFIG = '[registries.bulk]\nkind = "sealed"\nartifact = "data"\n'


def _entry(path: str, content: bytes) -> Entry:
    return path, hashlib.sha256(content).hexdigest(), len(content)


def snapshot_contents(files: int) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The two snapshots' files (path -> content): the second with 1% modified, 0.5% removed
    and 0.5% added."""
    first: dict[str, bytes] = {}
    second: dict[str, bytes] = {}
    for i in range(files):
        path = f"data/d{i // PER_FOLDER:04d}/f{i % PER_FOLDER:04d}.bin"
        first[path] = content = f"{i}\n".encode()
        if i % 200 == 1:
            continue  # removed
        second[path] = f"{i} modified\n".encode() if i % 100 == 0 else content
        if i % 200 == 2:
            second[path.replace(".bin", "a.bin")] = f"{i} added\n".encode()
    return first, second


def write_payload(run_dir, contents: dict[str, bytes], same_as=None, earlier: dict[str, bytes] | None = None) -> None:
    """The files of a snapshot; those with the same content as in ``earlier`` (the run
    ``same_as``) are hard links to it (cheap to make, and hashed like any file)."""
    made: set[str] = set()
    for path, content in contents.items():
        folder = path.rpartition("/")[0]
        if folder not in made:
            (run_dir / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        if earlier is not None and earlier.get(path) == content:
            os.link(same_as / path, run_dir / path)
        else:
            (run_dir / path).write_bytes(content)


def _write_lines(path, entries: list[Entry]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{p} {d} {s}\n" for p, d, s in entries))


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    workspace = root / "workspace"
    runs_root = write_workspace(ctx, workspace, CONFIG)
    first_files, second_files = snapshot_contents(sizes.manifest_files)
    run_a, run_b = runs_root / run_id(0, 0, "snapshot_a"), runs_root / run_id(1, 0, "snapshot_b")
    write_payload(run_a, first_files)
    write_payload(run_b, second_files, run_a, first_files)
    first = sorted(_entry(path, content) for path, content in first_files.items())
    second = sorted(_entry(path, content) for path, content in second_files.items())
    del first_files, second_files
    write_seal(run_a, first)
    write_seal(run_b, second)
    _write_lines(root / "a.txt", first)
    _write_lines(root / "b.txt", second)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"2 synthetic sealed snapshots of {len(first)} / {len(second)} entries; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    del first, second

    # Each round first takes back the previous round's build (its run and its commit in the
    # log's head chain), so every round is the same first build.
    remove_build = build_undoer(runs_root, "2024-02-01__000000__registry_delta_log_build")
    build = Command.single("govern delta build", ctx.govern("-C", workspace, "delta", "build", "--at", "2024-02-01T00:00:00Z"), prepare=remove_build)
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
