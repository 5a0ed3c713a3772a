"""Start-up: ``govern --version`` and ``govern --help`` against a one-command typer app, and
``govern verify`` of a one-file run against ``python -c "import hashlib"`` + ``sha256sum -c``.

The yardstick app (written into the workload's folder) does the same two things with typer
and nothing else, run by the same interpreter. Target: ≤ 1.2× — govern may cost little more
than typer itself, so heavy dependencies must be imported only by the commands that use them.

govern prints plain help (click's formatter, ``rich_markup_mode=None``), so ``--help`` is
judged against the same app set to plain help (like with like, issue 18); a default typer
app renders rich panels, importing rich to do so: that comparison is a *reference* row.

``govern verify`` of a sealed run of one 4 KiB file is
judged against what the least a Python tool pays plus the check itself: ``python -c "import
hashlib"``, then ``sha256sum -c`` of the same file, in one ``sh -c``. Target: ≤ 1.5×.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import run_id, write_sealed_run
from benchmarks.report import Row, WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 1.2
VERIFY_TARGET = 1.5

TYPER_APP = '''\
"""A one-command typer app: the start-up yardstick for govern --version / --help."""

from typing import Annotated

import typer

app = typer.Typer(add_completion=False{markup})


def _version(value: bool) -> None:
    if value:
        print("tiny 0.1.0")
        raise typer.Exit()


@app.command()
def main(
    path: Annotated[str, typer.Argument(help="A path.")] = ".",
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Do one thing."""
    print(path)


if __name__ == "__main__":
    app()
'''


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    app = root / "tiny_typer_app.py"
    app.write_text(TYPER_APP.replace("{markup}", ""), encoding="utf-8")
    plain_app = root / "tiny_typer_app_plain_help.py"
    plain_app.write_text(TYPER_APP.replace("{markup}", ", rich_markup_mode=None"), encoding="utf-8")
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{ctx.python} for both; {sizes.repeat_fast} rounds after {max(1, sizes.warmup)} warm-up, alternating",
    )
    for flag in ("--version", "--help"):
        govern = Command.single(f"govern {flag}", ctx.govern(flag))
        typer_app = Command.single(f"typer app {flag}", [ctx.python, app, flag])
        plain = Command.single(f"typer app, plain help {flag}", [ctx.python, plain_app, flag])
        commands = [govern, typer_app] + ([plain] if flag == "--help" else [])
        # at least one warm-up: the first run compiles the yardstick's .pyc
        results = measure_alternately(commands, sizes.repeat_fast, max(1, sizes.warmup))
        if flag == "--version":
            report.rows.append(compare_row(f"{flag} vs typer app", results[govern.label], results[typer_app.label], TARGET, f"<= {TARGET}"))
            continue
        report.rows.append(
            compare_row(
                f"{flag} vs typer app with plain help",
                results[govern.label],
                results[plain.label],
                TARGET,
                f"<= {TARGET}",
                note="like with like: govern's help is plain too",
            )
        )
        report.rows.append(
            compare_row(
                f"{flag} vs typer app (rich help)",
                results[govern.label],
                results[typer_app.label],
                TARGET,
                f"<= {TARGET}",
                note="a default typer app imports rich to draw its help",
                reference=True,
            )
        )
    report.rows.append(_verify_row(ctx, root))
    return report


def _verify_row(ctx: BenchContext, root: Path) -> Row:
    """``govern verify`` of a one-file run against python's start-up + ``sha256sum -c``."""
    sizes = ctx.sizes
    run = root / run_id(0, 0, "one_file")
    payload = bytes(range(256)) * 16  # 4 KiB
    write_sealed_run(run, {"data/payload.bin": payload})
    sums = root / "one_file.sha256"
    sums.write_text("".join(f"{hashlib.sha256((run / name).read_bytes()).hexdigest()}  {name}\n" for name in ("data/payload.bin",)))
    govern = Command.single("govern verify (one file)", ctx.govern("verify", run))
    floor = Command.single(
        "python + sha256sum -c",
        ["sh", "-c", f"{shlex.quote(str(ctx.python))} -c 'import hashlib' && cd {shlex.quote(str(run))} && sha256sum -c --quiet {shlex.quote(str(sums))}"],
    )
    results = measure_alternately([govern, floor], sizes.repeat_fast, max(1, sizes.warmup))
    return compare_row(
        "verify of a one-file run vs python + sha256sum -c",
        results[govern.label],
        results[floor.label],
        VERIFY_TARGET,
        f"<= {VERIFY_TARGET}",
    )


def _disk(sizes: Sizes) -> int:
    return 0


WORKLOAD = Workload("startup", "start-up time vs a one-command typer app", _run, _disk)
