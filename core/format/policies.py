"""Policies over delta records (docs/policies.md): the rules, and judging one record by them.

Pure: a record (its JSON object, as the log holds it) and the rules in, violations out. What
needs a file (the ``schema`` rule reads the to-snapshot's artifact) is judged in
:mod:`govern.log.policy_check`, which also walks the log and honours operators' overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs

from govern.format.models import ref_label
from govern.format.path_globs import glob_problem, matching_paths
from govern.format.plurals import plural

#: The rules, in the order a record's violations are listed (and documented).
RULES = ("forbid_unknown", "max_added", "max_removed", "max_modified", "immutable_paths", "never_remove", "schema")
#: The count limits, and which list of a record each one counts.
COUNT_LIMITS = {"max_added": "added_paths", "max_removed": "removed_paths", "max_modified": "modified_paths"}
#: A fraction limit: a percentage of the from-snapshot's path count, such as "10%" or "2.5%".
_PERCENT = re.compile(r"(?P<number>\d{1,3}(?:\.\d{1,6})?)%")


@attrs.frozen
class Policy:
    """One ``[policies]`` or ``[registries.<id>.policy]`` table: every rule optional (None: not
    set here). A registry's own value of a rule replaces the workspace-wide value of that rule."""

    #: The most paths one transition may add / remove / modify: an integer count, or a
    #: percentage string ("10%") of the from-snapshot's path count.
    max_added: int | str | None = None
    max_removed: int | str | None = None
    max_modified: int | str | None = None
    #: Globs of paths that must never be modified or removed.
    immutable_paths: list[str] | None = None
    #: Globs of paths that must never be removed.
    never_remove: list[str] | None = None
    #: True: a transition with basis ``unknown`` is a violation.
    forbid_unknown: bool | None = None
    #: A JSON Schema (a path relative to the workspace, or a built-in schema's file name) the
    #: registry's artifact must satisfy at every snapshot recorded (only per registry).
    schema: str | None = None

    def over(self, workspace_wide: Policy) -> Policy:
        """This (a registry's) policy over the workspace-wide one: each rule set here wins."""
        values = {
            field.name: getattr(self, field.name) if getattr(self, field.name) is not None else getattr(workspace_wide, field.name)
            for field in attrs.fields(Policy)
        }
        return Policy(**values)

    @property
    def is_empty(self) -> bool:
        """True when no rule is set."""
        return all(getattr(self, field.name) is None for field in attrs.fields(Policy))


def limit_problem(value: int | str) -> str | None:
    """Why ``value`` is not a count limit (an integer >= 0, or a percentage "0%".."100%"), or None."""
    if isinstance(value, bool):
        return "expected an integer count or a percentage string such as \"10%\""
    if isinstance(value, int):
        return None if value >= 0 else f"{value} is negative (expected a count of 0 or more, or a percentage such as \"10%\")"
    found = _PERCENT.fullmatch(value)
    if found is None:
        return f"{value!r} is not a percentage (expected a string such as \"10%\" or \"2.5%\", or an integer count)"
    if Fraction(found["number"]) > 100:
        return f"{value!r} is more than 100%"
    return None


def glob_list_problem(patterns: list[str]) -> str | None:
    """Why a list of globs cannot be used (the first bad one named), or None."""
    for pattern in patterns:
        problem = glob_problem(pattern)
        if problem is not None:
            return f"{pattern!r} {problem}"
    return None


def exceeds(count: int, limit: int | str, from_count: int | None) -> bool | None:
    """True when ``count`` paths is more than ``limit`` allows; None when a percentage cannot
    be judged because the from-snapshot's path count is not known."""
    if isinstance(limit, int):
        return count > limit
    if from_count is None:
        return None
    # Exact arithmetic: 10% of 20 paths allows 2, and 3 is over, with no float rounding.
    return Fraction(count) > Fraction(limit.removesuffix("%")) / 100 * from_count


@attrs.frozen
class Violation:
    """One record breaking one rule."""

    #: ``<registry>@<to-snapshot>:<rule>``: stable, what ``--allow`` names.
    violation_id: str
    registry_id: str
    #: The from- and to-snapshot as people are shown them (a run id, or ``<location>@<version>``).
    from_label: str | None
    to_label: str
    rule: str
    #: What is wrong, in words (the limit and the count, or the rule).
    message: str
    #: The offending paths, sorted (every one; renderers cap the list).
    paths: tuple[str, ...]
    #: The build that appended (or would append) the record.
    derivation_run_id: str

    def to_json(self) -> dict[str, Any]:
        """Every field, the paths as a list."""
        return {**attrs.asdict(self, recurse=False), "paths": list(self.paths)}


