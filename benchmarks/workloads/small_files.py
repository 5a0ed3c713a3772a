"""Seal and verify many small files against ``find | xargs openssl`` and bagit-python.

The tree: ``small_files`` files of 4 KiB in ``small_folders`` folders. Targets: ``govern seal``
≤ 1.3× ``find … -type f -print0 | xargs -0 -P2 -n 500 openssl dgst -sha256`` and ≥ 8× faster
than ``bagit.py --sha256 --processes 2`` (creating a bag); ``govern verify`` ≥ 8× faster than
``bagit.py --validate --processes 2``. Progress bars (shown only on a terminal) cost < 2%:
``govern seal`` under a pseudo-terminal, with bars against without, ≤ 1.02.

bagit turns a folder into a bag in place: it *renames* the payload into ``data/`` and writes
its tag files next to it, never rewriting a payload file. So before each bagit round (untimed)
the bag folder is put back to a plain tree — payload renamed back out of ``data/``, tag files
deleted — which is the same state a fresh copy would give, without copying 100,000 files per
round (``cp -a`` of the tree took about a minute on the reference machine). The bag folder is
made once, as a copy of the tree, so ``govern seal`` and bagit never touch the same files.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import remove_seal, run_id, write_small_tree
from benchmarks.report import Row, WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

XARGS_TARGET = 1.3
BARS_TARGET = 1.02
BAGIT_TARGET = 1 / 8


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    run_dir = root / run_id(0, 0, "many_small_files")
    bag = root / "bag"
    write_small_tree(run_dir, sizes.small_files, sizes.small_folders, sizes.small_file_bytes)
    os.sync()
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.small_files} files of {sizes.small_file_bytes} B in {sizes.small_folders} folders (page-cached); "
        f"{sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )

    def unbag() -> None:
        """Put the bag folder back to a plain tree (what bagit found before making the bag)."""
        payload = bag / "data"
        if not payload.is_dir():
            return
        for entry in list(os.scandir(bag)):
            if entry.name != "data":
                os.unlink(entry.path)  # bagit.txt, bag-info.txt, manifest-*.txt, tagmanifest-*.txt
        for entry in list(os.scandir(payload)):
            os.rename(entry.path, bag / entry.name)
        payload.rmdir()

    seal = Command.single("govern seal", ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"), prepare=lambda: remove_seal(run_dir))
    xargs_label = "find|xargs -P2 openssl"
    xargs = Command.single(
        xargs_label,
        ["sh", "-c", 'find "$1" -type f -print0 | xargs -0 -P2 -n 500 openssl dgst -sha256 >/dev/null', "sh", run_dir],
        prepare=lambda: remove_seal(run_dir),
    )
    bagit_path = ctx.tool("bagit.py")
    create_label, validate_label = "bagit.py --sha256 -p2", "bagit.py --validate -p2"
    commands = [seal]
    xargs_missing = ctx.missing(xargs_label, "openssl", "find", "xargs")
    if xargs_missing is None:
        commands.append(xargs)
    if bagit_path is not None:
        ctx.setup(["cp", "-a", str(run_dir), str(bag)])
        remove_seal(bag)
        os.sync()
        commands.append(Command.single(create_label, [bagit_path, "--sha256", "--processes", "2", bag], prepare=unbag))
    results = measure_alternately(commands, sizes.repeat, sizes.warmup)
    report.rows.append(compare_row("seal vs find|xargs openssl", results["govern seal"], xargs_missing or results[xargs_label], XARGS_TARGET, f"<= {XARGS_TARGET}"))
    bagit_missing = ctx.missing(create_label, "bagit.py")
    report.rows.append(
        compare_row("seal vs bagit create", results["govern seal"], bagit_missing or results[create_label], BAGIT_TARGET, "<= 0.125 (8x faster)")
    )

    report.rows.append(_progress_bar_row(ctx, run_dir))

    remove_seal(run_dir)
    ctx.setup(ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"))
    verify = Command.single("govern verify", ctx.govern("verify", run_dir))
    commands = [verify]
    if bagit_path is not None:
        if not (bag / "bagit.txt").exists():  # the bag of the last round above, unless bagit failed there
            unbag()
            ctx.setup([str(bagit_path), "--sha256", "--processes", "2", str(bag)])
        commands.append(Command.single(validate_label, [bagit_path, "--validate", "--processes", "2", bag]))
    results = measure_alternately(commands, sizes.repeat, sizes.warmup)
    bagit_missing = ctx.missing(validate_label, "bagit.py")
    report.rows.append(
        compare_row("verify vs bagit validate", results["govern verify"], bagit_missing or results[validate_label], BAGIT_TARGET, "<= 0.125 (8x faster)")
    )
    return report


def _progress_bar_row(ctx: BenchContext, run_dir: Path) -> Row:
    """What the progress bar costs: ``govern seal`` on a terminal (a pseudo-terminal made by
    util-linux ``script``, bars drawn on stderr) against the same with stderr sent to
    /dev/null (no bars: they show only on a terminal). Both run under ``script``, so the
    pseudo-terminal's own cost falls on both."""
    label, quiet_label = "govern seal, bars", "govern seal, no bars"
    missing = ctx.missing(label, "script")
    if missing is not None:
        return compare_row("progress bars: seal on a terminal", missing, missing, BARS_TARGET, f"<= {BARS_TARGET}")
    seal = shlex.join(ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"))
    script = str(ctx.tool("script"))
    with_bars = Command.single(label, [script, "-qec", seal, "/dev/null"], prepare=lambda: remove_seal(run_dir))
    without = Command.single(quiet_label, [script, "-qec", f"{seal} 2>/dev/null", "/dev/null"], prepare=lambda: remove_seal(run_dir))
    results = measure_alternately([with_bars, without], ctx.sizes.repeat, ctx.sizes.warmup)
    return compare_row("progress bars: seal on a terminal", results[label], results[quiet_label], BARS_TARGET, f"<= {BARS_TARGET} (< 2% cost)")


def _disk(sizes: Sizes) -> int:
    # the tree and one bag, each file taking at least a 4 KiB block, plus manifests
    return 2 * sizes.small_files * (max(sizes.small_file_bytes, 4096) + 300)


WORKLOAD = Workload("small_files", "seal / verify of many small files vs find|xargs openssl and bagit", _run, _disk)
