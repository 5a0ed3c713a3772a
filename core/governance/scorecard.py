"""The scorecard's derivation, and how every change carries the scorecard along with it.

:func:`derive_figures` is the one definition of each figure; ``governance check``, the
``scorecard`` command, the reports and every writing command use it. A writing command
describes the content it changes; :func:`complete_update` bumps each changed document's
version with a changelog entry and re-derives the scorecard in the same update, so the books
can only be written consistent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from govern.errors import GovernError
from govern.format.models import CatalogEntry
from govern.governance.documents import CoverageMatrix, Document, OperationsCatalog, Scorecard, distinct_executables
from govern.governance.figures import Figures, changed_figure_rows
from govern.governance.revision import Update, revise
from govern.governance.store import Books
from govern.governance.versioning import Change

#: The default threshold of the "at or above" share.
DEFAULT_THRESHOLD = "C3"

def figures_of(
    catalog: OperationsCatalog, matrix: CoverageMatrix, registries: Iterable[CatalogEntry], threshold: str
) -> Figures:
    """The scorecard's figures for these documents (the one definition of each figure).

    An operation without a matrix row, or with a level the matrix does not define, counts as
    below the threshold. E_UNKNOWN_LEVEL when the threshold is not a level of the matrix.
    """
    levels = matrix.level_ids()
    if threshold not in levels:
        raise GovernError(
            "E_UNKNOWN_LEVEL",
            f"scorecard threshold {threshold!r} is not a coverage level of the matrix ({', '.join(levels)})",
        )
    floor = matrix.rank(threshold)
    coverage = {row.op_id: row.coverage for row in matrix.rows}
    at_or_above = sum(
        1 for op in catalog.operations if coverage.get(op.op_id) in levels and matrix.rank(coverage[op.op_id]) >= floor
    )
    entries = list(registries)
    return Figures(
        executables=distinct_executables(catalog.operations),
        operations=len(catalog.operations),
        sealed_registries=sum(entry.sealed for entry in entries),
        registries=len(entries),
        threshold=threshold,
        at_or_above=at_or_above,
    )


def derive_figures(books: Books, threshold: str | None = None) -> Figures:
    """The scorecard's figures as the books give them (threshold: the scorecard's own)."""
    return figures_of(books.catalog, books.matrix, books.all_registries(), threshold or books.scorecard.figures.threshold)


def scorecard_disagreements(books: Books) -> list[tuple[str, str, str]]:
    """(figure, stored, derived) for every scorecard figure the books contradict."""
    stored = books.scorecard.figures
    derived = derive_figures(books)
    found = []
    for name, mine, theirs in (
        ("executables", stored.executables, derived.executables),
        ("operations", stored.operations, derived.operations),
        ("sealed registries", stored.sealed_text, derived.sealed_text),
        (f"operations at {stored.threshold_label}", stored.at_or_above, derived.at_or_above),
    ):
        if mine != theirs:
            found.append((name, str(mine), str(theirs)))
    return found


def rederive_scorecard(old: Scorecard, books: Books, clock: dt.datetime) -> Scorecard | None:
    """The next scorecard version for ``books``, or None when no figure changed."""
    figures = derive_figures(books, old.figures.threshold)
    if figures == old.figures:
        return None
    changes = [Change(label, text) for label, text in changed_figure_rows(old.figures, figures)]
    new = attrs.evolve(old, figures=figures, previous_version=old.version, previous=old.figures)
    return revise(old, new, changes, clock)


def ensure_scorecard_current(books: Books) -> None:
    """Refuse to build a new version on a scorecard the books already contradict.

    The new version's "previous" figures would be wrong; E_GOVERNANCE_MISMATCH (exit 1).
    """
    found = scorecard_disagreements(books)
    if found:
        text = "; ".join(f"{name} {stored} (the books give {derived})" for name, stored, derived in found)
        raise GovernError(
            "E_GOVERNANCE_MISMATCH",
            f"{books.scorecard.relpath}: the scorecard disagrees with the books before this change: {text}; "
            "restore it (e.g. from version control) and see 'govern governance check'; nothing was written",
        )


def complete_update(books: Books, revised: Iterable[Document], clock: dt.datetime) -> Update:
    """The update writing ``revised`` documents plus the re-derived scorecard, if it changed."""
    documents = list(revised)
    after = books
    for document in documents:
        after = after.replace(document)
    scorecard = rederive_scorecard(books.scorecard, after, clock)
    if scorecard is not None:
        documents.append(scorecard)
        after = after.replace(scorecard)
    return Update(tuple(sorted(documents, key=lambda d: d.relpath)), after)
