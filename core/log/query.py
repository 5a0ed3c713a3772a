"""Querying the delta log: which transitions to show, and what changed in each (``delta show``).

A transition is one record of the log. Its *time* is the time of the snapshot it leads to —
the ``YYYY-MM-DD__HHMMSS`` its ``to_ref`` run id starts with — never the build's clock, so the
answer does not depend on when the log happened to be built. Filters:

- ``registry``: one registry's records;
- ``path`` (in manifest form, see :func:`govern.cli.path_argument.in_run_path`): records touching
  that file or anything under that folder — and ``unknown`` records whose artifact overlaps it,
  since an unknown transition may have touched it;
- ``since`` / ``until``: a date ``YYYY-MM-DD``, a time ``YYYY-MM-DDTHH:MM:SSZ`` or a run id;
  both bounds are inclusive (a date as ``until`` covers that whole day; a run id bound compares
  by run id, which orders by time);
- ``run``: transitions to or from that run;
- ``limit``: the latest N of what the other filters keep, still shown oldest first.

Changes are listed like ``git log --name-status``: ``A`` added, ``D`` removed (deleted), ``M``
modified, one path each, sorted by path.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs

from govern.errors import GovernError
from govern.format.models import ref_label
from govern.format.paths import is_run_id

#: The letter ``git log --name-status`` uses for each kind of change.
CHANGE_LETTERS = (("added", "A"), ("removed", "D"), ("modified", "M"))

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})$")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})Z$")
# Sorts after every slug character ([a-z0-9_]), so "<time>~" is above every run id of that time.
_AFTER_ANY_SLUG = "~"


def time_bound(option: str, text: str, *, upper: bool) -> str:
    """A run-id-ordered key for ``--since``/``--until`` ``text``: records whose ``to_ref`` run id
    is >= (``upper`` False) or <= (``upper`` True) it are kept.

    E_USAGE naming the option and the accepted forms when ``text`` is none of them.
    """
    if is_run_id(text):
        return text
    problem = GovernError("E_USAGE", f"{option} {text!r}: expected a date YYYY-MM-DD, a time YYYY-MM-DDTHH:MM:SSZ or a run id")
    try:
        # The patterns check the form; the calendar checks the values (no 2024-13-45).
        if _DATE.match(text):
            dt.datetime.strptime(text, "%Y-%m-%d")
        elif _TIME.match(text):
            dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise problem from None
    date = _DATE.match(text)
    if date:
        return f"{date.group(1)}__235959{_AFTER_ANY_SLUG}" if upper else f"{date.group(1)}__000000"
    moment = _TIME.match(text)
    if moment:
        key = f"{moment.group(1)}__{moment.group(2)}{moment.group(3)}{moment.group(4)}"
        return key + _AFTER_ANY_SLUG if upper else key
    raise problem


def _under(candidate: str, path: str) -> bool:
    """True when ``candidate`` is ``path`` or lies in the folder ``path``."""
    return candidate == path or candidate.startswith(path + "/")


@attrs.frozen
class Transition:
    """One record of the log as shown: the record, and its changes (only those under the
    queried path, when there is one)."""

    record: dict[str, Any]
    changes: tuple[tuple[str, str], ...]

    @property
    def unknown(self) -> bool:
        """True when the record's basis is ``unknown``: what changed is not known."""
        return self.record["delta_basis"] == "unknown"

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``delta show --json`` lists under ``transitions``."""
        record = self.record
        shown = {
            "registry_id": record["registry_id"],
            "from_run_id": None if record["from_ref"] is None else record["from_ref"].get("run_id"),
            "to_run_id": record["to_ref"].get("run_id"),
            "delta_basis": record["delta_basis"],
            "counts": record["counts"],
            "unknown_reason": record.get("unknown_reason"),
            "changes": [{"status": letter, "path": path} for letter, path in self.changes],
        }
        if _is_source(record["to_ref"]):
            # A version kept outside the runs root has no run: ``<location>@<version>`` names it.
            shown["from_version"] = ref_label(record["from_ref"])
            shown["to_version"] = ref_label(record["to_ref"])
        return shown


def name_status(record: dict[str, Any], path: str | None = None) -> tuple[tuple[str, str], ...]:
    """``(letter, path)`` for every change of ``record`` (at or under ``path`` if given), by path."""
    changes = [
        (letter, changed)
        for field, letter in CHANGE_LETTERS
        for changed in record[f"{field}_paths"]
        if path is None or _under(changed, path)
    ]
    return tuple(sorted(changes, key=lambda change: change[1]))


def _touches(record: dict[str, Any], path: str) -> tuple[tuple[str, str], ...] | None:
    """The record's changes under ``path``; None when it does not touch ``path``."""
    if record["delta_basis"] == "unknown":
        relpath = record["to_ref"].get("relpath")  # a source_ref is the whole source: it touches every path
        return () if relpath is None or _under(path, relpath) or _under(relpath, path) else None
    return name_status(record, path) or None


