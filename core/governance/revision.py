"""How a document becomes its next version, and how a command's changes become one update.

A command describes the content it changes; :func:`revise` makes that the next version with
its changelog entry (refusing a frozen document), and
:func:`govern.governance.scorecard.complete_update` adds the re-derived scorecard, so the
books can only be written consistent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

import attrs

from govern.errors import GovernError
from govern.governance.documents import Document
from govern.governance.store import Books
from govern.governance.versioning import Change, changelog_entry

D = TypeVar("D", bound=Document)


def first_version(document: D, changes: Iterable[Change], clock: dt.datetime) -> D:
    """``document`` as version 0.1, with its first changelog entry (before: null)."""
    entry = changelog_entry(None, clock, tuple(changes), None, document.summary())
    return attrs.evolve(document, version=entry.version, changelog=(entry,))


def revise(old: D, new: D, changes: Iterable[Change], clock: dt.datetime) -> D:
    """``new`` (``old`` with changed content) as the next version, with its changelog entry.

    E_GOVERNANCE_FROZEN if ``old`` is frozen: a frozen document never gets a new version;
    E_CLOCK_INVALID if the clock is before the document's last change.
    """
    if old.frozen:
        raise GovernError(
            "E_GOVERNANCE_FROZEN",
            f"{old.relpath}: {old.NAME} v{old.version} is frozen and is never modified; nothing was written",
        )
    entry = changelog_entry(old.version, clock, tuple(changes), old.summary(), new.summary())
    last = old.changelog[-1].date if old.changelog else None
    if last is not None and entry.date < last:
        # A history whose dates go backwards cannot be read as a history; --at is wrong.
        raise GovernError(
            "E_CLOCK_INVALID",
            f"the clock {entry.date} is before the last change of {old.relpath} ({last}); "
            "the books' history never goes backwards (check --at / SOURCE_DATE_EPOCH)",
        )
    return attrs.evolve(new, version=entry.version, changelog=(*old.changelog, entry))


@attrs.frozen
class Update:
    """What a command changes: the new version of each document it touches, and the books
    as they will be. Empty when there is nothing to do."""

    documents: tuple[Document, ...]
    books: Books

    @property
    def empty(self) -> bool:
        """True when nothing changes."""
        return not self.documents
