"""``govern validate`` and ``govern verify --log`` on a delta log of ``log_records`` records.

The log is real: ``log_registries`` sealed registries, each with a snapshot in every one of
``log_records / log_registries`` tiny sealed runs, and one ``govern delta build`` (untimed; its
time is noted) that records them all. Target: ≥ 250,000 records/s end to end for each command,
i.e. its median within ``records / 250,000`` seconds — the ratio shown is median/budget.
"""

from __future__ import annotations

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import run_id, write_sealed_run, write_workspace
from benchmarks.report import WorkloadReport, budget_row, seconds
from benchmarks.timing import Command, measure_alternately, run_once
from benchmarks.workloads import Workload

RATE = 250_000
BUILD_AT = "2030-01-01T00:00:00Z"
BUILD_RUN = "2030-01-01__000000__registry_delta_log_build"
LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"


def _config(registries: int) -> str:
    return "".join(f'[registries.reg_{r:03d}]\nkind = "sealed"\nartifact = "REG_{r:03d}.jsonl"\n\n' for r in range(registries))


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    workspace = root / "workspace"
    registries = max(1, sizes.log_registries)
    runs = max(1, -(-sizes.log_records // registries))
    runs_root = write_workspace(ctx, workspace, _config(registries))
    for s in range(runs):
        # each registry changes in one run out of four: a mix of empty and non-empty transitions
        files = {f"REG_{r:03d}.jsonl": f'{{"registry":{r},"version":{(s + r) // 4}}}\n'.encode() for r in range(registries)}
        write_sealed_run(runs_root / run_id(0, 60 * s, "snapshots"), files)
    build = run_once(Command.single("build", ctx.govern("-C", workspace, "delta", "build", "--at", BUILD_AT)))
    log = runs_root / BUILD_RUN / LOG_NAME
    with open(log, "rb") as handle:
        records = sum(1 for _ in handle)
    budget = records / RATE
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{records} records ({registries} registries x {runs} snapshots, {log.stat().st_size // 1024} KiB); "
        f"{sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    report.notes.append(f"the build that wrote the log (untimed set-up): {seconds(build.seconds)}")
    validate = Command.single("govern validate", ctx.govern("-C", workspace, "validate", log))
    verify = Command.single("govern verify --log", ctx.govern("-C", workspace, "verify", "--log"))
    results = measure_alternately([validate, verify], sizes.repeat, sizes.warmup)
    for command in (validate, verify):
        measured = results[command.label]
        rate = f"{records / measured.median:,.0f} records/s" if measured.ok and measured.median else ""
        report.rows.append(budget_row(f"{command.label} ({records} records)", measured, budget, ">= 250k records/s", rate))
    return report


def _disk(sizes: Sizes) -> int:
    # one 4 KiB block per payload file, the manifests, the log (~400 B/record)
    return sizes.log_records * (4096 + 200 + 400)


WORKLOAD = Workload("delta_log", "validate / verify --log of a large delta log (records/s)", _run, _disk)
