"""How changes read to people: ``2 added, 0 removed, 1 modified`` and ``git log --name-status``
lines. Shared by the text renderers of ``delta show`` and ``govern diff``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from govern.format.models import ref_label
from govern.log.query import CHANGE_LETTERS

if TYPE_CHECKING:
    from govern.log.query import Transition


def renamed(record: dict[str, Any]) -> int:
    """How many renames ``record`` lists (none in a v0.1 record, or a v0.2 one written before
    renames were detected)."""
    return len(record.get("renamed_paths") or ())


def count_text(counts: dict[str, int | None], renames: int = 0) -> str:
    """``2 added, 0 removed, 1 modified`` (or ``no changes``) for a known basis, and
    ``, 1 renamed`` after them when there are renames."""
    if not any(counts.values()) and not renames:
        return "no changes"
    text = ", ".join(f"{counts[field]} {field}" for field, _ in CHANGE_LETTERS)
    return f"{text}, {renames} renamed" if renames else text


def transition_lines(transition: Transition, path: str | None = None) -> list[str]:
    """The header line of a transition and its ``A``/``D``/``M`` lines, ``R<TAB>from<TAB>to`` for a
    rename (``git log --name-status``)."""
    record = transition.record
    source = ref_label(record["from_ref"]) or "(bootstrap)"
    head = f"{record['registry_id']}: {source} → {ref_label(record['to_ref'])}  [{record['delta_basis']}]"
    if transition.unknown:
        # Never "0 changes": what changed is not known, and the reason says why.
        where = f" (may touch {path})" if path is not None else ""
        return [f"{head}  changes unknown{where}: {record['unknown_reason']}"]
    shown = f"; {len(transition.changes)} under {path}" if path is not None else ""
    return [f"{head}  {count_text(record['counts'], renamed(record))}{shown}", *("\t".join(change) for change in transition.changes)]
