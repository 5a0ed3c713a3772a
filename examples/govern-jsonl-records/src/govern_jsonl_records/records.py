"""The records of a JSONL artifact keyed by one field, and what changed between two versions.

A line is one record: a JSON object (read as strictly as govern reads JSONL) whose key field
holds a string or an integer. Records are compared by their canonical JSON (sorted keys,
compact), so re-ordering a record's fields is no change, while ``1`` → ``1.0`` or
``1`` → ``true`` is one. Anything that makes "the record with key K" ambiguous — a line that
is not an object, a missing or non-scalar key, two records with one key — means the artifact
is not keyed JSONL, and the caller falls back to the file-level diff.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from govern.api import StrictJSONError, dump_canonical, parse_jsonl


def keyed_records(data: bytes, key: str) -> dict[str, bytes] | None:
    """``record key -> canonical bytes of the record``, or None when ``data`` is not JSONL
    keyed by ``key``. Integer keys are written in decimal (``7`` and ``"7"`` collide)."""
    records: dict[str, bytes] = {}
    try:
        values = [value for _, value in parse_jsonl(data)]  # govern's one JSONL rule; a torn last line too
    except StrictJSONError:
        return None
    for value in values:
        if not isinstance(value, dict):
            return None
        field = value.get(key)
        if isinstance(field, bool) or not isinstance(field, (str, int)):
            return None
        record_key = str(field)
        if record_key in records:
            return None
        records[record_key] = dump_canonical(value)
    return records


@attrs.frozen
class RecordChanges:
    """Record keys added, removed and modified from one version of an artifact to the next."""

    added: frozenset[str]
    removed: frozenset[str]
    modified: frozenset[str]

    def paths(self, artifact: str) -> tuple[list[str], list[str], list[str]]:
        """The changes as delta-log path entries ``ARTIFACT#key``."""
        def entries(keys: frozenset[str]) -> list[str]:
            return [f"{artifact}#{key}" for key in sorted(keys)]

        return entries(self.added), entries(self.removed), entries(self.modified)


def record_changes(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> RecordChanges:
    """What changed from ``before`` to ``after`` (both from :func:`keyed_records`)."""
    return RecordChanges(
        added=frozenset(after.keys() - before.keys()),
        removed=frozenset(before.keys() - after.keys()),
        modified=frozenset(k for k in after.keys() & before.keys() if after[k] != before[k]),
    )
