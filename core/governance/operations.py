"""``governance add-op`` / ``remove-op``: allow a new operation, or take one away — catalog,
matrix and scorecard together.

Everything is checked before anything is built: the op id's form, that it is new (in the
catalog *and* in the matrix), a title, at least one executable, a coverage level and
enforcement points the matrix defines, and that those points meet every requirement of the
level. Any refusal is exit 2 with nothing written.
"""

from __future__ import annotations

import datetime as dt

import attrs

from govern.errors import GovernError
from govern.format.models import Operation
from govern.governance.documents import OP_ID_PATTERN, CatalogOperation, Document, MatrixRow
from govern.governance.revision import Update, revise
from govern.governance.scorecard import complete_update, ensure_scorecard_current
from govern.governance.store import Books
from govern.governance.versioning import Change


def check_new_operation(books: Books, op: Operation, source: str = "") -> Operation:
    """``op`` normalised (enforcement points de-duplicated, in the matrix's order), or a refusal.

    ``source`` prefixes messages (e.g. ``plugin delta_log: ``).
    """
    matrix = books.matrix
    if not OP_ID_PATTERN.fullmatch(op.op_id):
        raise GovernError("E_OP_INVALID", f"{source}{op.op_id!r}: an op id looks like OP-QA11 (OP-, capitals, 2+ digits)")
    if books.catalog.get(op.op_id) is not None:
        raise GovernError("E_OP_EXISTS", f"{source}{op.op_id} is already in {books.catalog.relpath}; nothing was written")
    if matrix.row(op.op_id) is not None:
        raise GovernError("E_OP_EXISTS", f"{source}{op.op_id} already has a row in {matrix.relpath}; nothing was written")
    if not op.title.strip():
        raise GovernError("E_OP_INVALID", f"{source}{op.op_id}: the title is empty")
    if not op.executables or any(not e.strip() for e in op.executables):
        raise GovernError("E_OP_INVALID", f"{source}{op.op_id}: give at least one executable, none empty")
    if len(set(op.executables)) != len(op.executables):
        raise GovernError("E_OP_INVALID", f"{source}{op.op_id}: an executable is listed twice")
    if op.coverage not in matrix.level_ids():
        raise GovernError(
            "E_UNKNOWN_LEVEL",
            f"{source}{op.op_id}: coverage level {op.coverage!r} is not in {matrix.relpath} (levels: {', '.join(matrix.level_ids())})",
        )
    unknown = [point for point in op.enforcement if point not in matrix.point_ids()]
    if unknown:
        raise GovernError(
            "E_UNKNOWN_ENFORCEMENT",
            f"{source}{op.op_id}: enforcement point {', '.join(unknown)} is not in {matrix.relpath} "
            f"(points: {', '.join(matrix.point_ids())})",
        )
    enforcement = matrix.sort_points(op.enforcement)
    missing = [point for point in matrix.required_points(op.coverage) if point not in enforcement]
    if missing:
        raise GovernError(
            "E_LEVEL_UNMET",
            f"{source}{op.op_id}: coverage {op.coverage} requires {', '.join(matrix.required_points(op.coverage))}; "
            f"missing {', '.join(missing)}",
        )
    return attrs.evolve(op, enforcement=enforcement, title=op.title.strip())


def add_operations(books: Books, ops: list[Operation], clock: dt.datetime) -> list[Document]:
    """The catalog and matrix with ``ops`` added (already checked), as next versions."""
    catalog = books.catalog
    matrix = books.matrix
    operations = catalog.operations + tuple(CatalogOperation(op.op_id, op.title, tuple(op.executables)) for op in ops)
    rows = matrix.rows + tuple(MatrixRow(op.op_id, op.coverage, tuple(op.enforcement)) for op in ops)
    new_catalog = revise(
        catalog,
        attrs.evolve(catalog, operations=tuple(sorted(operations, key=lambda o: o.op_id))),
        [Change(f"ADD {op.op_id}", op.title) for op in ops],
        clock,
    )
    new_matrix = revise(
        matrix,
        attrs.evolve(matrix, rows=tuple(sorted(rows, key=lambda r: r.op_id))),
        [Change("ADD row", f"{op.op_id} at {op.coverage} coverage ({', '.join(op.enforcement) or 'no enforcement points'})") for op in ops],
        clock,
    )
    return [new_catalog, new_matrix]


def add_op(books: Books, op: Operation, clock: dt.datetime) -> Update:
    """The update adding one operation to catalog and matrix, with the re-derived scorecard."""
    ensure_scorecard_current(books)
    checked = check_new_operation(books, op)
    return complete_update(books, add_operations(books, [checked], clock), clock)


def remove_op(
    books: Books, op_id: str, clock: dt.datetime, *, declared_by: str | None = None, made_runs: tuple[str, ...] = ()
) -> Update:
    """The update removing an operation from catalog and matrix, with the re-derived scorecard.

    Refuses (exit 2, nothing written) an op id neither document has (E_OP_UNKNOWN), and one
    still referenced (E_OP_IN_USE): declared by the plugin ``declared_by`` (a sync would add it
    straight back), or recorded as the operation of the sealed runs ``made_runs`` (sealed runs
    are never rewritten, so the catalog must keep allowing what they were made by).
    """
    catalog, matrix = books.catalog, books.matrix
    operation, row = catalog.get(op_id), matrix.row(op_id)
    if operation is None and row is None:
        raise GovernError(
            "E_OP_UNKNOWN",
            f"{op_id} is not in {catalog.relpath} nor in {matrix.relpath} (check the id); nothing was written",
        )
    if declared_by is not None:
        raise GovernError(
            "E_OP_IN_USE",
            f"{op_id} is declared by plugin {declared_by}; it cannot be removed while that plugin is loaded "
            "(disable the plugin first: [plugins] disable in registry_config.toml); nothing was written",
        )
    if made_runs:
        more = f" and {len(made_runs) - 1} more" if len(made_runs) > 1 else ""
        raise GovernError(
            "E_OP_IN_USE",
            f"{op_id} made sealed run {made_runs[0]}{more}; sealed runs are never rewritten, so the catalog keeps "
            "allowing their operation (removing it would make 'govern governance check' flag them); nothing was written",
        )
    ensure_scorecard_current(books)
    documents: list[Document] = []
    if operation is not None:
        kept = tuple(op for op in catalog.operations if op.op_id != op_id)
        documents.append(revise(catalog, attrs.evolve(catalog, operations=kept), [Change(f"REMOVE {op_id}", operation.title)], clock))
    if row is not None:
        rows = tuple(r for r in matrix.rows if r.op_id != op_id)
        points = ", ".join(row.enforcement) or "no enforcement points"
        documents.append(
            revise(matrix, attrs.evolve(matrix, rows=rows), [Change("REMOVE row", f"{op_id} at {row.coverage} coverage ({points})")], clock)
        )
    return complete_update(books, documents, clock)
