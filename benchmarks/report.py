"""Result rows (govern against a peer, a budget or a limit) and their printed tables.

Every row has a *ratio* and a *target* on that ratio, so each workload ends in a met/not-met
verdict: govern/peer for a comparison, seconds/budget for a throughput target, peak/limit
for a memory target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.timing import Measurement

MIB = 1 << 20
GIB = 1 << 30


@dataclass
class Row:
    """One line of a workload's table."""

    case: str
    govern: str
    peer: str
    ratio: float | None
    limit: float
    target: str
    status: str  # met, NOT met, skipped, failed; "reference" for a yardstick row (not govern)
    govern_peak: int | None = None
    peer_peak: int | None = None
    peer_label: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form (for --json-out)."""
        return {
            "case": self.case,
            "govern": self.govern,
            "peer": self.peer,
            "peer_label": self.peer_label,
            "ratio": self.ratio,
            "limit": self.limit,
            "target": self.target,
            "status": self.status,
            "govern_peak_bytes": self.govern_peak,
            "peer_peak_bytes": self.peer_peak,
            "note": self.note,
        }


@dataclass
class WorkloadReport:
    """A workload's rows, and what was run (sizes, rounds) in one line."""

    name: str
    title: str
    setup: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {"name": self.name, "title": self.title, "setup": self.setup, "rows": [r.to_json() for r in self.rows], "notes": self.notes}


def seconds(value: float | None) -> str:
    """``0.912 s`` style, or a dash."""
    if value is None:
        return "-"
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    return f"{value:.3f} s" if value < 100 else f"{value:.0f} s"


def size(value: int | None) -> str:
    """Bytes as MiB (or GiB from 10 GiB up), or a dash."""
    if value is None:
        return "-"
    if value >= 10 * GIB:
        return f"{value / GIB:.1f} GiB"
    return f"{value / MIB:.1f} MiB"


def _verdict(ratio: float | None, limit: float) -> str:
    return "met" if ratio is not None and ratio <= limit else "NOT met"


def _unavailable(govern: Measurement, peer: Measurement | None) -> tuple[str, str] | None:
    """(status, note) when a side did not produce samples."""
    if govern.failed is not None:
        return "failed", f"govern: {govern.failed}"
    if peer is not None and peer.skipped is not None:
        return "skipped", f"{peer.label}: {peer.skipped}"
    if peer is not None and peer.failed is not None:
        return "failed", f"{peer.label}: {peer.failed}"
    return None


def compare_row(
    case: str, govern: Measurement, peer: Measurement, limit: float, target: str, note: str = "", *, reference: bool = False
) -> Row:
    """govern's median over the peer's: met when ≤ ``limit``.

    ``reference``: the first measurement is a yardstick, not govern (e.g. the least a Python
    program doing the same work pays); its row says ``reference`` instead of a verdict, so the
    summary counts only govern's targets.
    """
    missing = _unavailable(govern, peer)
    row = Row(case, seconds(govern.median), seconds(peer.median), None, limit, target, "", govern.peak_bytes, peer.peak_bytes, peer.label, note)
    if missing:
        row.status, row.note = missing
        return row
    row.ratio = govern.median / peer.median if peer.median else None
    row.status = "reference" if reference else _verdict(row.ratio, limit)
    return row


def _limit_row(case: str, govern: Measurement, limit_text: str, peer_label: str, ratio: Callable[[], float], target: str, note: str) -> Row:
    """A row judging govern alone against a limit: met when ``ratio()`` ≤ 1."""
    missing = _unavailable(govern, None)
    row = Row(case, seconds(govern.median), limit_text, None, 1.0, target, "", govern.peak_bytes, None, peer_label, note)
    if missing:
        row.status, row.note = missing
        return row
    row.ratio = ratio()
    row.status = _verdict(row.ratio, 1.0)
    return row


def budget_row(case: str, govern: Measurement, budget_seconds: float, target: str, note: str = "") -> Row:
    """govern's median over a time budget derived from a throughput target."""
    return _limit_row(case, govern, f"{seconds(budget_seconds)} budget", "budget", lambda: govern.median / budget_seconds, target, note)


def memory_row(case: str, govern: Measurement, limit_bytes: int, target: str, note: str = "") -> Row:
    """govern's peak RSS over a memory limit."""
    return _limit_row(case, govern, f"{size(limit_bytes)} limit", "limit", lambda: govern.peak_bytes / limit_bytes, target, note)


_HEADERS = ("case", "govern", "peer / budget", "ratio", "target", "result", "peak govern", "peak peer")


def render(report: WorkloadReport) -> str:
    """The workload's table, with its notes under it."""
    lines = [f"== {report.name}: {report.title}"]
    if report.setup:
        lines.append(f"   {report.setup}")
    cells = [_HEADERS] + [
        (
            row.case,
            row.govern,
            row.peer,
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            row.target,
            row.status,
            size(row.govern_peak),
            size(row.peer_peak),
        )
        for row in report.rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADERS))]
    for line in cells:
        lines.append("   " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    for row in report.rows:
        if row.note:
            lines.append(f"   - {row.case}: {row.note}")
    lines.extend(f"   - {note}" for note in report.notes)
    return "\n".join(lines)


def markdown_table(reports: list[WorkloadReport]) -> str:
    """All rows as one Markdown table (what docs/performance.md records)."""
    lines = [
        "| workload | case | govern | peer / budget | ratio | target | result | peak govern | peak peer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        for row in report.rows:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}×"
            result = row.status if row.status != "NOT met" else "**not met**"
            cells = [report.name, row.case, row.govern, row.peer, ratio, row.target.replace("<=", "≤").replace(">=", "≥"), result, size(row.govern_peak), size(row.peer_peak)]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
