"""Scale (opt-in with ``--heavy``): a runs root of ``scale_runs`` runs against one of ``scale_runs_small``.

Issue 18's target: with a runs root of 100,000 runs and a delta log of 10,000,000 records,
``govern delta build`` of one new snapshot run and ``govern verify --log --checkpoint`` stay
within 2× of the same on 1,000 runs / 100,000 records — cost grows with the new work, not with
the history — and every command on the large root peaks at ≤ 1 GiB.

Two workspaces are made the same way; the large one is the small one with more history. Each
holds ``scale_registries`` sealed registries and tiny sealed runs, each holding an artifact of
every registry, a quarter of them changed per run (the ``delta_log`` workload's runs). Payload
files are written once per content and hard-linked into the later runs that hold the same
content; manifests and seals are written by the generator's canonical writer
(``benchmarks/generate.py``). The log itself is written by govern: one untimed bootstrap
``govern delta build`` per workspace (its time and peak are noted), signed with a key made by
``govern log keygen`` (``GOVERN_SIGNING_KEY``), so every build carries a signed checkpoint; the
bootstrap's checkpoint (``govern log checkpoint``) is the one a verifier holds.

Then one new snapshot run (every registry, a quarter changed) is added to both, and measured,
large against small, alternating rounds: ``delta build`` (each round first removes the build
the previous round made, untimed, so every round appends the same records to the same log);
``verify --log --checkpoint CP --vkey KEY`` (against the log the last build round left). On
the large root, the peak memory of every command measured there is held to 1 GiB: the build,
``verify --log``, ``validate LOG`` and ``check`` (which judges every record of the log).

Full size (100,000 runs × 100 registries: 10,000,000 records): 10,000,000 payload names
(2,500,000 files of 4 KiB on disk, the rest hard links), 100,000 manifests of ~14 KiB, a log of
~6.7 GB (666 B a record) that the bootstrap writes and every timed build copies — about 33 GB
of disk with the small workspace (``_disk``), and about 5 minutes to generate the runs on the
2-core machine of docs/performance.md. The full size was not run there: the bootstrap build
plans every record in memory (≈ 5.6 KiB a record: ≈ 56 GiB for 10,000,000) — see "Scale
(issue 18)" there for the largest size measured and the extrapolation.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import build_undoer, run_id, write_seal, write_workspace
from benchmarks.report import GIB, WorkloadReport, compare_row, memory_row, seconds, size
from benchmarks.timing import Command, Measurement, measure_alternately, run_once
from benchmarks.workloads import Workload
from benchmarks.workloads.delta_log import LOG_NAME, _config

TARGET = 2.0
KEY_NAME = "bench.example/govern"
BOOTSTRAP_AT = "2030-01-01T00:00:00Z"
TIMED_AT = "2030-01-02T00:00:00Z"
TIMED_BUILD_RUN = "2030-01-02__000000__registry_delta_log_build"
#: the new snapshot run's day: after every generated run (100,000 runs a minute apart are 70 days)
NEW_RUN_DAY = 10_000
#: a progress line on stderr every this many runs generated
PROGRESS_EVERY = 5_000
#: the bootstrap build's peak memory per record planned, as measured at commit 6700581 (5.6 GiB
#: for 1,000,000 records): what the warning before a large set-up goes by
BOOTSTRAP_BYTES_PER_RECORD = 5_900


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _warn_if_memory_short(records: int) -> None:
    """Say on stderr, before minutes of generating, when the bootstrap build will likely not fit."""
    needed, available = records * BOOTSTRAP_BYTES_PER_RECORD, _available_memory()
    if available is not None and needed > available:
        print(
            f"   scale: warning: the bootstrap build of {records:,} records needs about {size(needed)} of memory "
            f"(as measured at 6700581), {size(available)} available: it will likely be killed; "
            "a smaller root: --set scale_runs=10000",
            file=sys.stderr,
            flush=True,
        )


def _artifact(registry: int, version: int) -> bytes:
    return f'{{"registry":{registry},"version":{version}}}\n'.encode()


def _artifact_name(registry: int) -> str:
    return f"REG_{registry:03d}.jsonl"


def write_history(runs_root: Path, runs: int, registries: int, label: str) -> None:
    """``runs`` sealed runs of ``registries`` artifacts; registry ``r`` in run ``s`` holds version
    ``(s + r) // 4`` (a quarter of the registries change per run). Each content is written once,
    into the first run holding it, and hard-linked into the others."""
    first_copy: dict[int, tuple[int, Path, str, int]] = {}  # registry -> (version, the file holding it, sha256, bytes)
    started = time.monotonic()
    for s in range(runs):
        run_dir = runs_root / run_id(0, 60 * s, "snapshots")
        run_dir.mkdir(parents=True)
        entries = []
        for r in range(registries):
            version = (s + r) // 4
            target = run_dir / _artifact_name(r)
            known = first_copy.get(r)
            if known is not None and known[0] == version:
                os.link(known[1], target)
            else:
                content = _artifact(r, version)
                target.write_bytes(content)
                known = first_copy[r] = (version, target, hashlib.sha256(content).hexdigest(), len(content))
            entries.append((target.name, known[2], known[3]))
        write_seal(run_dir, entries)  # names REG_000… sort as the registries do
        if (s + 1) % PROGRESS_EVERY == 0:
            print(f"   scale: {label}: {s + 1:,}/{runs:,} runs written ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


def _new_snapshot(runs_root: Path, runs: int, registries: int) -> None:
    """The run the timed build records: what run number ``runs`` of :func:`write_history` holds."""
    run_dir = runs_root / run_id(NEW_RUN_DAY, 0, "snapshots_new")
    run_dir.mkdir(parents=True)
    entries = []
    for r in range(registries):
        content = _artifact(r, (runs + r) // 4)
        (run_dir / _artifact_name(r)).write_bytes(content)
        entries.append((_artifact_name(r), hashlib.sha256(content).hexdigest(), len(content)))
    write_seal(run_dir, entries)


def _signed_env(key: Path) -> dict[str, str]:
    return {**os.environ, "GOVERN_SIGNING_KEY": str(key)}


def _workspace(ctx: BenchContext, directory: Path, runs: int, key: Path, report: WorkloadReport) -> tuple[Path, Path]:
    """Generate one workspace, bootstrap its log (signed), keep its checkpoint; (workspace, checkpoint)."""
    sizes = ctx.sizes
    label = f"{runs:,} runs"
    runs_root = write_workspace(ctx, directory, _config(sizes.scale_registries))
    ctx.setup(ctx.govern("-C", directory, "governance", "sync"))  # the books catalogue the registries: `check` passes
    started = time.monotonic()
    write_history(runs_root, runs, sizes.scale_registries, label)
    report.notes.append(f"{label}: generated in {time.monotonic() - started:.0f} s (untimed set-up)")
    print(f"   scale: {label}: bootstrap delta build…", file=sys.stderr, flush=True)
    bootstrap = run_once(
        Command.single(f"bootstrap ({label})", ctx.govern("-C", directory, "delta", "build", "--at", BOOTSTRAP_AT), env=_signed_env(key))
    )
    log = next(runs_root.glob(f"*__registry_delta_log_build/{LOG_NAME}"))
    report.notes.append(
        f"{label}: bootstrap build of {runs * sizes.scale_registries:,} records (untimed set-up): "
        f"{seconds(bootstrap.seconds)}, peak {size(bootstrap.peak_bytes)}, log {size(log.stat().st_size)}"
    )
    checkpoint = directory / "held.checkpoint"
    ctx.setup(ctx.govern("-C", directory, "log", "checkpoint", "--out", checkpoint))
    _new_snapshot(runs_root, runs, sizes.scale_registries)
    return directory, checkpoint


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    small_runs, large_runs, registries = sizes.scale_runs_small, sizes.scale_runs, sizes.scale_registries
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{large_runs:,} runs / {large_runs * registries:,} records vs {small_runs:,} runs / {small_runs * registries:,} records "
        f"({registries} registries); +1 snapshot run ({registries} records); {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    _warn_if_memory_short(large_runs * registries)
    key = root / "signer.key"
    vkey = root / "verifier.vkey"
    vkey.write_text(ctx.setup(ctx.govern("log", "keygen", KEY_NAME, "--out", key)), encoding="utf-8")
    workspaces = {runs: _workspace(ctx, root / f"runs_{runs}", runs, key, report) for runs in (large_runs, small_runs)}

    builds, verifies = {}, {}
    for runs, (workspace, checkpoint) in workspaces.items():
        runs_root = workspace / ".codex" / "RUNS"
        undo_build = build_undoer(runs_root, TIMED_BUILD_RUN)
        builds[runs] = Command.single(
            f"delta build +1 run ({runs:,} runs)",
            ctx.govern("-C", workspace, "delta", "build", "--at", TIMED_AT),
            prepare=undo_build,
            env=_signed_env(key),
        )
        verifies[runs] = Command.single(
            f"verify --log --checkpoint ({runs:,} runs)",
            ctx.govern("-C", workspace, "verify", "--log", "--checkpoint", checkpoint, "--vkey", vkey),
        )
    case = f"{large_runs:,} vs {small_runs:,} runs"
    measured: dict[str, Measurement] = {}
    for commands, what in ((builds, "delta build +1 snapshot run"), (verifies, "verify --log --checkpoint")):
        # builds first: the last build round leaves its build in place, the log verify then checks
        results = measure_alternately([commands[large_runs], commands[small_runs]], sizes.repeat, sizes.warmup)
        large, small = results[commands[large_runs].label], results[commands[small_runs].label]
        report.rows.append(compare_row(f"{what}: {case}", large, small, TARGET, f"<= {TARGET}"))
        measured[what] = large

    large_workspace = workspaces[large_runs][0]
    log = large_workspace / ".codex" / "RUNS" / TIMED_BUILD_RUN / LOG_NAME
    for label, argv in (
        ("validate LOG", ctx.govern("-C", large_workspace, "validate", log)),
        ("check", ctx.govern("-C", large_workspace, "check")),
    ):
        command = Command.single(f"{label} ({large_runs:,} runs)", argv)
        measured[label] = measure_alternately([command], 1)[command.label]
    for what, result in measured.items():
        report.rows.append(memory_row(f"{what} ({large_runs:,} runs): peak", result, GIB, "<= 1 GiB"))
    return report


def _disk(sizes: Sizes) -> int:
    # per run: a 4 KiB block for each new payload file (a quarter; the rest are hard links), a
    # directory, its manifest (~140 B per entry, in 4 KiB blocks) and seal; per record ~670 B of
    # log (measured: 666 B), written by the bootstrap and copied by the timed build kept in
    # place, with room for a third copy (a build's staging), for both workspaces
    def one(runs: int) -> int:
        registries = sizes.scale_registries
        per_run = registries // 4 * 4096 + 4096 + -(-registries * 140 // 4096) * 4096 + 4096
        return runs * per_run + 3 * runs * registries * 670

    return one(sizes.scale_runs) + one(sizes.scale_runs_small)


WORKLOAD = Workload("scale", "+1 snapshot and verify --log on a huge runs root vs a small one; peak memory there (--heavy)", _run, _disk, heavy=True)
