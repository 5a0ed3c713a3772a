"""``governance check``: recompute everything derivable and name every disagreement.

Every finding is a :class:`govern.errors.Problem` with a stable code; all are reported, not
only the first (bagit-python style). What is *derivable*: the scorecard's figures, percent,
deltas and previous figures; each document's version history; matrix rows against the
catalog (one per operation, no others) and against the levels' requirements; registries of
the configuration against the catalog and its addenda; the operations sealed runs were made
by against the catalog. Operations and registries a plugin
declares but the books lack are warnings (``governance sync`` adds them): a plugin declaring
something is not yet a decision to allow it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from govern.errors import GovernError, Problem
from govern.format.jsonio import dump_canonical, loads_strict
from govern.format.models import CatalogEntry, Operation
from govern.governance.documents import (
    CATALOG_FILE,
    MATRIX_FILE,
    REGISTRY_CATALOG_FILE,
    SCORECARD_FILE,
    CatalogAddendum,
    CoverageMatrix,
    OperationsCatalog,
    RegistryCatalog,
    Scorecard,
)
from govern.governance.registries import KnownRegistry, catalogued_ids
from govern.governance.run_operations import uncatalogued_run_problems
from govern.governance.scorecard import derive_figures
from govern.governance.store import Books, addendum_paths, read_document
from govern.governance.versioning import changelog_problems
from govern.runs.run_store import RunStore


@attrs.frozen
class CheckResult:
    """What ``governance check`` found."""

    problems: tuple[Problem, ...]
    warnings: tuple[str, ...]
    books: Books | None

    @property
    def ok(self) -> bool:
        """True when nothing disagrees."""
        return not self.problems


def _mismatch(where: str, message: str) -> Problem:
    return Problem("E_GOVERNANCE_MISMATCH", where, message)


def _load(governance_dir: Path, problems: list[Problem], warnings: list[str]) -> Books | None:
    """Read every document, turning each failure into problems; None if any is unreadable."""
    loaded: dict[str, Any] = {}
    addenda = []
    targets: list[tuple[Path, type[Any]]] = [
        (governance_dir / CATALOG_FILE, OperationsCatalog),
        (governance_dir / MATRIX_FILE, CoverageMatrix),
        (governance_dir / SCORECARD_FILE, Scorecard),
        (governance_dir / REGISTRY_CATALOG_FILE, RegistryCatalog),
        *((path, CatalogAddendum) for path in addendum_paths(governance_dir)),
    ]
    for path, kind in targets:
        try:
            document = read_document(path, kind, self_consistent=False)
        except GovernError as error:
            problems.extend(error.problems or (Problem(error.code, path.name, error.message),))
            continue
        data = loads_strict(path.read_bytes())
        if path.read_bytes() != dump_canonical(data):
            warnings.append(f"{document.relpath}: not canonical JSON (a hand edit?); the next change rewrites it canonically")
        if kind is Scorecard:
            problems.extend(_mismatch(document.relpath, p) for p in Scorecard.json_problems(data))
        if kind is CatalogAddendum:
            addenda.append(document)
        else:
            loaded[kind.NAME] = document
    if len(loaded) < 4:
        return None
    return Books(
        catalog=loaded[OperationsCatalog.NAME],
        matrix=loaded[CoverageMatrix.NAME],
        scorecard=loaded[Scorecard.NAME],
        registry_catalog=loaded[RegistryCatalog.NAME],
        addenda=tuple(addenda),
    )


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def _check_histories(books: Books, problems: list[Problem]) -> None:
    for document in books.documents():
        for message in changelog_problems(document.version, document.changelog):
            problems.append(Problem("E_GOVERNANCE_INVALID", f"{document.relpath}: changelog", message))
        last = document.changelog[-1] if document.changelog else None
        if last is not None and last.after != document.summary():
            problems.append(
                _mismatch(f"{document.relpath}: changelog {last.version}", f"'after' is {last.after}, but the document now gives {document.summary()}")
            )


def _check_catalog_and_matrix(books: Books, problems: list[Problem]) -> None:
    catalog, matrix = books.catalog, books.matrix
    for op_id in _duplicates(catalog.op_ids()):
        problems.append(Problem("E_GOVERNANCE_INVALID", f"{catalog.relpath}: {op_id}", "listed more than once"))
    for kind, ids in (("enforcement point", matrix.point_ids()), ("coverage level", matrix.level_ids()), ("row", [r.op_id for r in matrix.rows])):
        for duplicate in _duplicates(ids):
            problems.append(Problem("E_GOVERNANCE_INVALID", f"{matrix.relpath}: {duplicate}", f"{kind} listed more than once"))
    points = set(matrix.point_ids())
    for level in matrix.coverage_levels:
        for point in level.requires:
            if point not in points:
                problems.append(Problem("E_UNKNOWN_ENFORCEMENT", f"{matrix.relpath}: level {level.id}", f"requires {point}, which the matrix does not define"))
    catalogued = set(catalog.op_ids())
    rows = {row.op_id for row in matrix.rows}
    for row in matrix.rows:
        where = f"{matrix.relpath}: row {row.op_id}"
        if row.op_id not in catalogued:
            problems.append(Problem("E_MATRIX_ORPHAN_ROW", where, f"{row.op_id} is not in {catalog.relpath}"))
        if row.coverage not in matrix.level_ids():
            problems.append(Problem("E_UNKNOWN_LEVEL", where, f"coverage {row.coverage!r} is not a level of the matrix"))
            continue
        unknown = [p for p in row.enforcement if p not in points]
        if unknown:
            problems.append(Problem("E_UNKNOWN_ENFORCEMENT", where, f"enforcement point {', '.join(unknown)} is not defined"))
        missing = [p for p in matrix.required_points(row.coverage) if p not in row.enforcement]
        if missing:
            problems.append(Problem("E_LEVEL_UNMET", where, f"coverage {row.coverage} requires {', '.join(missing)}, which the row lacks"))
    for op_id in catalog.op_ids():
        if op_id not in rows:
            problems.append(Problem("E_MATRIX_ROW_MISSING", f"{catalog.relpath}: {op_id}", f"has no row in {matrix.relpath}"))


def _check_registries(books: Books, known: Mapping[str, KnownRegistry], problems: list[Problem], warnings: list[str]) -> None:
    catalog = books.registry_catalog
    listed: list[tuple[str, str]] = [(e.registry_id, catalog.relpath) for e in catalog.registries]
    for addendum in books.addenda:
        listed.extend((e.registry_id, addendum.relpath) for e in addendum.registries)
        if not catalog.frozen:
            problems.append(_mismatch(addendum.relpath, f"an addendum to a registry catalog that is not frozen ({catalog.relpath})"))
        elif addendum.extends_version != catalog.version:
            problems.append(
                _mismatch(addendum.relpath, f"extends registry catalog v{addendum.extends_version}, but the frozen catalog is v{catalog.version}")
            )
    for registry_id in _duplicates([rid for rid, _ in listed]):
        places = ", ".join(sorted(where for rid, where in listed if rid == registry_id))
        problems.append(Problem("E_GOVERNANCE_INVALID", registry_id, f"catalogued more than once ({places})"))
    present = catalogued_ids(books)
    located: dict[str, tuple[CatalogEntry, str]] = {}
    for registry_id, where in listed:
        entry = next(e for e in books.all_registries() if e.registry_id == registry_id)
        located.setdefault(registry_id, (entry, where))
    for registry_id, item in known.items():
        if registry_id not in present:
            if item.origin == "config":
                problems.append(
                    Problem(
                        "E_REGISTRY_UNCATALOGUED",
                        registry_id,
                        f"configured in registry_config.toml but absent from {catalog.relpath} and its addenda "
                        f"({'govern governance addendum --label L' if catalog.frozen else 'govern governance sync'} adds it)",
                    )
                )
            else:
                hint = "governance addendum --label L" if catalog.frozen else "governance sync"
                warnings.append(f"{registry_id}: contributed by a plugin but not catalogued yet ('govern {hint}' adds it)")
            continue
        entry, where = located[registry_id]
        if (entry.kind, entry.sealed) != (item.entry.kind, item.entry.sealed):
            problems.append(
                _mismatch(
                    f"{where}: {registry_id}",
                    f"catalogued as kind {entry.kind} (sealed: {str(entry.sealed).lower()}), but govern knows it as "
                    f"kind {item.entry.kind} (sealed: {str(item.entry.sealed).lower()})",
                )
            )


def _check_scorecard(books: Books, problems: list[Problem]) -> None:
    scorecard = books.scorecard
    try:
        derived = derive_figures(books)
    except GovernError as error:
        problems.append(Problem(error.code, scorecard.relpath, error.message))
        return
    stored = scorecard.figures
    pairs = [
        ("figures.executables", stored.executables, derived.executables, "distinct executables in the catalog"),
        ("figures.operations", stored.operations, derived.operations, f"operations in {books.catalog.relpath}"),
        ("figures.sealed_registries", stored.sealed_text, derived.sealed_text, "sealed/total registries in the catalog and its addenda"),
        (
            "figures.at_or_above_threshold",
            f"{stored.at_or_above}/{stored.operations}",
            f"{derived.at_or_above}/{derived.operations}",
            f"operations at {derived.threshold} or above in {books.matrix.relpath}",
        ),
    ]
    for field, mine, theirs, what in pairs:
        if mine != theirs:
            problems.append(_mismatch(f"{scorecard.relpath}: {field}", f"says {mine}, but the books give {theirs} ({what})"))
    if len(scorecard.changelog) >= 2:
        before = scorecard.changelog[-2]
        if scorecard.previous is None or scorecard.previous_version != before.version or scorecard.previous.to_json() != before.after:
            problems.append(_mismatch(f"{scorecard.relpath}: previous", f"is not version {before.version}'s figures (its changelog entry)"))
    elif scorecard.previous is not None:
        problems.append(_mismatch(f"{scorecard.relpath}: previous", "a first version has no previous figures"))


def _check_plugin_operations(books: Books, declared: list[Operation], warnings: list[str]) -> None:
    for op in declared:
        if books.catalog.get(op.op_id) is None:
            warnings.append(f"{op.op_id} ({op.title}) is declared by a plugin but not in the catalog yet ('govern governance sync' adds it)")


def check_books(
    governance_dir: Path, known: Mapping[str, KnownRegistry], declared: list[Operation], runs: RunStore | Path | None = None
) -> CheckResult:
    """Check the books in ``governance_dir`` against themselves and what govern knows; with
    ``runs`` (the run store of the runs root, or a local runs root), also that every sealed
    run there was made by a catalogued operation."""
    problems: list[Problem] = []
    warnings: list[str] = []
    books = _load(governance_dir, problems, warnings)
    if books is None:
        return CheckResult(tuple(problems), tuple(warnings), None)
    _check_histories(books, problems)
    _check_catalog_and_matrix(books, problems)
    _check_registries(books, known, problems, warnings)
    _check_scorecard(books, problems)
    _check_plugin_operations(books, declared, warnings)
    if runs is not None:
        problems.extend(uncatalogued_run_problems(books.catalog, runs, {op.op_id for op in declared}))
    return CheckResult(tuple(problems), tuple(warnings), books)