def select_transitions(
    records: Iterable[dict[str, Any]],
    *,
    registry: str | None = None,
    path: str | None = None,
    since: str | None = None,
    until: str | None = None,
    run: str | None = None,
    limit: int | None = None,
) -> list[Transition]:
    """The transitions among ``records`` (log order) that every given filter keeps.

    ``since``/``until`` are keys from :func:`time_bound`; ``run`` a run id.
    """
    kept: list[Transition] = []
    for record in records:
        to_run = ref_label(record["to_ref"]) or ""
        from_run = ref_label(record["from_ref"])
        if registry is not None and record["registry_id"] != registry:
            continue
        if since is not None and to_run < since:
            continue
        if until is not None and to_run > until:
            continue
        if run is not None and run not in (to_run, from_run):
            continue
        if path is None:
            kept.append(Transition(record, name_status(record)))
            continue
        changes = _touches(record, path)
        if changes is not None:
            kept.append(Transition(record, changes))
    return kept[-limit:] if limit is not None else kept


def _is_source(ref: Any) -> bool:
    """True for a source_ref (a version kept outside the runs root)."""
    return isinstance(ref, dict) and "source" in ref


#: The letter a path's history shows for a transition whose basis is ``unknown``: it may
#: have touched the path, and what it did is not known.
UNKNOWN_LETTER = "?"


def path_histories(transitions: Iterable[Transition]) -> dict[str, list[tuple[Transition, str]]]:
    """Every path the ``transitions`` (one registry's, as :func:`select_transitions` gives
    them) change, with its history: exactly the transitions ``select_transitions(…,
    path=that path)`` keeps, in log order, each with the path's letter there (for a path that
    was also a folder of other changed paths, in a transition that changed only paths under
    it: the first of their letters; :data:`UNKNOWN_LETTER` for an ``unknown`` transition that
    may have touched it) — the ``delta show --path`` view of every path at once. One pass over
    the log, one over its unknown transitions, and one more per path that is also a folder
    (rare: a file replaced by a folder of that name), instead of one pass per path. Paths sorted."""
    transitions = list(transitions)
    histories: dict[str, list[tuple[int, Transition, str]]] = {}
    for position, transition in enumerate(transitions):
        if not transition.unknown:
            for letter, path in transition.changes:
                histories.setdefault(path, []).append((position, transition, letter))
    paths = sorted(histories)
    # A path that is also a folder of changed paths: what is under it touches it too.
    for folder in [path for path in paths if _has_descendant(paths, path)]:
        histories[folder] = [
            (position, transition, _letter_of(changes, folder))
            for position, transition in enumerate(transitions)
            if not transition.unknown and (changes := _touches(transition.record, folder))
        ]
    for position, transition in enumerate(transitions):
        if transition.unknown:
            for path, history in histories.items():
                if _touches(transition.record, path) is not None:
                    history.append((position, transition, UNKNOWN_LETTER))
    return {path: [(t, letter) for _, t, letter in sorted(histories[path], key=lambda item: item[0])] for path in paths}


def _has_descendant(paths: list[str], path: str) -> bool:
    """True when some path of ``paths`` (sorted) lies under the folder ``path``."""
    index = bisect.bisect_left(paths, path + "/")
    return index < len(paths) and paths[index].startswith(path + "/")


def _letter_of(changes: tuple[tuple[str, str], ...], path: str) -> str:
    """The letter of ``path`` among ``changes``; else the first letter of the changes under it."""
    return next((letter for letter, changed in changes if changed == path), changes[0][0])
