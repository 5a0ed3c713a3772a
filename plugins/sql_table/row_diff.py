"""Delta basis ``row_diff``: two ``sql_table`` snapshots compared row by row, by key.

Both snapshots' parts are in ascending key order (:func:`~govern.plugins.sql_table.source.key_order`),
so one merge walks them side by side, a part at a time (each read hash-checked against its
manifest): memory holds a part of each, whatever the table's size. A row only in the later
snapshot is added, only in the earlier removed, in both with other values modified. A part whose
SHA-256 (from the sealed manifests) is the same in both snapshots is not read at all: rows are
globally key-sorted with unique keys, so such a part holds the same rows in both, and those keys
appear in no other part of either — it can add, remove or modify nothing (with the
content-defined part boundaries of :mod:`~govern.plugins.sql_table.snapshot`, a change of a few
rows leaves all but a few parts identical). Within the parts that differ, the merge compares
lines first: a line equal to the other side's current line is the same row, unchanged, and is
not parsed; only lines that differ are parsed for their keys. Each changed row is the
path ``rows/<key>`` — the key's values, each percent-encoded (RFC 3986 unreserved characters
kept) and joined by ``/``. A change of the columns (names, types, nullability) is the path
``schema`` as modified (added on the bootstrap record). What cannot be compared is ``unknown``
with the reason: an unsealed or broken snapshot, a part that differs from its manifest, a row
without a key column, a key that is not unique or out of order, or a change of key columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError, dump_jsonl_line, loads_strict
from govern.format.jsonl import TORN_LAST_LINE, TornLineError, batches, canonical_batch_parser, parse_line, split_lines
from govern.format.models import Delta
from govern.plugins.sql_table.snapshot import PART_PREFIX, PART_SUFFIX, SCHEMA_PATH
from govern.plugins.sql_table.source import key_order
from govern.runs.views import Snapshot

BASIS = "row_diff"
#: The delta path of the table's schema (columns, key).
SCHEMA_DELTA_PATH = "schema"
#: Lines parsed and vouched for at once by the canonical fast path.
BATCH_LINES = 1000


class Incomparable(Exception):
    """Why two snapshots cannot be compared row by row (the ``unknown`` reason)."""


def row_path(values: list[Any]) -> str:
    """``rows/<key>``: each key value as text, percent-encoded, joined by ``/``."""
    return "rows/" + "/".join(quote(_text(value), safe="-._~") for value in values)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return str(value["$base64"])
    return dump_jsonl_line(value).decode("utf-8").rstrip("\n")


def _sealed_bytes(snapshot: Snapshot, path: str) -> bytes:
    try:
        return snapshot.run.runs.read_sealed_file(snapshot.run.seal, path)
    except GovernError as error:
        raise Incomparable(f"{snapshot.run_id}: {path}: {error.message}") from None


def read_schema(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's ``table/schema.json`` (Incomparable when absent or malformed)."""
    if SCHEMA_PATH not in snapshot.artifact_entries():
        raise Incomparable(f"{snapshot.run_id}: no {SCHEMA_PATH}")
    try:
        schema = loads_strict(_sealed_bytes(snapshot, SCHEMA_PATH))
    except StrictJSONError as exc:
        raise Incomparable(f"{snapshot.run_id}: {SCHEMA_PATH}: {exc}") from None
    key = schema.get("key") if isinstance(schema, dict) else None
    if not isinstance(key, list) or not key or not all(isinstance(name, str) for name in key):
        raise Incomparable(f"{snapshot.run_id}: {SCHEMA_PATH} names no key")
    return schema


def row_parts(snapshot: Snapshot) -> dict[str, str]:
    """The snapshot's rows parts, path → SHA-256 from its sealed manifest, in part order."""
    entries = snapshot.artifact_entries()
    return {path: entries[path].sha256 for path in sorted(entries) if path.startswith(PART_PREFIX) and path.endswith(PART_SUFFIX)}


