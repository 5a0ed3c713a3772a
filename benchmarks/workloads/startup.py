"""Start-up: ``govern --version`` and ``govern --help`` against a one-command typer app.

The yardstick app (written into the workload's folder) does the same two things with typer
and nothing else, run by the same interpreter. Target: ≤ 1.2× — govern may cost little more
than typer itself, so heavy dependencies must be imported only by the commands that use them.

govern prints plain help (click's formatter, ``rich_markup_mode=None``); a default typer app
renders rich panels, importing rich to do so. So ``--help`` is also measured, in the same
rounds, against the same app set to plain help: a *reference* row comparing like with like.
"""

from __future__ import annotations

from benchmarks.context import BenchContext, Sizes
from benchmarks.report import WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 1.2

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
        report.rows.append(compare_row(f"{flag} vs typer app", results[govern.label], results[typer_app.label], TARGET, f"<= {TARGET}"))
        if flag == "--help":
            report.rows.append(
                compare_row(
                    f"{flag} vs typer app with plain help",
                    results[govern.label],
                    results[plain.label],
                    TARGET,
                    f"<= {TARGET}",
                    note="like with like: govern's help is plain too",
                    reference=True,
                )
            )
    return report


def _disk(sizes: Sizes) -> int:
    return 0


WORKLOAD = Workload("startup", "start-up time vs a one-command typer app", _run, _disk)
