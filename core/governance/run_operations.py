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
from govern.format.manifest import SEAL_NAME
from govern.governance.documents import CATALOG_FILE, OperationsCatalog
from govern.runs.listing import list_runs


def runs_by_operation(runs_root: Path) -> dict[str, list[str]]:
    """``op_id -> run ids`` (sorted) of the sealed runs under ``runs_root`` that name one."""
    found: dict[str, list[str]] = {}
    for run_dir in list_runs(runs_root).runs:
        if not (run_dir / SEAL_NAME).is_file():
            continue  # not sealed (yet): no decision has been recorded
        try:
            envelope = loads_strict((run_dir / ENVELOPE_NAME).read_bytes())
        except (OSError, StrictJSONError):
            continue
        op_id = envelope.get("op_id") if isinstance(envelope, dict) else None
        if isinstance(op_id, str) and op_id:
            found.setdefault(op_id, []).append(run_dir.name)
    return found


def how_to_allow(op_id: str, declared: Set[str]) -> str:
    """The command that puts ``op_id`` into the catalog."""
    if op_id in declared:
        return "'govern governance sync' adds it, as a plugin declares it"
    return f"'govern governance add-op {op_id} --title … --executable … --coverage …' allows it"


def uncatalogued_run_problems(catalog: OperationsCatalog, runs_root: Path, declared: Set[str] = frozenset()) -> list[Problem]:
    """E_OP_UNCATALOGUED for every sealed run made by an operation ``catalog`` lacks, by run id.

    ``declared``: op ids plugins declare (their hint is ``governance sync``).
    """
    problems = []
    for op_id, run_ids in runs_by_operation(runs_root).items():
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
