"""Built-in plugin: delta basis ``manifest_diff`` — compare two sealed manifests.

Paths at or under the artifact are compared by SHA-256: present only after → added, only
before → removed, in both with different digests → modified (:func:`govern.runs.snapshots.diff_entries`).
Both snapshots must be sealed and verified; otherwise this plugin abstains and the ``unknown``
basis answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry
    from govern.format.models import Delta
    from govern.runs.views import Snapshot


@hookimpl
def govern_delta_bases() -> list[str]:
    """Declare basis ``manifest_diff``."""
    return ["manifest_diff"]


@hookimpl
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """Diff the manifests when both snapshots are sealed; else abstain."""
    from govern.runs.snapshots import manifest_delta

    return manifest_delta(before, after)
