"""The starting books ``govern init`` writes: default enforcement points E1–E7, levels C0–C5.

The defaults describe what govern itself can enforce or prove; docs/governance.md explains
each. A workspace may edit the matrix's points and levels (they are data, not code); the
derived figures follow whatever the matrix says.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govern.format.jsonio import dump_canonical
from govern.governance.documents import (
    CoverageLevel,
    CoverageMatrix,
    EnforcementPoint,
    OperationsCatalog,
    RegistryCatalog,
    Scorecard,
)
from govern.governance.figures import Figures
from govern.governance.revision import first_version
from govern.governance.versioning import Change
from govern.store.atomic import write_atomic

DEFAULT_ENFORCEMENT_POINTS: tuple[EnforcementPoint, ...] = (
    EnforcementPoint("E1", "Sealed output", "Outputs are written into a run folder sealed by manifest.json and MANIFEST.sha256."),
    EnforcementPoint("E2", "Run envelope", "run.json names the operation (op_id), the tool and version, inputs and parameters."),
    EnforcementPoint("E3", "Schema validation", "Outputs are validated against their JSON Schema before they are used."),
    EnforcementPoint("E4", "Review gate", "An independent gate (a QA check or a person) approves outputs before they become active."),
    EnforcementPoint("E5", "Deterministic output", "The same inputs and clock give identical bytes, proven by a rebuild."),
    EnforcementPoint("E6", "Append-only history", "Never overwrites an existing run or rewrites recorded history."),
    EnforcementPoint("E7", "Exclusive, atomic writes", "A lock serialises writers; a crash leaves the old state or the new, never a mix."),
)

DEFAULT_COVERAGE_LEVELS: tuple[CoverageLevel, ...] = (
    CoverageLevel("C0", "Untracked", "Runs without any enforcement (manual or legacy steps)."),
    CoverageLevel("C1", "Catalogued", "Listed with its executables in the allowed-operations catalog; nothing enforced yet."),
    CoverageLevel("C2", "Sealed", "Its outputs are sealed run folders.", ("E1",)),
    CoverageLevel("C3", "Reproducible", "Sealed, with a run envelope naming the operation, and deterministic.", ("E2", "E5")),
    CoverageLevel("C4", "Validated", "Reproducible, and its outputs are schema-validated.", ("E3",)),
    CoverageLevel("C5", "Gated", "Validated, and an independent gate approves its outputs before they become active.", ("E4",)),
)


def starter_books(clock: dt.datetime) -> list[OperationsCatalog | CoverageMatrix | Scorecard | RegistryCatalog]:
    """Version 0.1 of the four documents: no operations, no registries, the default matrix."""
    created = (Change("CREATE", "starting set written by govern init"),)
    catalog = first_version(OperationsCatalog("0.1", (), ()), created, clock)
    matrix = first_version(CoverageMatrix("0.1", (), DEFAULT_ENFORCEMENT_POINTS, DEFAULT_COVERAGE_LEVELS, ()), created, clock)
    registry_catalog = first_version(RegistryCatalog("0.1", (), ()), created, clock)
    scorecard = first_version(Scorecard("0.1", (), Figures(0, 0, 0, 0, "C3", 0)), created, clock)
    return [catalog, matrix, scorecard, registry_catalog]


def write_starter_books(governance_dir: Path, clock: dt.datetime) -> list[str]:
    """Write the starter documents that do not exist yet; their paths relative to the directory.

    Existing documents are left alone (never overwritten by a scaffold).
    """
    governance_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for document in starter_books(clock):
        path = governance_dir / document.relpath
        if path.exists():
            continue
        write_atomic(path, dump_canonical(document.to_json()))
        written.append(document.relpath)
    return written
