"""Seal and verify large files against ``openssl dgst -sha256``.

One file: ``govern seal`` / ``govern verify`` of a run holding one file against one openssl
process (target ≤ 1.05×). Two files: a run holding two files against two openssl processes
in parallel (target ≤ 1.05×: govern must use both cores). The two-file run's first file is a
hard link of the one-file run's, so the data is written and cached once per file.

A third command runs in the same rounds: the *floor* — a Python process that only imports
typer and hashes the files with :func:`hashlib.file_digest` (one process per file, in
parallel). It is what any typer command line in Python pays at the least, so its row shows how
much of govern's ratio is the interpreter and the CLI framework rather than govern.
"""

from __future__ import annotations

import os

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import remove_seal, run_id, write_random_file
from benchmarks.report import MIB, WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 1.05

#: The floor: interpreter start-up + ``import typer`` + hashing, nothing else.
FLOOR_PROGRAM = "import hashlib, sys, typer\nwith open(sys.argv[1], 'rb') as f: hashlib.file_digest(f, 'sha256')"


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    size = sizes.big_file_mib * MIB
    one = root / run_id(0, 0, "one_large_file")
    two = root / run_id(0, 1, "two_large_files")
    write_random_file(two / "part1.bin", size)
    write_random_file(two / "part2.bin", size)
    one.mkdir()
    os.link(two / "part1.bin", one / "part1.bin")
    files = {one: [one / "part1.bin"], two: [two / "part1.bin", two / "part2.bin"]}
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"files of {sizes.big_file_mib} MiB (random, page-cached); {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    openssl = ctx.tool("openssl")
    for run_dir, label in ((one, "1 file"), (two, f"{len(files[two])} files")):
        peer_label = f"openssl x{len(files[run_dir])}"
        seal = Command.single(f"govern seal ({label})", ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"), prepare=lambda d=run_dir: remove_seal(d))
        peer = None
        if openssl is not None:
            peer = Command.parallel(peer_label, [[openssl, "dgst", "-sha256", path] for path in files[run_dir]])
        floor = Command.parallel(f"python+typer floor ({label})", [[ctx.python, "-c", FLOOR_PROGRAM, path] for path in files[run_dir]])
        results = measure_alternately([seal, floor] + ([peer] if peer else []), sizes.repeat, sizes.warmup)
        skipped = ctx.missing(peer_label, "openssl")
        report.rows.append(
            compare_row(f"seal {label} vs {peer_label}", results[seal.label], skipped or results[peer_label], TARGET, f"<= {TARGET}")
        )
        report.rows.append(
            compare_row(
                f"floor: python+typer+file_digest ({label}) vs {peer_label}",
                results[floor.label],
                skipped or results[peer_label],
                TARGET,
                f"<= {TARGET}",
                note="not govern: the least any typer CLI in Python pays (start-up, import typer, hashing)",
                reference=True,
            )
        )
        # The last seal above left the run sealed: verify it.
        remove_seal(run_dir)
        ctx.setup(ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"))
        verify = Command.single(f"govern verify ({label})", ctx.govern("verify", run_dir))
        results = measure_alternately([verify] + ([peer] if peer else []), sizes.repeat, sizes.warmup)
        report.rows.append(
            compare_row(f"verify {label} vs {peer_label}", results[verify.label], skipped or results[peer_label], TARGET, f"<= {TARGET}")
        )
    return report


def _disk(sizes: Sizes) -> int:
    return 2 * sizes.big_file_mib * MIB


WORKLOAD = Workload("large_files", "seal / verify of large files vs openssl dgst -sha256", _run, _disk)
