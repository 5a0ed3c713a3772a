"""``govern diff``: what changed between any two sealed runs, from their sealed manifests.

The comparison is the delta log's own ``manifest_diff`` rule
(:func:`govern.runs.snapshots.diff_sorted_columns` over :func:`govern.runs.views.artifact_columns`):
one diff implementation, whether the runs are snapshots of a registry or not. Both seals must
verify first — a diff is only ever derived from sealed manifests.
"""

from __future__ import annotations

import attrs

from govern.errors import GovernError
from govern.format.artifact_paths import artifact_columns
from govern.format.manifest import SealCheck
from govern.format.models import Delta
from govern.runs.snapshots import diff_sorted_columns


@attrs.frozen
class RunDiff:
    """Two runs' seals, the path the comparison was restricted to, and what changed."""

    before: SealCheck
    after: SealCheck
    path: str | None
    delta: Delta


def require_sealed(check: SealCheck) -> SealCheck:
    """``check`` if the run's seal verified; else the first problem's code, exit 1, naming the run."""
    if check.ok and check.manifest is not None:
        return check
    first = check.problems[0] if check.problems else None
    code = first.code if first is not None else "E_MANIFEST_MISSING"
    what = f"{first.where}: {first.message}" if first is not None else "no manifest"
    more = f" (+{len(check.problems) - 1} more; 'govern verify {check.run_id}' lists them)" if len(check.problems) > 1 else ""
    # A finding of the seal check, even a code that refuses a seal with exit 2 (E_SYMLINK).
    raise GovernError.found(code, f"{check.run_id}: seal does not verify: {what}{more}; nothing compared")


def diff_runs(before: SealCheck, after: SealCheck, path: str | None = None) -> RunDiff:
    """The manifest diff from ``before`` to ``after`` (at or under ``path`` when given).

    Both seals must have verified (:func:`require_sealed`).
    """
    before, after = require_sealed(before), require_sealed(after)
    assert before.manifest is not None and after.manifest is not None
    delta = diff_sorted_columns(artifact_columns(before.manifest, path), artifact_columns(after.manifest, path))
    # govern diff lists A/D/M only (its output predates renames): a rename is its removal and addition.
    return RunDiff(before, after, path, delta.without_renames())
