"""Issue 15: a ``sql_table`` snapshot's parts end where the rows themselves choose
(content-defined boundaries), so a change touches few parts, and ``row_diff`` reads only the
parts that differ between two snapshots.

The boundary properties are checked on :class:`PartBoundaries` (what ``write_table`` splits
by); the row_diff ones on real sealed snapshot runs written by ``write_table`` in temporary
folders from an in-memory table.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from govern.plugins.sql_table import row_diff
from govern.plugins.sql_table.row_diff import _rows, differing_parts, row_delta, row_parts, row_path
from govern.plugins.sql_table.snapshot import (
    ARTIFACT,
    PART_CAP_FACTOR,
    PART_PREFIX,
    PartBoundaries,
    ends_part,
    key_json,
    row_line,
    write_table,
)
from govern.plugins.sql_table.source import Column
from govern.runs.snapshots import classify_run
from govern.runs.views import RunView, Snapshot
from govern.runtime.progress import NO_PROGRESS
from govern.testing import seal_run

Table = dict[int, str]

# --- where parts end --------------------------------------------------------------------------


def lines_of(table: Table) -> list[tuple[bytes, bytes]]:
    """``(key JSON, line)`` of each row of ``table`` (``{id: label}``), in key order."""
    return [(key_json([key]), row_line({"id": key, "label": table[key]})) for key in sorted(table)]


def split(rows: list[tuple[bytes, bytes]], part_bytes: int) -> list[bytes]:
    """The parts ``write_table`` would write for ``rows``, as bytes."""
    boundaries = PartBoundaries(part_bytes)
    parts: list[bytes] = []
    current = b""
    for key, line in rows:
        current += line
        if boundaries.ends_after(key, len(line)):
            parts.append(current)
            current = b""
    return parts + ([current] if current else [])


def capped(rows: list[tuple[bytes, bytes]], parts: list[bytes], part_bytes: int) -> bool:
    """Whether a part of ``parts`` ended at its cap rather than where its last row chose."""
    lines = dict((line, key) for key, line in rows)
    return any(not ends_part(lines[part.splitlines(keepends=True)[-1]], len(part.splitlines(keepends=True)[-1]), part_bytes) for part in parts[:-1])


tables = st.dictionaries(st.integers(0, 10_000), st.text(max_size=40), max_size=120)
part_sizes = st.integers(20, 400)


@given(tables, part_sizes)
def test_parts_concatenated_are_exactly_the_rows_and_none_exceeds_its_cap(table: Table, part_bytes: int):
    rows = lines_of(table)
    parts = split(rows, part_bytes)
    assert b"".join(parts) == b"".join(line for _key, line in rows)
    assert all(part and part.endswith(b"\n") for part in parts)
    # A part ends once it reaches the cap: it exceeds it by at most its last row.
    assert all(len(part) - len(part.splitlines(keepends=True)[-1]) < PART_CAP_FACTOR * part_bytes for part in parts)


edits = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.text(max_size=40)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just("")),
    st.tuples(st.just("modify"), st.integers(0, 10_000), st.text(max_size=40)),
)


def edited(table: Table, edit: tuple[str, int, str]) -> Table:
    """``table`` after one row inserted, deleted or modified (``edit``'s number picks the row)."""
    action, number, label = edit
    changed = dict(table)
    keys = sorted(table)
    if action == "insert" or not keys:
        changed[max(keys, default=0) + 1 if number in changed else number] = label
    elif action == "delete":
        del changed[keys[number % len(keys)]]
    else:
        changed[keys[number % len(keys)]] = label + "~"  # never the same label
    return changed


@settings(max_examples=300)
@given(tables, edits, part_sizes)
def test_one_row_inserted_deleted_or_modified_changes_at_most_two_parts(table: Table, edit: tuple[str, int, str], part_bytes: int):
    before_rows, after_rows = lines_of(table), lines_of(edited(table, edit))
    before, after = split(before_rows, part_bytes), split(after_rows, part_bytes)
    assume(not capped(before_rows, before, part_bytes) and not capped(after_rows, after, part_bytes))
    gone, new = Counter(before) - Counter(after), Counter(after) - Counter(before)
    assert sum(gone.values()) <= 2 and sum(new.values()) <= 2


def test_the_boundary_rule_is_the_documented_one():
    """``H(key) / 2**64 < len(line) / part_bytes``, H the first 8 bytes of BLAKE2b of the key's JSON array."""
    key = b"[42]"
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    threshold = h * 1000 // 2**64 + 1  # the least line length that ends a part of 1000 bytes
    assert ends_part(key, threshold, 1000) and not ends_part(key, threshold - 1, 1000)
    assert ends_part(key, 1000, 1000)  # a line as long as a part always ends it


# --- row_diff reads only the parts that differ --------------------------------------------------


class ListTable:
    """A table held in memory, read as a ``TableSource`` (the database is not what is tested)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def columns(self) -> list[Column]:
        return [Column("id", "INTEGER", False), Column("label", "TEXT", True)]

    def key(self) -> list[str]:
        return ["id"]

    def rows(self) -> Iterator[dict[str, Any]]:
        return ({"id": key, "label": self._table[key]} for key in sorted(self._table))

    def snapshot_id(self) -> None:
        return None

    def close(self) -> None:
        pass


def sealed_snapshot(runs_root: Path, run_id: str, table: Table, part_bytes: int, respelled: frozenset[int] = frozenset()) -> Snapshot:
    """``table`` written by ``write_table`` into the run ``run_id``, sealed; the lines of the
    rows ``respelled`` are then written as ``json.dumps`` spells them (spaces: the same row, not
    its canonical line), as a snapshot not written by govern may be."""
    folder = runs_root / run_id
    folder.mkdir(parents=True)
    write_table(folder, ListTable(table), {"driver": "sqlite", "dsn": "sqlite:///t", "table": "t"}, part_bytes, NO_PROGRESS)
    for part in (folder / ARTIFACT).glob("rows-*.jsonl"):
        lines = part.read_bytes().splitlines(keepends=True)
        part.write_bytes(b"".join(respelled_line(line) if json.loads(line)["id"] in respelled else line for line in lines))
    seal_run(folder)
    snapshot = classify_run(RunView(folder), "thresholds", ARTIFACT)
    assert snapshot is not None and snapshot.status == "sealed"
    return snapshot


def respelled_line(line: bytes) -> bytes:
    """The row of ``line`` as ``json.dumps`` spells it: spaces after separators, the keys in reverse."""
    row = json.loads(line)
    return (json.dumps(dict(reversed(list(row.items())))) + "\n").encode()


def plain_merge(before: Snapshot, after: Snapshot) -> tuple[tuple[str, ...], ...]:
    """``(added, removed, modified)`` by the plain rule: every row of both parsed (``_rows``),
    compared by key and canonical line."""
    old = {row_path(values): line for _order, values, line in _rows(before, ["id"], list(row_parts(before)))}
    new = {row_path(values): line for _order, values, line in _rows(after, ["id"], list(row_parts(after)))}
    return (
        tuple(sorted(new.keys() - old.keys())),
        tuple(sorted(old.keys() - new.keys())),
        tuple(sorted(path for path in old.keys() & new.keys() if old[path] != new[path])),
    )


many_edits = st.lists(edits, max_size=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, many_edits, st.integers(30, 300), st.frozensets(st.integers(0, 10_000)), st.frozensets(st.integers(0, 10_000)))
def test_skipping_identical_parts_and_lines_gives_the_plain_merge(
    table: Table, changes: list[tuple[str, int, str]], part_bytes: int, respelled_before: frozenset[int], respelled_after: frozenset[int]
):
    """row_diff (parts identical in both skipped, lines equal on both sides not parsed) says
    what parsing every row of both says — also when some lines are not canonical."""
    later = table
    for edit in changes:
        later = edited(later, edit)
    with tempfile.TemporaryDirectory() as scratch:
        before = sealed_snapshot(Path(scratch), "2026-01-01__000000__thresholds", table, part_bytes, respelled_before)
        after = sealed_snapshot(Path(scratch), "2026-01-02__000000__thresholds", later, part_bytes, respelled_after)
        plain = plain_merge(before, after)
        delta = row_delta(before, after)
    assert delta is not None and delta.basis == "row_diff"
    assert (delta.added, delta.removed, delta.modified) == plain
    # …and the plain merge is what the two tables say.
    assert plain == (
        paths(later.keys() - table.keys()),
        paths(table.keys() - later.keys()),
        paths(key for key in table.keys() & later.keys() if table[key] != later[key]),
    )


def paths(keys: Iterable[int]) -> tuple[str, ...]:
    return tuple(sorted(f"rows/{key}" for key in keys))


def test_a_one_row_change_in_a_large_snapshot_reads_only_the_parts_that_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """20,000 rows in some 100 parts, one row modified: row_diff opens at most two parts of
    each snapshot (the part holding the row, and its neighbour when the row's new length moved
    its boundary), not all 200."""
    table = {key: f"label of row {key}" for key in range(20_000)}
    before = sealed_snapshot(tmp_path, "2026-01-01__000000__thresholds", table, 4096)
    after = sealed_snapshot(tmp_path, "2026-01-02__000000__thresholds", {**table, 12_345: "changed"}, 4096)
    opened: list[str] = []
    read = row_diff._sealed_bytes

    def counting(snapshot: Snapshot, path: str) -> bytes:
        if path.startswith(PART_PREFIX):
            opened.append(f"{snapshot.run_id}/{path}")
        return read(snapshot, path)

    monkeypatch.setattr(row_diff, "_sealed_bytes", counting)
    delta = row_delta(before, after)
    assert delta is not None and (delta.added, delta.removed, delta.modified) == ((), (), ("rows/12345",))
    assert len(row_parts(before)) > 80
    assert 2 <= len(opened) <= 4, opened
    assert differing_parts(row_parts(before), row_parts(after)) == (
        [path.split("/", 1)[1] for path in opened if path.startswith("2026-01-01")],
        [path.split("/", 1)[1] for path in opened if path.startswith("2026-01-02")],
    )
