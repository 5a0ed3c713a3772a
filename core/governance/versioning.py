"""Document versions (MAJOR.MINOR) and changelog entries.

Every change to a governance document bumps its minor version and appends one changelog
entry: the new version, the date from the clock, what changed, and the document's summary
figures before and after — so "35 → 36" is read from the record, never retyped.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from govern.runtime.clock import format_utc

#: The version a document is created with.
INITIAL_VERSION = "0.1"
VERSION_PATTERN = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def parse_version(text: str) -> tuple[int, int]:
    """``"0.12"`` → ``(0, 12)``; ValueError for anything but MAJOR.MINOR."""
    match = VERSION_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a MAJOR.MINOR version")
    return int(match.group(1)), int(match.group(2))


def next_minor(version: str) -> str:
    """The version after ``version``: the minor part plus one (``0.9`` → ``0.10``)."""
    major, minor = parse_version(version)
    return f"{major}.{minor + 1}"


@attrs.frozen
class Change:
    """One line of a changelog entry: what changed (``ADD OP-QA11``) and its details."""

    change: str
    details: str

    def to_json(self) -> dict[str, str]:
        """JSON form."""
        return {"change": self.change, "details": self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        """Rebuild from JSON (already schema-valid)."""
        return cls(data["change"], data["details"])


@attrs.frozen
class ChangelogEntry:
    """One version of a document: when, what changed, and its summary before → after."""

    version: str
    date: str
    changes: tuple[Change, ...]
    before: dict[str, Any] | None
    after: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "version": self.version,
            "date": self.date,
            "changes": [change.to_json() for change in self.changes],
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangelogEntry:
        """Rebuild from JSON (already schema-valid)."""
        return cls(
            version=data["version"],
            date=data["date"],
            changes=tuple(Change.from_json(c) for c in data["changes"]),
            before=data["before"],
            after=data["after"],
        )


def changelog_entry(
    previous_version: str | None,
    clock: dt.datetime,
    changes: list[Change] | tuple[Change, ...],
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> ChangelogEntry:
    """The entry for the version after ``previous_version`` (or the first version)."""
    version = INITIAL_VERSION if previous_version is None else next_minor(previous_version)
    return ChangelogEntry(version, format_utc(clock), tuple(changes), before, after)


def changelog_problems(version: str, changelog: tuple[ChangelogEntry, ...]) -> list[str]:
    """Why a document's version history is inconsistent (empty when it is not).

    The versions must step by one minor version each (or start a new major at ``N.0``), the
    dates must not go backwards, each entry's ``before`` must be the previous ``after``, and
    the document's version must be the last entry's.
    """
    problems: list[str] = []
    if not changelog:
        return ["the changelog is empty"]
    if changelog[-1].version != version:
        problems.append(f"version is {version} but the last changelog entry is {changelog[-1].version}")
    for earlier, later in zip(changelog, changelog[1:]):
        try:
            (a_major, a_minor), (b_major, b_minor) = parse_version(earlier.version), parse_version(later.version)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if not ((b_major == a_major and b_minor == a_minor + 1) or (b_major == a_major + 1 and b_minor == 0)):
            problems.append(f"changelog goes from {earlier.version} to {later.version} (one minor step at a time)")
        if later.date < earlier.date:
            problems.append(f"changelog entry {later.version} is dated {later.date}, before {earlier.version} ({earlier.date})")
        if later.before != earlier.after:
            problems.append(f"changelog entry {later.version}: 'before' is not entry {earlier.version}'s 'after'")
    return problems