def differing_parts(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], list[str]]:
    """The parts of each snapshot (:func:`row_parts`) whose SHA-256 is not among the other's:
    only those can hold an added, removed or modified row."""
    before_hashes, after_hashes = set(before.values()), set(after.values())
    return (
        [path for path, sha256 in before.items() if sha256 not in after_hashes],
        [path for path, sha256 in after.items() if sha256 not in before_hashes],
    )


Order = tuple[tuple[int, Any], ...]


def _keyed(snapshot: Snapshot, key: list[str], where: str, row: Any, previous: Order | None) -> tuple[Order, list[Any]]:
    """The row's ``(key order, key values)``, checked to follow ``previous`` strictly
    (``where``: ``PART line N``)."""
    if not isinstance(row, dict) or any(name not in row for name in key):
        raise Incomparable(f"{snapshot.run_id}: {where}: a row without its key ({', '.join(key)})")
    values = [row[name] for name in key]
    order = key_order(values)
    if previous is not None and order <= previous:
        why = "is not unique" if order == previous else "is out of order"
        raise Incomparable(f"{snapshot.run_id}: {where}: key {row_path(values)} {why}")
    return order, values


def _rows(snapshot: Snapshot, key: list[str], parts: list[str]) -> Iterator[tuple[Order, list[Any], bytes]]:
    """``(key order, key values, canonical line)`` of every row of ``parts`` (in part order),
    checked to be strictly ascending by key."""
    previous: Order | None = None
    for part in parts:
        try:
            for number, row, line in _part_rows(_sealed_bytes(snapshot, part)):
                previous, values = _keyed(snapshot, key, f"{part} line {number}", row, previous)
                yield previous, values, line
        except StrictJSONError as exc:
            raise Incomparable(f"{snapshot.run_id}: {part}: {exc}") from None


class _Side:
    """One snapshot's side of the merge: its lines, part after part, each parsed (its key and
    canonical form, checked to follow the last one parsed) only when asked — a line equal to
    the other side's is never parsed."""

    def __init__(self, snapshot: Snapshot, key: list[str], parts: list[str]) -> None:
        self._snapshot, self._key = snapshot, key
        self._lines = self._numbered_lines(parts)
        self._previous: Order | None = None
        self._parsed: tuple[Order, list[Any], bytes] | None = None
        self._where: tuple[str, int] = ("", 0)
        self.line: bytes | None = None
        self.advance()

    def _numbered_lines(self, parts: list[str]) -> Iterator[tuple[tuple[str, int], bytes]]:
        for part in parts:
            try:
                lines = _part_lines(_sealed_bytes(self._snapshot, part))
            except StrictJSONError as exc:
                raise Incomparable(f"{self._snapshot.run_id}: {part}: {exc}") from None
            yield from zip(((part, number) for number in range(1, len(lines) + 1)), lines)

    def advance(self) -> None:
        """Move to the next line (``line`` None after the last)."""
        self._where, self.line = next(self._lines, (("", 0), None))
        self._parsed = None

    def parsed(self) -> tuple[Order, list[Any], bytes]:
        """The current line's ``(key order, key values, canonical line)``."""
        if self._parsed is None:
            assert self.line is not None
            part, number = self._where
            try:
                ((_, row, canonical),) = _lines_rows([self.line], number - 1)
            except StrictJSONError as exc:
                raise Incomparable(f"{self._snapshot.run_id}: {part}: {exc}") from None
            self._previous, values = _keyed(self._snapshot, self._key, f"{part} line {number}", row, self._previous)
            self._parsed = (self._previous, values, canonical)
        return self._parsed


def _part_lines(data: bytes) -> list[bytes]:
    """The lines of a part, without their newlines (:class:`TornLineError` for a torn last line)."""
    lines, torn = split_lines(data)
    if torn is not None:
        raise TornLineError(TORN_LAST_LINE, len(lines) + 1)
    return lines


