"""How changes read to people: ``2 added, 0 removed, 1 modified`` and ``git log --name-status``
lines. Shared by the text renderers of ``delta show`` and ``govern diff``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern.format.models import ref_label
from govern.log.query import CHANGE_LETTERS

if TYPE_CHECKING:
    from govern.log.query import Transition


def count_text(counts: dict[str, int | None]) -> str:
    """``2 added, 0 removed, 1 modified`` (or ``no changes``) for a known basis."""
    if not any(counts.values()):
        return "no changes"
    return ", ".join(f"{counts[field]} {field}" for field, _ in CHANGE_LETTERS)


def transition_lines(transition: Transition, path: str | None = None) -> list[str]:
    """The header line of a transition and its ``A``/``D``/``M`` lines (``git log --name-status``)."""
    record = transition.record
    source = ref_label(record["from_ref"]) or "(bootstrap)"
    head = f"{record['registry_id']}: {source} → {ref_label(record['to_ref'])}  [{record['delta_basis']}]"
    if transition.unknown:
        # Never "0 changes": what changed is not known, and the reason says why.
        where = f" (may touch {path})" if path is not None else ""
        return [f"{head}  changes unknown{where}: {record['unknown_reason']}"]
    shown = f"; {len(transition.changes)} under {path}" if path is not None else ""
    return [f"{head}  {count_text(record['counts'])}{shown}", *(f"{letter}\t{changed}" for letter, changed in transition.changes)]
