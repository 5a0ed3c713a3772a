"""Strict JSON input and canonical JSON output (:mod:`govern.format.jsonio`)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.errors import GovernError
from govern.format.jsonio import MAX_DEPTH, StrictJSONError, canonical_value, dump_canonical, dump_jsonl_line, loads_strict
from govern.store.files import load_json_file, read_bytes_capped

# --- strict input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, reason",
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": 1, "\\u0061": 2}', "duplicate key 'a'"),  # the same key, escaped
        (b'{"outer": {"k": 1, "k": 1}}', "duplicate key 'k'"),
        (b"[NaN]", "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[-Infinity]", "Infinity"),
        (b"[1e400]", "out of range"),
        (b"[-1e400]", "out of range"),
        (b"[" + b"9" * 5000 + b"]", "5000 digits"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b'["caf\xe9"]', "invalid UTF-8"),
        (b'["\xed\xa0\x80"]', "invalid UTF-8"),  # an encoded surrogate (CESU-8)
        (b'["\\ud800"]', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b"{} {}", "Extra data"),
        (b"", "Expecting value"),
        (b"{'single': 'quotes'}", "property name"),
    ],
)
def test_refused(data: bytes, reason: str):
    with pytest.raises(StrictJSONError) as raised:
        loads_strict(data)
    assert reason in raised.value.reason


def test_str_input_is_held_to_the_same_rules():
    with pytest.raises(StrictJSONError):
        loads_strict("\ufeff{}")
    with pytest.raises(StrictJSONError):
        loads_strict('{"a": 1, "a": 1}')


@pytest.mark.parametrize("opener, closer", [(b"[", b"]"), (b'{"k":', b"}")])
def test_hostile_nesting_is_refused_without_recursion_error(opener: bytes, closer: bytes):
    depth = 100_000
    data = opener * depth + (b"1" if opener != b"[" else b"") + closer * depth
    with pytest.raises(StrictJSONError) as raised:
        loads_strict(data)
    assert f"deeper than {MAX_DEPTH}" in raised.value.reason


def test_unbalanced_deep_nesting_is_refused():
    with pytest.raises(StrictJSONError):
        loads_strict(b"[" * 100_000)


def test_nesting_limit_is_exact():
    assert loads_strict(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(StrictJSONError):
        loads_strict(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps(["[" * 10_000, "{" * 10_000, '\\"[' * 500])
    assert loads_strict(text) == ["[" * 10_000, "{" * 10_000, '\\"[' * 500]


def test_accepted_values_are_exact():
    data = b'{"int": 12345678901234567890, "float": 0.1, "neg": -0.0, "u": "\\u00e9\\ud83d\\ude00", "n": null, "t": true}'
    value = loads_strict(data)
    assert value == {"int": 12345678901234567890, "float": 0.1, "neg": -0.0, "u": "\u00e9\U0001f600", "n": None, "t": True}
    assert isinstance(value["int"], int)


def test_syntax_errors_carry_line_and_column():
    with pytest.raises(StrictJSONError) as raised:
        loads_strict(b'{\n  "a": 1,\n  "b": ]\n}')
    assert (raised.value.line, raised.value.column) == (3, 8)
    assert raised.value.where() == "line 3, column 8"


def test_load_json_file_names_the_file_and_position(tmp_path: Path):
    path = tmp_path / "doc.json"
    path.write_bytes(b'{\n  "a": 1,\n  "a": 2\n}\n')
    with pytest.raises(GovernError) as raised:
        load_json_file(path)
    assert raised.value.code == "E_JSON_INVALID"
    assert str(path) in raised.value.message and "duplicate key" in raised.value.message

    path.write_bytes(b"[1,\n 2,,]\n")
    with pytest.raises(GovernError) as raised:
        load_json_file(path)
    assert "line 2, column" in raised.value.message


def test_size_cap(tmp_path: Path):
    path = tmp_path / "big.json"
    path.write_bytes(b"[" + b"0," * 100 + b"0]")
    with pytest.raises(GovernError) as raised:
        load_json_file(path, max_bytes=50)
    assert raised.value.code == "E_JSON_INVALID" and "50-byte limit" in raised.value.message
    assert read_bytes_capped(path, 10_000) == path.read_bytes()


def test_missing_file_is_an_io_error(tmp_path: Path):
    with pytest.raises(GovernError) as raised:
        load_json_file(tmp_path / "absent.json")
    assert raised.value.code == "E_IO"


# --- canonical output ------------------------------------------------------------------------


def test_canonical_form():
    value = {"b": [1, {"z": None, "y": "\u00e9"}], "a": True}
    assert dump_canonical(value) == (
        '{\n  "a": true,\n  "b": [\n    1,\n    {\n      "y": "\u00e9",\n      "z": null\n    }\n  ]\n}\n'
    ).encode("utf-8")


def test_insertion_order_does_not_matter():
    one = {"x": 1, "y": {"p": [3, 2, 1], "q": "s"}, "a": None}
    two = {"a": None, "y": {"q": "s", "p": [3, 2, 1]}, "x": 1}
    assert dump_canonical(one) == dump_canonical(two)
    assert dump_jsonl_line(one) == dump_jsonl_line(two)


def test_jsonl_line_is_compact_sorted_and_one_line():
    line = dump_jsonl_line({"b": "multi\nline", "a": [1, 2]})
    assert line == b'{"a":[1,2],"b":"multi\\nline"}\n'
    assert line.count(b"\n") == 1


def test_canonical_output_refuses_nan():
    with pytest.raises(ValueError):
        dump_canonical({"x": float("nan")})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_dump_is_a_fixed_point(value):
    # st.text() never yields lone surrogates, so everything generated is valid JSON text.
    once = dump_canonical(value)
    assert dump_canonical(loads_strict(once)) == once
    line = dump_jsonl_line(value)
    assert dump_jsonl_line(loads_strict(line)) == line


# Any JSON value without floats (the fast writer's promise), including non-ASCII and control
# characters in keys and strings, and integers up to 64 bits.
_FLOATLESS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_FLOATLESS)
def test_the_fast_writer_gives_the_standard_library_bytes(value):
    assert dump_canonical(value, floats=False) == dump_canonical(value)


@settings(max_examples=400, deadline=None)
@given(_FLOATLESS)
def test_the_fast_reader_agrees_with_the_strict_reader(value):
    data = dump_canonical(value)
    assert canonical_value(data) == value or value is None
    assert loads_strict(data) == value


def test_canonical_looking_duplicates_and_deep_nesting_take_the_strict_path():
    duplicate = b'{\n  "a": 1,\n  "a": 1\n}\n'
    assert canonical_value(duplicate) is None
    with pytest.raises(StrictJSONError, match="duplicate key 'a'"):
        loads_strict(duplicate)
    deep = dump_canonical(functools.reduce(lambda inner, _: [inner], range(300), [1]))
    assert canonical_value(deep) is None
    with pytest.raises(StrictJSONError, match="nesting deeper than 256"):
        loads_strict(deep)