def _part_rows(data: bytes) -> Iterator[tuple[int, Any, bytes]]:
    """``(line number, row, canonical line)`` of a part, strictly (the JSONL reading rule).

    The lines govern wrote are canonical: a batch that re-serialises to its very bytes
    (:func:`~govern.format.jsonl.canonical_batch_parser`) is taken as parsed by orjson, its
    lines being their rows' canonical form — 40 µs a row less than the strict parser and a
    re-serialisation, most of a million-row diff. Any other batch is read line by line by
    :func:`~govern.format.jsonl.parse_jsonl`'s rule, each row re-serialised canonically, so the
    comparison never depends on how a line was written.
    """
    return _lines_rows(_part_lines(data))


def _lines_rows(lines: list[bytes], offset: int = 0) -> Iterator[tuple[int, Any, bytes]]:
    """:func:`_part_rows` of ``lines``, numbered from ``offset + 1``."""
    parse_batch = canonical_batch_parser()
    for index, batch in batches(lines, BATCH_LINES):
        first = offset + index
        values = parse_batch(batch)
        if values is not None:
            yield from zip(range(first + 1, first + len(batch) + 1), values, batch)
            continue
        for number, line in enumerate(batch, start=first + 1):
            try:
                row = parse_line(line)
            except StrictJSONError as exc:
                raise StrictJSONError(exc.reason, number, exc.column) from None
            yield number, row, dump_jsonl_line(row)[:-1]


def _schema_shape(schema: dict[str, Any]) -> Any:
    return schema.get("columns")


def row_delta(before: Snapshot | None, after: Snapshot) -> Delta | None:
    """The ``row_diff`` delta from ``before`` to ``after`` (None when a snapshot is not sealed:
    the ``unknown`` basis says why)."""
    if after.status != "sealed" or (before is not None and before.status != "sealed"):
        return None
    try:
        return _compare(before, after)
    except Incomparable as why:
        return Delta("unknown", unknown_reason=f"row_diff cannot compare the rows: {why}")


def _compare(before: Snapshot | None, after: Snapshot) -> Delta:
    after_schema = read_schema(after)
    key: list[str] = after_schema["key"]
    if before is None:
        rows = (row_path(values) for _order, values, _line in _rows(after, key, list(row_parts(after))))
        return Delta(BASIS, added=(SCHEMA_DELTA_PATH, *rows))
    before_schema = read_schema(before)
    if before_schema["key"] != key:
        raise Incomparable(f"the key changed from ({', '.join(before_schema['key'])}) to ({', '.join(key)})")
    modified = [SCHEMA_DELTA_PATH] if _schema_shape(before_schema) != _schema_shape(after_schema) else []
    # Parts identical in both hold the same rows and no other part holds their keys: skipped.
    old_parts, new_parts = differing_parts(row_parts(before), row_parts(after))
    merged = merge_rows(before, after, key, old_parts, new_parts)
    modified.extend(merged.modified)
    return Delta(BASIS, added=merged.added, removed=merged.removed, modified=tuple(modified))


def merge_rows(before: Snapshot, after: Snapshot, key: list[str], old_parts: list[str], new_parts: list[str]) -> Delta:
    """The rows added, removed and modified from ``old_parts`` of ``before`` to ``new_parts`` of
    ``after``: one merge by key of the two, each in key order."""
    added: list[str] = []
    removed: list[str] = []
    modified: list[str] = []
    old, new = _Side(before, key, old_parts), _Side(after, key, new_parts)
    while old.line is not None or new.line is not None:
        if old.line == new.line:
            # The same line is the same row (its key, its values): unchanged, and not parsed —
            # most lines of two snapshots of a table, when a part holds some changed rows.
            old.advance()
            new.advance()
        elif new.line is None or (old.line is not None and old.parsed()[0] < new.parsed()[0]):
            removed.append(row_path(old.parsed()[1]))
            old.advance()
        elif old.line is None or new.parsed()[0] < old.parsed()[0]:
            added.append(row_path(new.parsed()[1]))
            new.advance()
        else:
            if old.parsed()[2] != new.parsed()[2]:
                modified.append(row_path(new.parsed()[1]))
            old.advance()
            new.advance()
    return Delta(BASIS, added=tuple(added), removed=tuple(removed), modified=tuple(modified))
