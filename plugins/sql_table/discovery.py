"""Finding a ``sql_table`` registry's snapshots among runs.

A snapshot run of registry ``R`` is named ``YYYY-MM-DD__HHMMSS__R`` (``govern snapshot``
names it so), holds ``table/schema.json``, and its run.json names ``R``
(``params.registry_id``). The name is checked first, so other runs cost nothing; a sealed run
whose run.json names another registry is not a snapshot. A run of that name whose seal is
broken or missing is classified as the host expects (``broken`` / ``unsealed``).
"""

from __future__ import annotations

from collections.abc import Sequence

from govern.errors import GovernError
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.plugins.sql_table.snapshot import ARTIFACT, REGISTRY_PARAM, SCHEMA_PATH
from govern.runs.snapshots import classify_run
from govern.runs.views import RunView, Snapshot


def names_registry(run: RunView, registry_id: str) -> bool:
    """True when the sealed run's run.json names ``registry_id`` (params.registry_id)."""
    try:
        envelope = loads_strict(run.runs.read_sealed_file(run.seal, ENVELOPE_NAME))
    except (GovernError, StrictJSONError):
        return False
    params = envelope.get("params") if isinstance(envelope, dict) else None
    return isinstance(params, dict) and params.get(REGISTRY_PARAM) == registry_id


def discover_table_snapshots(registry_id: str, runs: Sequence[RunView]) -> list[Snapshot]:
    """The snapshot runs of ``registry_id`` among ``runs``, in their order."""
    found = []
    for run in runs:
        if run.run_id.split("__", 2)[-1] != registry_id:
            continue
        snapshot = classify_run(run, registry_id, ARTIFACT)
        if snapshot is None:
            continue
        if snapshot.status == "sealed" and (SCHEMA_PATH not in snapshot.artifact_entries() or not names_registry(run, registry_id)):
            continue
        found.append(snapshot)
    return found
