"""A sql_table snapshot's row lines, written and read with fast paths (issue 15's performance
rows): the snapshot writer serialises a float-free row with orjson, to the same bytes as the
standard library; row_diff reads a part's lines by the JSONL rule with a canonical fast path:
whichever way a line is read, the row and its canonical line are the same, and a bad or torn
line is refused with its number."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govern.format.jsonio import StrictJSONError, dump_jsonl_line
from govern.format.jsonl import TornLineError
from govern.plugins.sql_table.row_diff import BATCH_LINES, _part_rows
from govern.plugins.sql_table.snapshot import key_json, row_line
from govern.plugins.sql_table.source import _plain_value_order, _value_order

scalars = st.one_of(
    st.none(), st.integers(-(2**70), 2**70), st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=3), scalars, max_size=3))
rows = st.dictionaries(st.text(min_size=1, max_size=5), values, min_size=1, max_size=4)


@given(st.lists(rows, max_size=30))
def test_every_line_gives_its_row_and_canonical_line(batch):
    data = b"".join(dump_jsonl_line(row) for row in batch)
    assert [(number, row, line) for number, row, line in _part_rows(data)] == [
        (number, row, dump_jsonl_line(row)[:-1]) for number, row in enumerate(batch, start=1)
    ]


def test_a_line_not_written_canonically_reads_as_the_canonical_one():
    canonical = dump_jsonl_line({"id": 2, "warn": "0.5"})
    data = dump_jsonl_line({"id": 1}) + b'{"warn": "0.5", "id": 2}\n'
    assert [(n, row, line) for n, row, line in _part_rows(data)] == [(1, {"id": 1}, b'{"id":1}'), (2, {"id": 2, "warn": "0.5"}, canonical[:-1])]


def test_a_bad_line_after_a_full_batch_is_refused_with_its_number():
    data = b"".join(dump_jsonl_line({"id": i}) for i in range(BATCH_LINES)) + b'{"id": 1, "id": 2}\n'
    with pytest.raises(StrictJSONError) as refused:
        list(_part_rows(data))
    assert refused.value.line == BATCH_LINES + 1 and "duplicate key" in refused.value.reason


def test_a_torn_last_line_is_refused():
    with pytest.raises(TornLineError) as refused:
        list(_part_rows(dump_jsonl_line({"id": 1}) + b'{"id":2}'))
    assert refused.value.line == 2


@given(rows)
def test_a_row_line_is_the_standard_librarys_canonical_line(row):
    """Whether orjson or the standard library writes it, a row's line is the same bytes."""
    assert row_line(row) == dump_jsonl_line(row)


@given(st.lists(scalars, min_size=1, max_size=3))
def test_a_key_json_is_the_standard_librarys_canonical_array(values):
    """The bytes a part boundary hashes are the key values' canonical JSON array, whichever
    serialiser wrote them."""
    assert key_json(values) == dump_jsonl_line(values)[:-1]


key_values = st.one_of(scalars, st.binary(max_size=4).map(lambda data: {"$base64": base64.b64encode(data).decode()}), st.lists(scalars, max_size=2))


@given(key_values)
def test_a_key_values_order_looked_up_by_type_is_the_plain_rules(value):
    """The key order's fast path (an int, float or string ranked by its type) is the plain rule."""
    assert _value_order(value) == _plain_value_order(value)
