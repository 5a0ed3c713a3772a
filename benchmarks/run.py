"""``python -m benchmarks.run`` (``make bench``): run the workloads, print a table per workload.

    python -m benchmarks.run                  # every workload at issue 7's sizes (minutes)
    python -m benchmarks.run --quick          # tiny sizes: a smoke run of the whole harness
    python -m benchmarks.run --heavy          # also the heavy workloads (memory: a million files; scale: 100,000 runs)
    python -m benchmarks.run startup delta_build --set manifest_files=200000 --repeat 3

Exit status: 0 when every workload ran (targets met or not — the tables say which), 1 when a
command failed or a workload could not be set up, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.report import WorkloadReport, markdown_table, render, size
from benchmarks.workloads import all_workloads


def _parser() -> argparse.ArgumentParser:
    names = [w.name for w in all_workloads()]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description="govern against named peers (issue 7).")
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=f"run only these (of {', '.join(names)})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke run, not a measurement")
    parser.add_argument("--heavy", action="store_true", help="also run the heavy workloads (memory: a million files, a 10 GiB sparse file; scale: 100,000 runs, a 10,000,000-record log)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a size (see benchmarks/context.py: Sizes)")
    parser.add_argument("--repeat", type=int, metavar="N", help="timed rounds for every comparison")
    parser.add_argument("--warmup", type=int, metavar="N", help="untimed rounds before the timed ones")
    parser.add_argument("--scratch", type=Path, help="where to create the temporary folder (default: the system's, /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data (default: deleted after each workload)")
    parser.add_argument("--govern", type=Path, help="the govern executable (default: the one beside this Python)")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="also print all rows as one Markdown table at the end")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    return parser


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


def machine_summary(govern: Path) -> dict[str, str]:
    """What the figures were measured on (printed first, recorded in the JSON)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "govern": _first_line([str(govern), "--version"]),
        "openssl": _first_line(["openssl", "version"]) if shutil.which("openssl") else "not installed",
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _default_govern() -> Path | None:
    beside = Path(sys.executable).parent / "govern"
    if beside.is_file():
        return beside
    found = shutil.which("govern")
    return Path(found) if found else None


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads; return the exit status."""
    args = _parser().parse_args(argv)
    workloads = all_workloads()
    if args.list:
        for workload in workloads:
            print(f"{workload.name:<14} {workload.title}{'  [--heavy]' if workload.heavy else ''}")
        return 0
    known = {w.name for w in workloads}
    unknown = sorted(set(args.workloads) - known)
    if unknown:
        print(f"bench: unknown workload(s) {unknown}; known: {sorted(known)}", file=sys.stderr)
        return 2
    sizes = (Sizes.quick() if args.quick else Sizes()).override(args.set)
    if args.repeat is not None:
        sizes.repeat = sizes.repeat_fast = max(1, args.repeat)
    if args.warmup is not None:
        sizes.warmup = max(0, args.warmup)
    govern = args.govern or _default_govern()
    if govern is None:
        print("bench: no govern executable found (make install, or --govern PATH)", file=sys.stderr)
        return 2
    machine = machine_summary(govern)
    print(
        f"govern benchmarks{' (--quick: tiny sizes, figures meaningless)' if args.quick else ''}\n"
        f"machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; {machine['govern']}; "
        f"{machine['openssl']}; load average {machine['load_average']}\n"
        "ratio = govern / peer (or / budget, / limit); medians of alternating rounds\n",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="govern-bench-", dir=args.scratch))
    ctx = BenchContext(sizes=sizes, scratch=scratch, govern_path=govern.absolute(), python=Path(sys.executable))
    reports: list[WorkloadReport] = []
    broken = False
    try:
        for workload in workloads:
            if args.workloads and workload.name not in args.workloads:
                continue
            if workload.heavy and not args.heavy:
                print(f"== {workload.name}: {workload.title}\n   not run: heavy, opt-in with --heavy\n", flush=True)
                continue
            free = shutil.disk_usage(scratch).free
            needed = workload.disk_bytes(sizes)
            if needed > free * 0.9:
                print(f"== {workload.name}: not run: needs ~{size(needed)} of disk in {scratch}, {size(free)} free\n", flush=True)
                broken = True
                continue
            started = time.monotonic()
            try:
                report = workload.run(ctx)
            except Exception as error:  # a workload that cannot be set up must not hide the others
                broken = True
                print(f"== {workload.name}: {workload.title}\n   FAILED to run: {type(error).__name__}: {error}\n", flush=True)
                if os.environ.get("GOVERN_DEBUG") == "1":
                    traceback.print_exc()
                continue
            finally:
                if not args.keep:
                    shutil.rmtree(scratch / workload.name, ignore_errors=True)
            report.notes.append(f"workload wall time {time.monotonic() - started:.0f} s (set-up included)")
            broken = broken or any(row.status == "failed" for row in report.rows)
            reports.append(report)
            print(render(report) + "\n", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"generated data kept in {scratch}")
    rows = [row for report in reports for row in report.rows]
    counts = {status: sum(row.status == status for row in rows) for status in ("met", "NOT met", "skipped", "failed", "reference")}
    if args.markdown:
        print(markdown_table(reports) + "\n")
    print("summary: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    if args.json_out:
        payload = {"machine": machine, "sizes": vars(sizes), "quick": args.quick, "workloads": [r.to_json() for r in reports]}
        args.json_out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
