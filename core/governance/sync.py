"""``governance sync``: bring the books up to what govern knows, in one all-or-nothing change.

Adds every operation plugins declare (``govern_operations``) that the catalog lacks — to the
catalog and, with the plugin's coverage and enforcement points, to the matrix — and every
known registry (configured, or contributed by a plugin) the books lack: into the registry
catalog while it is unfrozen; into addendum ``label`` when it is frozen and a label is given;
otherwise they are reported as pending (``governance addendum --label L`` adds them). The
scorecard is re-derived in the same change, so one sync is one version of each document.
"""

from __future__ import annotations

import datetime as dt

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.models import Operation
from govern.governance.documents import Document
from govern.governance.operations import add_operations, check_new_operation
from govern.governance.registries import (
    KnownRegistry,
    catalog_with,
    check_label,
    derive_addendum,
    known_registries,
    uncatalogued,
)
from govern.governance.revision import Update
from govern.governance.scorecard import complete_update, ensure_scorecard_current
from govern.governance.store import Books
from govern.host.manager import PluginHost


@attrs.frozen
class SyncPlan:
    """What a sync adds, and what it could not place."""

    update: Update
    operations: tuple[Operation, ...]
    registries: tuple[KnownRegistry, ...]
    #: Known registries a frozen catalog lacks, with no addendum label given.
    pending: tuple[KnownRegistry, ...]


def plan_sync(books: Books, workspace: Workspace, host: PluginHost, clock: dt.datetime, label: str | None = None) -> SyncPlan:
    """Decide what ``governance sync`` writes. Reads; never writes.

    Refuses (exit 2, nothing written) a plugin operation the matrix cannot take (unknown
    level or point, requirements unmet), naming it.
    """
    if label is not None:
        check_label(label)
    declared = host.operations()
    seen: set[str] = set()
    new_ops = []
    for op in declared:
        if op.op_id in seen:
            raise GovernError("E_OP_EXISTS", f"operation {op.op_id} is declared by two plugins; nothing was written")
        seen.add(op.op_id)
        if books.catalog.get(op.op_id) is None:
            new_ops.append(check_new_operation(books, op, "plugin operation "))
    revised: list[Document] = add_operations(books, new_ops, clock) if new_ops else []
    known = known_registries(workspace, host)
    missing = uncatalogued(books, known)
    placed: list[KnownRegistry] = []
    pending: list[KnownRegistry] = []
    if missing and not books.registry_catalog.frozen:
        revised.append(catalog_with(books, missing, clock))
        placed = missing
    elif missing and label is not None:
        addendum = derive_addendum(books, known, label, clock)
        if addendum is not None:
            revised.append(addendum)
        placed = missing
    else:
        pending = missing
    if not revised:
        return SyncPlan(Update((), books), (), (), tuple(pending))
    ensure_scorecard_current(books)
    return SyncPlan(complete_update(books, revised, clock), tuple(new_ops), tuple(placed), tuple(pending))
