"""Which operations sealed runs were made by, against the allowed-operations catalog.

A sealed run's ``run.json`` names the operation that made it (``op_id``). The catalog is
the list of operations governance allows, so a run made by an operation it lacks is a
finding: ``governance check`` reports it (E_OP_UNCATALOGUED), ``seal --op`` warns before it
happens, and ``governance remove-op`` refuses to take away an operation runs were made by.

run.json is read as it is on disk: whether it is still the sealed one is ``govern verify``'s
question, not this module's — a run whose run.json cannot be read is passed over here.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

from govern.errors import Problem
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.governance.documents import CATALOG_FILE, OperationsCatalog
from govern.runs.run_store import RunStore, as_run_store
from govern.store.backend import KeyNotFound


def runs_by_operation(runs: RunStore | Path) -> dict[str, list[str]]:
    """``op_id -> run ids`` (sorted) of the sealed runs of the run store ``runs`` (or of the
    local runs root ``runs``) that name one."""
    store = as_run_store(runs)
    found: dict[str, list[str]] = {}
    for run_id in store.list_runs().names:
        if not store.is_sealed(run_id):
            continue  # not sealed (yet): no decision has been recorded
        try:
            envelope = loads_strict(store.read_file(run_id, ENVELOPE_NAME))
        except (KeyNotFound, OSError, StrictJSONError):
            continue
        op_id = envelope.get("op_id") if isinstance(envelope, dict) else None
        if isinstance(op_id, str) and op_id:
            found.setdefault(op_id, []).append(run_id)
    return found


def how_to_allow(op_id: str, declared: Set[str]) -> str:
    """The command that puts ``op_id`` into the catalog."""
    if op_id in declared:
        return "'govern governance sync' adds it, as a plugin declares it"
    return f"'govern governance add-op {op_id} --title … --executable … --coverage …' allows it"


def uncatalogued_run_problems(catalog: OperationsCatalog, runs: RunStore | Path, declared: Set[str] = frozenset()) -> list[Problem]:
    """E_OP_UNCATALOGUED for every sealed run made by an operation ``catalog`` lacks, by run id.

    ``declared``: op ids plugins declare (their hint is ``governance sync``).
    """
    problems = []
    for op_id, run_ids in runs_by_operation(runs).items():
        if catalog.get(op_id) is not None:
            continue
        for run_id in run_ids:
            problems.append(
                Problem("E_OP_UNCATALOGUED", run_id, f"made by {op_id}, which is not in {CATALOG_FILE} ({how_to_allow(op_id, declared)})")
            )
    return sorted(problems, key=lambda problem: problem.where)


def op_catalog_note(catalog: OperationsCatalog, op_id: str, catalog_path: Path) -> str | None:
    """The one-line warning ``seal --op`` gives when ``op_id`` is not catalogued, else None."""
    if catalog.get(op_id) is not None:
        return None
    return (
        f"operation {op_id} is not in the allowed-operations catalog {catalog_path}; the run is sealed anyway, "
        f"and 'govern governance check' will flag it until 'govern governance add-op {op_id} …' allows it"
    )
