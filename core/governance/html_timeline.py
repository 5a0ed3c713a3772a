"""A registry's timeline as inline SVG: one group per snapshot, in time order, with bars for
the added / removed / modified counts of the transition into it.

Readable without colour and without JavaScript: each bar carries its count as text above it
and its letter (A, D, M) below it, removed and modified bars are hatched and dotted, and a
legend names all three. A transition whose basis is ``unknown`` is never drawn as zero: it is
a dashed box marked "?" and "unknown", its reason in its tooltip. Every bar and box is a link
to the record it comes from. Snapshots are spaced evenly in time order (each labelled with its
time): snapshots minutes apart and months apart stay equally readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import attrs

#: The changes a bar shows, in drawing order: (counts key, letter, word).
BARS = (("added", "A", "added"), ("removed", "D", "removed"), ("modified", "M", "modified"))

_BAR = 14
_GAP = 4
_GROUP = 3 * _BAR + 2 * _GAP + 26
_LEFT = 96  # room for the first snapshot's slanted time label
_TOP = 44
_PLOT = 140
_BOTTOM = 96


@attrs.frozen
class TimelinePoint:
    """One snapshot on the timeline: the transition into it (``counts`` None when unknown)."""

    label: str
    href: str
    line: int
    counts: dict[str, int] | None
    reason: str | None = None


def _defs() -> str:
    return (
        "<defs>"
        '<pattern id="pattern-removed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cf222e" stroke-width="3"/></pattern>'
        '<pattern id="pattern-modified" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#fff"/><circle cx="2.5" cy="2.5" r="1.5" fill="#9a6700"/></pattern>'
        "</defs>"
    )


def _legend() -> str:
    items = []
    x = 12
    for key, letter, word in BARS:
        items.append(f'<rect class="bar-{key}" x="{x}" y="8" width="12" height="12"/><text x="{x + 16}" y="18">{letter} = {word}</text>')
        x += 100
    items.append(f'<rect class="bar-unknown" x="{x}" y="8" width="12" height="12"/><text x="{x + 16}" y="18">? = unknown (not zero)</text>')
    return "".join(items)


def timeline_svg(points: Sequence[TimelinePoint], title: str) -> str:
    """The SVG (escaped throughout) of ``points``, oldest first, titled ``title``."""
    known = [p.counts[key] for p in points if p.counts is not None for key, _, _ in BARS]
    peak = max([*known, 1])
    width = max(_LEFT + 12 + _GROUP * len(points), 460)
    height = _TOP + _PLOT + _BOTTOM
    base = _TOP + _PLOT
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="timeline-title">',
        f'<title id="timeline-title">{escape(title)}</title>',
        _defs(),
        _legend(),
        f'<line x1="{_LEFT - 6}" y1="{base}" x2="{width - 12}" y2="{base}" stroke="#57606a"/>',
    ]
    for index, point in enumerate(points):
        x0 = _LEFT + index * _GROUP
        href = escape(point.href)
        label = escape(point.label)
        if point.counts is None:
            parts.append(
                f'<g class="snapshot unknown" data-line="{point.line}" data-unknown="true">'
                f'<a href="{href}"><rect class="bar-unknown" x="{x0}" y="{_TOP}" width="{3 * _BAR + 2 * _GAP}" height="{_PLOT}">'
                f"<title>{label}: basis unknown — {escape(point.reason or 'no reason recorded')}</title></rect>"
                f'<text x="{x0 + (3 * _BAR + 2 * _GAP) / 2}" y="{_TOP + _PLOT / 2}" text-anchor="middle" font-size="18">?</text>'
                f'<text x="{x0 + (3 * _BAR + 2 * _GAP) / 2}" y="{_TOP + _PLOT / 2 + 16}" text-anchor="middle">unknown</text></a>'
            )
        else:
            counts = point.counts
            parts.append(
                f'<g class="snapshot" data-line="{point.line}" '
                + " ".join(f'data-{key}="{counts[key]}"' for key, _, _ in BARS)
                + ">"
            )
            for offset, (key, letter, word) in enumerate(BARS):
                value = counts[key]
                x = x0 + offset * (_BAR + _GAP)
                bar = round(value / peak * _PLOT, 2)
                parts.append(
                    f'<a href="{href}"><rect class="bar bar-{key}" data-kind="{key}" data-count="{value}" x="{x}" y="{base - bar}" '
                    f'width="{_BAR}" height="{bar}"><title>{label}: {value} {word}</title></rect>'
                    f'<text class="count" x="{x + _BAR / 2}" y="{base - bar - 3}" text-anchor="middle">{value}</text>'
                    f'<text x="{x + _BAR / 2}" y="{base + 12}" text-anchor="middle">{letter}</text></a>'
                )
        tx = x0 + (3 * _BAR + 2 * _GAP) / 2
        parts.append(
            f'<text class="when" x="{tx}" y="{base + 24}" text-anchor="end" transform="rotate(-35 {tx} {base + 24})">{label}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
