"""A new snapshot's payload is hashed before it is recorded.

Discovery reads seals only (the seal file and the manifest's structure), so a run whose
artifact was edited after sealing still looks ``sealed``: recording it would write a
manifest diff of files that are not what the manifest says. Before a build records a
snapshot for the first time it hashes every file of the run at or under the registry's
artifact path against its manifest entry (:meth:`govern.runs.run_store.RunStore.payload_problems`, the
checks of ``govern verify`` restricted to those paths, hashed in parallel the same way). A
snapshot that fails is marked ``broken`` with the first problem, which stops the build (exit 1,
E_SNAPSHOT_UNVERIFIED) or, with ``--allow-unknown``, is recorded ``unknown`` with that reason.

Snapshots already recorded are not hashed again: their manifest hash is checked against the
recorded one, and the build's cost follows the new work.
"""

from __future__ import annotations

import attrs

from govern.runs.views import Snapshot
from govern.runtime.progress import NO_PROGRESS, Progress


def payload_checked(snapshot: Snapshot, progress: Progress = NO_PROGRESS) -> Snapshot:
    """``snapshot`` as is when it is not ``sealed`` or its artifact files all match their
    manifest entries; else the same snapshot marked ``broken``, its problem naming the file."""
    if snapshot.status != "sealed":
        return snapshot  # broken or unsealed already: nothing sealed to hold the files to
    problems = snapshot.run.runs.payload_problems(snapshot.run_id, snapshot.artifact_entries(), snapshot.relpath, progress)
    if not problems:
        return snapshot
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0]
    return attrs.evolve(
        snapshot, status="broken", problem=f"payload differs from its seal: {first.where}: {first.code} {first.message}{more}"
    )
