"""The scorecard's figures and how they are written: shares, percents and deltas.

Pure arithmetic, no documents: :mod:`govern.governance.scorecard` derives the figures from
the books. Percents are rounded half-up to one decimal with :mod:`decimal` (never binary
floats, so 30/35 is 85.7 and 31/36 is 86.1 on every machine), and a change in percentage
points is the difference of the two *rounded* percents — the numbers a reader sees — so a
report's "85.7% → 86.1% (+0.4pp)" always adds up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

_ONE_DECIMAL = Decimal("0.1")


def share_percent(count: int, total: int) -> Decimal | None:
    """``count / total`` as a percent rounded half-up to one decimal; None when total is 0."""
    if total == 0:
        return None
    return (Decimal(count) * 100 / Decimal(total)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def format_percent(percent: Decimal | None) -> str:
    """``85.7%``, or ``n/a`` when there is nothing to divide by."""
    return "n/a" if percent is None else f"{percent}%"


def signed(number: int | Decimal) -> str:
    """``+1``, ``-2``, ``0``, ``+0.4``: the sign is always shown unless the value is zero."""
    if number > 0:
        return f"+{number}"
    return str(number) if number < 0 else str(number).lstrip("-")


def delta_count(before: int, after: int) -> str:
    """The change of a count: ``+1``, ``-3`` or ``0``."""
    return signed(after - before)


def delta_points(before: Decimal | None, after: Decimal | None) -> str:
    """The change of a percent in percentage points, from the rounded percents: ``+0.4pp``."""
    if before is None or after is None:
        return "n/a"
    return f"{signed(after - before)}pp"


@attrs.frozen
class Figures:
    """The scorecard's figures, all derived from the books.

    ``executables``: distinct executables over all catalogued operations; ``operations``:
    catalogued operations; ``sealed_registries`` / ``registries``: over the registry catalog
    and its addenda; ``at_or_above``: operations whose matrix row is at ``threshold`` or a
    higher coverage level (an operation without a row counts as below).
    """

    executables: int
    operations: int
    sealed_registries: int
    registries: int
    threshold: str
    at_or_above: int

    @property
    def percent(self) -> Decimal | None:
        """The share at or above the threshold, rounded half-up to one decimal."""
        return share_percent(self.at_or_above, self.operations)

    @property
    def sealed_text(self) -> str:
        """``9/13``."""
        return f"{self.sealed_registries}/{self.registries}"

    @property
    def share_text(self) -> str:
        """``31/36 (86.1%)``."""
        return f"{self.at_or_above}/{self.operations} ({format_percent(self.percent)})"

    @property
    def threshold_label(self) -> str:
        """``C3+``."""
        return f"{self.threshold}+"

    def to_json(self) -> dict[str, Any]:
        """JSON form (the percent is a number with one decimal, or null)."""
        percent = self.percent
        return {
            "executables": self.executables,
            "operations": self.operations,
            "sealed_registries": {"sealed": self.sealed_registries, "total": self.registries},
            "at_or_above_threshold": {
                "level": self.threshold,
                "count": self.at_or_above,
                "total": self.operations,
                "percent": None if percent is None else float(percent),
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """Rebuild from JSON; the stored total and percent are checked by :meth:`json_problems`."""
        share = data["at_or_above_threshold"]
        return cls(
            executables=data["executables"],
            operations=data["operations"],
            sealed_registries=data["sealed_registries"]["sealed"],
            registries=data["sealed_registries"]["total"],
            threshold=share["level"],
            at_or_above=share["count"],
        )

    @staticmethod
    def json_problems(data: dict[str, Any]) -> list[str]:
        """Figures written in JSON that do not follow from the others (a hand edit)."""
        share = data["at_or_above_threshold"]
        problems = []
        if share["total"] != data["operations"]:
            problems.append(f"at_or_above_threshold.total is {share['total']} but operations is {data['operations']}")
        expected = share_percent(share["count"], share["total"])
        stored = None if share["percent"] is None else Decimal(repr(share["percent"]))
        if stored != expected:
            problems.append(
                f"at_or_above_threshold.percent is {share['percent']} but {share['count']}/{share['total']} "
                f"is {format_percent(expected)}"
            )
        return problems


def figure_deltas(before: Figures, after: Figures) -> dict[str, str]:
    """The deltas the scorecard shows: counts signed, registries as ``8/12 → 9/13``."""
    return {
        "executables": delta_count(before.executables, after.executables),
        "operations": delta_count(before.operations, after.operations),
        "sealed_registries": f"{before.sealed_text} → {after.sealed_text}",
        "at_or_above_threshold": delta_points(before.percent, after.percent),
    }


def figure_rows(before: Figures | None, after: Figures) -> list[tuple[str, str]]:
    """(label, ``before → after (delta)``) for each figure, in the scorecard's order."""
    if before is None:
        return [
            ("Executables", str(after.executables)),
            ("Operations", str(after.operations)),
            ("Sealed registries", after.sealed_text),
            (f"{after.threshold_label} operations", after.share_text),
        ]
    deltas = figure_deltas(before, after)
    return [
        ("Executables", f"{before.executables} → {after.executables} ({deltas['executables']})"),
        ("Operations", f"{before.operations} → {after.operations} ({deltas['operations']})"),
        ("Sealed registries", deltas["sealed_registries"]),
        (
            f"{after.threshold_label} operations",
            f"{before.share_text} → {after.share_text} ({deltas['at_or_above_threshold']})",
        ),
    ]


def changed_figure_rows(before: Figures, after: Figures) -> list[tuple[str, str]]:
    """The rows of :func:`figure_rows` for the figures that differ."""
    differs = (
        before.executables != after.executables,
        before.operations != after.operations,
        before.sealed_text != after.sealed_text,
        (before.at_or_above, before.operations, before.threshold) != (after.at_or_above, after.operations, after.threshold),
    )
    return [row for row, changed in zip(figure_rows(before, after), differs) if changed]