def violation_id(registry_id: str, to_label: str, rule: str) -> str:
    """The stable id of a violation: the registry, the snapshot the transition leads to, the rule."""
    return f"{registry_id}@{to_label}:{rule}"


def new_violation(record: Mapping[str, Any], rule: str, message: str, paths: list[str] | tuple[str, ...] = ()) -> Violation:
    """The violation of ``rule`` by ``record`` (a log record's JSON object)."""
    to_label = ref_label(record.get("to_ref")) or "?"
    return Violation(
        violation_id=violation_id(record["registry_id"], to_label, rule),
        registry_id=record["registry_id"],
        from_label=ref_label(record.get("from_ref")),
        to_label=to_label,
        rule=rule,
        message=message,
        paths=tuple(sorted(paths)),
        derivation_run_id=str(record.get("derivation_run_id")),
    )


def judge_record(record: Mapping[str, Any], policy: Policy, from_count: int | None) -> list[Violation]:
    """The violations of ``record`` by ``policy``'s path and count rules (``schema`` is judged
    where files can be read), in :data:`RULES` order.

    ``from_count`` is the from-snapshot's path count (None: not known). A bootstrap record
    (no from-snapshot) is held to ``forbid_unknown`` only: it adds its registry's whole first
    snapshot. An ``unknown`` transition has no paths and no counts: only ``forbid_unknown``
    judges it.
    """
    found: list[Violation] = []
    unknown = record.get("delta_basis") == "unknown"
    if unknown and policy.forbid_unknown:
        found.append(new_violation(record, "forbid_unknown", f"basis 'unknown' is forbidden ({record.get('unknown_reason')})"))
    if unknown or record.get("from_ref") is None:
        return found
    for rule, field in COUNT_LIMITS.items():
        limit = getattr(policy, rule)
        if limit is None:
            continue
        paths = record.get(field) or []
        over = exceeds(len(paths), limit, from_count)
        what = field.removesuffix("_paths")
        if over is None:
            found.append(
                new_violation(
                    record, rule,
                    f"{plural(len(paths), 'path')} {what}; {rule} = {limit!r} cannot be judged: the from-snapshot's path count is not known "
                    "(an earlier transition of the registry has basis 'unknown')",
                    paths,
                )
            )
        elif over:
            of = "" if isinstance(limit, int) else f" of the from-snapshot's {from_count} paths"
            found.append(new_violation(record, rule, f"{plural(len(paths), 'path')} {what}, more than {rule} = {limit!r}{of}", paths))
    # A rename (record version 0.2's renamed_paths: [[from, to], ...]) takes its from-path away
    # as surely as a removal does: the path rules see it among the removed.
    renamed_from = [pair[0] for pair in record.get("renamed_paths") or [] if isinstance(pair, list) and pair]
    removed = sorted([*(record.get("removed_paths") or []), *renamed_from])
    modified = list(record.get("modified_paths") or [])
    if policy.immutable_paths:
        touched = matching_paths(tuple(policy.immutable_paths), sorted(removed + modified))
        if touched:
            found.append(new_violation(record, "immutable_paths", f"{plural(len(touched), 'immutable path')} modified, removed or renamed", touched))
    if policy.never_remove:
        gone = matching_paths(tuple(policy.never_remove), removed)
        if gone:
            found.append(new_violation(record, "never_remove", f"{plural(len(gone), 'path')} that must never be removed removed or renamed", gone))
    return found


class PathCounts:
    """Each registry's path count after the records seen so far, replayed from its bootstrap
    (None once a transition with basis ``unknown`` makes it unknowable)."""

    def __init__(self) -> None:
        self._counts: dict[str, int | None] = {}

    def before(self, record: Mapping[str, Any]) -> int | None:
        """The path count of ``record``'s from-snapshot (0 for a bootstrap)."""
        if record.get("from_ref") is None:
            return 0
        return self._counts.get(record["registry_id"])

    def advance(self, record: Mapping[str, Any]) -> None:
        """Take ``record`` into account (call in log order, after judging it)."""
        before = self.before(record)
        if before is None or record.get("delta_basis") == "unknown":
            self._counts[record["registry_id"]] = None
            return
        added, removed = len(record.get("added_paths") or []), len(record.get("removed_paths") or [])
        self._counts[record["registry_id"]] = before + added - removed
