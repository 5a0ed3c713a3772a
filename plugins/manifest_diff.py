"""Built-in plugin: delta basis ``manifest_diff`` — compare two sealed manifests.

Paths at or under the artifact are compared by SHA-256: present only after → added, only
before → removed, in both with different digests → modified. Both snapshots must be sealed
and verified; otherwise this plugin abstains and the ``unknown`` basis answers.
"""

from __future__ import annotations

from govern import hookimpl
from govern.config import Registry
from govern.models import Delta, Snapshot


def diff_entries(before: dict, after: dict) -> Delta:
    """The manifest_diff delta between two ``path → ManifestEntry`` maps."""
    added = after.keys() - before.keys()
    removed = before.keys() - after.keys()
    modified = [path for path in after.keys() & before.keys() if after[path].sha256 != before[path].sha256]
    return Delta("manifest_diff", added=added, removed=removed, modified=modified)


@hookimpl
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """Diff the manifests when both snapshots are sealed; else abstain."""
    if after.status != "sealed" or (before is not None and before.status != "sealed"):
        return None
    return diff_entries({} if before is None else before.artifact_entries(), after.artifact_entries())
