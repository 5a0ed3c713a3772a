"""The workloads, one module each, in the order they run.

Each module defines ``WORKLOAD``: a name, a title, how much scratch disk it needs, whether it
is heavy (opt-in with ``--heavy``), and ``run(ctx) -> WorkloadReport``, which generates its data
under ``ctx.workdir(name)`` and measures govern against its peers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.context import BenchContext, Sizes
from benchmarks.report import WorkloadReport


@dataclass(frozen=True)
class Workload:
    """One benchmark workload."""

    name: str
    title: str
    run: Callable[[BenchContext], WorkloadReport]
    disk_bytes: Callable[[Sizes], int]
    heavy: bool = False


def all_workloads() -> list[Workload]:
    """Every workload, in running order."""
    from benchmarks.workloads import (
        delta_build,
        delta_log,
        git_history,
        incremental,
        large_files,
        memory,
        object_storage,
        ocfl_object,
        report_html,
        scale,
        small_files,
        sql_table,
        startup,
        transparency,
    )

    return [m.WORKLOAD for m in (startup, large_files, small_files, delta_build, incremental, delta_log, transparency, git_history, ocfl_object, sql_table, report_html, object_storage, memory, scale)]
