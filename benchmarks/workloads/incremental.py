"""An incremental build: one new snapshot on top of a long history against a short one.

Two workspaces hold one sealed registry with ``history_long`` and ``history_short`` snapshots
(tiny real sealed runs). Each is built once (untimed; its time is noted), then one new
snapshot is added and the next build is timed — every round removes the build the previous
round made, so each round does exactly the same incremental build. Target: the build on the
long history ≤ 1.2× the build on the short one (a build's cost follows the new work).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import build_undoer, run_id, write_sealed_run, write_workspace
from benchmarks.report import WorkloadReport, compare_row, seconds
from benchmarks.timing import Command, measure_alternately, run_once
from benchmarks.workloads import Workload

TARGET = 1.2
CONFIG = '[registries.reg]\nkind = "sealed"\nartifact = "REGISTRY.jsonl"\n'
FIRST_BUILD = "2030-01-01T00:00:00Z"
TIMED_BUILD = "2030-01-02T00:00:00Z"
TIMED_BUILD_RUN = "2030-01-02__000000__registry_delta_log_build"


def _history_workspace(ctx: BenchContext, directory: Path, snapshots: int) -> Path:
    runs_root = write_workspace(ctx, directory, CONFIG)
    for i in range(snapshots):
        # the content changes every other snapshot: half the transitions are empty ones
        content = "".join(f'{{"entry":{j},"version":{i // 2}}}\n' for j in range(3))
        write_sealed_run(runs_root / run_id(0, 60 * i, "snapshot"), {"REGISTRY.jsonl": content.encode()})
    return runs_root


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"1 new snapshot after {sizes.history_long} vs {sizes.history_short} snapshots of history; "
        f"{sizes.repeat_fast} rounds after {sizes.warmup} warm-up, alternating",
    )
    commands = {}
    for snapshots in (sizes.history_long, sizes.history_short):
        workspace = root / f"history_{snapshots}"
        runs_root = _history_workspace(ctx, workspace, snapshots)
        first = run_once(Command.single("first build", ctx.govern("-C", workspace, "delta", "build", "--at", FIRST_BUILD)))
        report.notes.append(f"first build over {snapshots} snapshots (untimed set-up): {seconds(first.seconds)}")
        write_sealed_run(runs_root / run_id(1000, 0, "snapshot_new"), {"REGISTRY.jsonl": b'{"entry":0,"version":"new"}\n'})

        undo_build = build_undoer(runs_root, TIMED_BUILD_RUN)
        label = f"build after {snapshots} snapshots"
        commands[snapshots] = Command.single(label, ctx.govern("-C", workspace, "delta", "build", "--at", TIMED_BUILD), prepare=undo_build)
    results = measure_alternately(list(commands.values()), sizes.repeat_fast, sizes.warmup)
    long, short = (results[commands[n].label] for n in (sizes.history_long, sizes.history_short))
    report.rows.append(
        compare_row(f"+1 snapshot: {sizes.history_long} vs {sizes.history_short} history", long, short, TARGET, f"<= {TARGET}")
    )
    return report


def _disk(sizes: Sizes) -> int:
    return (sizes.history_long + sizes.history_short) * 5 * 4096


WORKLOAD = Workload("incremental", "incremental build: long history vs short history", _run, _disk)
