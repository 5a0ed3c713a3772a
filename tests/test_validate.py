"""``govern validate``: the delta-log record schema, the two engines that must agree, strict
JSONL framing, local-only ``$ref`` resolution, and the command itself (run as a subprocess).
"""

from __future__ import annotations

import calendar
import copy
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs  # a declared dependency: the agreement tests must run, never skip
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.jsonl import NOT_CANONICAL, fast_parser
from govern.log.validation import validate_jsonl
from govern.schema.store import DELTA_LOG_SCHEMA, SchemaStore, builtin_schemas
from govern.schema.validator import SchemaValidator, json_path

GOVERN = Path(sys.executable).with_name("govern")
AT = "2024-01-02T03:04:05Z"
DELTA_LOG = "REGISTRY_DELTA_LOG_v0_1.jsonl"
BUILD_RUN_ID = "2024-01-02__030405__registry_delta_log_build"

CONFIG = """\
[workspace]
runs_root = ".codex/RUNS"
delta_log_artifact = "REGISTRY_DELTA_LOG_v0_1.jsonl"

[registries.run_registry]
kind = "sealed"
artifact = "RUN_REGISTRY_v0_1.jsonl"
schema = "schemas/run_registry.schema.json"

[registries.notes]
kind = "sealed"
artifact = "NOTES.json"
"""

# A workspace schema reaching a second workspace schema by a relative $ref, and a built-in
# one by its file name: both must resolve locally.
RUN_REGISTRY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["run_id", "root_sha256"],
    "properties": {
        "run_id": {"$ref": "common.schema.json#/$defs/run_id"},
        "root_sha256": {"$ref": "REGISTRY_registry_delta_log_v0_1.schema.json#/$defs/sealed_ref/properties/manifest_sha256"},
    },
}
COMMON_SCHEMA = {"$defs": {"run_id": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}__[0-9]{6}__[a-z0-9_]+$"}}}


# --- records -----------------------------------------------------------------------------------


def sealed_ref(n: int) -> dict[str, Any]:
    return {
        "run_id": f"2024-01-{n:02d}__030405__run_{n}",
        "run_root": ".codex/RUNS",
        "relpath": "RUN_REGISTRY_v0_1.jsonl",
        "manifest_sha256": f"{n:064x}",
    }


def transition(n: int = 2, **changes: Any) -> dict[str, Any]:
    record = {
        "delta_version": "0.1",
        "registry_id": "run_registry",
        "from_ref": sealed_ref(n - 1),
        "to_ref": sealed_ref(n),
        "delta_basis": "manifest_diff",
        "added_paths": [],
        "removed_paths": [],
        "modified_paths": ["RUN_REGISTRY_v0_1.jsonl"],
        "counts": {"added": 0, "removed": 0, "modified": 1},
        "created_utc": AT,
        "derivation_run_id": BUILD_RUN_ID,
    }
    record.update(changes)
    return record


def bootstrap() -> dict[str, Any]:
    return transition(1, from_ref=None, added_paths=["RUN_REGISTRY_v0_1.jsonl"], modified_paths=[], counts={"added": 1, "removed": 0, "modified": 0})


def unknown(**changes: Any) -> dict[str, Any]:
    fields = {
        "delta_basis": "unknown",
        "modified_paths": [],
        "counts": {"added": None, "removed": None, "modified": None},
        "unknown_reason": "snapshot 2024-01-03__030405__run_3 has no seal",
    }
    return transition(3, **{**fields, **changes})


def without(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def jsonl(*records: Any) -> bytes:
    return b"".join(
        (json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode() for r in records
    )


VALID = {
    "bootstrap": bootstrap(),
    "transition": transition(),
    "nothing_changed": transition(modified_paths=[], counts={"added": 0, "removed": 0, "modified": 0}),
    "unknown": unknown(),
    "whole_run_snapshot": transition(to_ref={**sealed_ref(2), "relpath": None}),
    "float_count_is_an_integer": transition(counts={"added": 0, "removed": 0, "modified": 1.0}),
    "unicode_paths": transition(added_paths=["d\u00e9j\u00e0/\u00fcber.json"], counts={"added": 1, "removed": 0, "modified": 1}),
    "leap_day": transition(created_utc="2024-02-29T23:59:59Z"),
}

# name -> (record, the JSON path its first problem must name)
INVALID = {
    "delta_version": (transition(delta_version="0.3"), "$.delta_version"),
    "unknown_top_level_key": (transition(extra=1), "$"),
    "missing_to_ref": (without(transition(), "to_ref"), "$"),
    "uppercase_sha": (transition(to_ref={**sealed_ref(2), "manifest_sha256": "A" * 64}), "$.to_ref.manifest_sha256"),
    "short_sha": (transition(to_ref={**sealed_ref(2), "manifest_sha256": "a" * 63}), "$.to_ref.manifest_sha256"),
    "sealed_ref_extra_key": (transition(to_ref={**sealed_ref(2), "size": 1}), "$.to_ref"),
    "sealed_ref_missing_relpath": (transition(to_ref=without(sealed_ref(2), "relpath")), "$.to_ref"),
    "relpath_not_a_string": (transition(to_ref={**sealed_ref(2), "relpath": 7}), "$.to_ref.relpath"),
    "from_ref_bad_run_id": (transition(from_ref={**sealed_ref(1), "run_id": "yesterday"}), "$.from_ref.run_id"),
    "from_ref_a_string": (transition(from_ref="2024-01-01__030405__run_1"), "$.from_ref"),
    "basis_guess": (transition(delta_basis="guess"), "$.delta_basis"),
    "duplicate_paths": (transition(added_paths=["a", "a"], counts={"added": 2, "removed": 0, "modified": 1}), "$.added_paths"),
    "path_not_a_string": (transition(removed_paths=[1]), "$.removed_paths[0]"),
    "empty_path": (transition(removed_paths=[""]), "$.removed_paths[0]"),
    "negative_count": (transition(counts={"added": 0, "removed": -1, "modified": 1}), "$.counts.removed"),
    "bool_count": (transition(counts={"added": True, "removed": 0, "modified": 1}), "$.counts.added"),
    "count_missing": (transition(counts={"added": 0, "removed": 0}), "$.counts"),
    "count_extra": (transition(counts={"added": 0, "removed": 0, "modified": 1, "renamed": 0}), "$.counts"),
    "null_counts_with_manifest_diff": (transition(counts={"added": None, "removed": 0, "modified": 1}), "$.counts.added"),
    "reason_with_manifest_diff": (transition(unknown_reason="because"), "$.unknown_reason"),
    "unknown_without_reason": (without(unknown(), "unknown_reason"), "$"),
    "unknown_with_empty_reason": (unknown(unknown_reason=""), "$.unknown_reason"),
    "unknown_with_known_counts": (unknown(counts={"added": 1, "removed": 0, "modified": 0}), "$.counts.added"),
    "not_a_date": (transition(created_utc="2024-02-30T03:04:05Z"), "$.created_utc"),
    "hour_24": (transition(created_utc="2024-01-02T24:00:00Z"), "$.created_utc"),
    "offset_not_z": (transition(created_utc="2024-01-02T03:04:05+00:00"), "$.created_utc"),
    "arabic_digits_in_run_id": (transition(derivation_run_id="\u0662\u0660\u0662\u0664-01-02__030405__b"), "$.derivation_run_id"),
    "uppercase_registry_id": (transition(registry_id="Run_Registry"), "$.registry_id"),
    "not_an_object": ([transition()], "$"),
}


#: The oracle's RFC 3339 date-time (stock jsonschema leaves ``date-time`` unchecked).
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)


def is_rfc3339_date_time(value: object) -> bool:
    """RFC 3339 ``date-time``; a leap second only at 23:59:60 UTC (the JSON Schema test suite's rule)."""
    if not isinstance(value, str):
        return True  # formats constrain strings only
    match = _DATE_TIME.fullmatch(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not 1 <= month <= 12:
        return False
    # calendar.isleap is plain arithmetic, so it also covers year 0000 (a leap year).
    days_in_month = 29 if month == 2 and calendar.isleap(year) else calendar.mdays[month]
    if not 1 <= day <= days_in_month or hour > 23 or minute > 59 or second > 60:
        return False
    offset = 0
    if match.group(8) not in ("Z", "z"):
        offset_hours, offset_minutes = int(match.group(10)), int(match.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            return False
        offset = (offset_hours * 60 + offset_minutes) * (1 if match.group(9) == "+" else -1)
    if second == 60:
        return (hour * 60 + minute - offset) % 1440 == 23 * 60 + 59
    return True


@pytest.fixture(scope="module")
def delta_validator() -> SchemaValidator:
    store = SchemaStore()
    return SchemaValidator(store.resolve(store.load(DELTA_LOG_SCHEMA)))


def plain_jsonschema_valid(record: Any) -> bool:
    """Stock jsonschema (its own regex and formats, plus an RFC 3339 date-time checker)."""
    schema = SchemaStore().load(DELTA_LOG_SCHEMA).contents
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(is_rfc3339_date_time)
    return jsonschema.Draft202012Validator(schema, format_checker=checker).is_valid(record)


# --- the schema --------------------------------------------------------------------------------


def test_every_builtin_schema_has_its_id_and_compiles_offline() -> None:
    store = SchemaStore()
    assert DELTA_LOG_SCHEMA in builtin_schemas()
    for name in builtin_schemas():
        schema = store.load(name)
        assert schema.contents["$id"] == f"https://govern.invalid/schemas/{name}"
        jsonschema.Draft202012Validator.check_schema(schema.contents)
        SchemaValidator(store.resolve(schema))  # every $ref resolves locally


def test_every_property_of_the_delta_schema_is_described() -> None:
    contents = SchemaStore().load(DELTA_LOG_SCHEMA).contents
    assert contents["title"] and contents["description"]
    objects = [contents, contents["properties"]["counts"], contents["$defs"]["sealed_ref"]]
    for node in objects:
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"]) - {"unknown_reason"}
        for name, sub in node["properties"].items():
            assert sub.get("description"), name
    for name, sub in contents["$defs"].items():
        assert sub.get("description"), name


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_records_pass_both_engines(name: str, delta_validator: SchemaValidator) -> None:
    record = VALID[name]
    assert delta_validator.is_valid(record)
    assert delta_validator.explain(record) == []
    assert plain_jsonschema_valid(record)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_records_fail_both_engines_at_the_right_path(name: str, delta_validator: SchemaValidator) -> None:
    record, path = INVALID[name]
    assert not delta_validator.is_valid(record)
    found = delta_validator.explain(record)
    assert found, "jsonschema must explain what jsonschema_rs rejected"
    assert path in [v.json_path for v in found]
    assert not plain_jsonschema_valid(record)


def test_messages_are_jsonschemas_own(delta_validator: SchemaValidator) -> None:
    found = delta_validator.explain(transition(counts={"added": None, "removed": 0, "modified": 1}, unknown_reason="x"))
    assert [(v.json_path, v.message) for v in found] == [
        ("$.counts.added", "None is not of type 'integer'"),
        ("$.unknown_reason", "False schema does not allow 'x'"),
    ]


def test_a_trailing_newline_is_not_the_end_of_a_string(delta_validator: SchemaValidator) -> None:
    # Python's re lets '$' match before a final newline; ECMA-262 (the schema language's regex
    # dialect, and jsonschema_rs's) does not. The explainer must side with the deciding engine.
    record = transition(derivation_run_id=BUILD_RUN_ID + "\n")
    assert plain_jsonschema_valid(record)  # stock jsonschema would pass it
    assert not delta_validator.is_valid(record)
    assert [v.json_path for v in delta_validator.explain(record)] == ["$.derivation_run_id"]


# --- the engines agree (hypothesis) ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
two_digits = st.integers(0, 99).map("{:02d}".format)
date_times = st.builds(
    lambda year, month, day, hour, minute, second, fraction, zone, tail: f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction}{zone}{tail}",
    st.integers(0, 9999).map("{:04d}".format) | st.just("\u0662\u0660\u0662\u0664"),
    # Mostly in range, so that valid date-times are common; sometimes just outside it.
    (st.integers(1, 12) | st.integers(0, 13)).map("{:02d}".format),
    (st.integers(1, 28) | st.integers(0, 32)).map("{:02d}".format),
    (st.integers(0, 23) | st.integers(0, 25)).map("{:02d}".format),
    st.integers(0, 59).map("{:02d}".format) | two_digits,
    (st.integers(0, 59).map("{:02d}".format) | st.sampled_from(["58", "59", "60", "61"])),
    st.sampled_from(["", ".5", ".123456", "."]),
    st.sampled_from(["Z", "z", "+01:00", "-23:59", "+24:00", "-00:60", ""]),
    st.sampled_from(["", "", "", "\n", " "]),
)
near_valid_strings = st.one_of(
    date_times,
    st.builds(lambda s, tail: f"2024-01-02__030405__{s}{tail}", st.text(alphabet="ab_9Z-", max_size=4), st.sampled_from(["", "\n"])),
    st.text(alphabet="0123456789abcdefA", min_size=63, max_size=65),
    st.sampled_from(["manifest_diff", "unknown", "0.1", "", "run_registry", "Run"]),
)
LOCATIONS = [
    (), ("to_ref",), ("from_ref",), ("counts",),
    *[(key,) for key in transition()],
    *[("to_ref", key) for key in sealed_ref(1)],
    *[("from_ref", key) for key in sealed_ref(1)],
    *[("counts", key) for key in ("added", "removed", "modified")],
    ("unknown_reason",),
]


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    record = copy.deepcopy(draw(st.sampled_from(list(VALID.values()))))
    for _ in range(draw(st.integers(1, 3))):
        location = draw(st.sampled_from(LOCATIONS))
        action = draw(st.sampled_from(["delete", "json", "string", "count"]))
        replacement = {
            "json": json_values,
            "string": near_valid_strings,
            "count": st.none() | st.integers(-2, 3) | st.just(1.0),
            "delete": st.none(),
        }[action]
        value = draw(replacement)
        if not location:
            if action == "json":
                record = value
            continue
        parent = record
        for key in location[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if action == "delete":
            parent.pop(location[-1], None)
        else:
            parent[location[-1]] = value
    return record


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=mutated_records())
def test_jsonschema_rs_and_jsonschema_agree(record: Any, delta_validator: SchemaValidator) -> None:
    decided_valid = delta_validator.is_valid(record)
    explanation = delta_validator.explain(record)
    assert decided_valid == (explanation == []), explanation


@settings(max_examples=400, deadline=None)
@given(text=date_times)
@example("2024-12-31T23:59:60Z")
@example("2024-12-31T22:59:60Z")
@example("2024-01-01T00:59:60+01:00")
@example("2024-01-01T23:59:60+01:00")
@example("2023-02-29T00:00:00Z")
@example("0000-02-29T00:00:00Z")
@example("1900-02-29T00:00:00Z")
@example("2024-01-01t00:00:00z")
def test_the_oracles_date_time_checker_matches_jsonschema_rs(text: str) -> None:
    # plain_jsonschema_valid is an oracle only if it judges date-times exactly as the fast engine.
    fast = jsonschema_rs.validator_for({"format": "date-time"}, validate_formats=True)
    assert is_rfc3339_date_time(text) == fast.is_valid(text)


# --- strict, fast JSONL parsing ----------------------------------------------------------------


def canonical_line(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


lines = st.one_of(
    json_values.map(canonical_line),
    json_values.map(lambda v: json.dumps(v, sort_keys=True).encode()),
    json_values.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
    st.binary(max_size=12),
    st.sampled_from([b'{"a":1,"a":2}', b'{"a":NaN}', b'{"a":1e400}', b"1" * 1200, b"\xef\xbb\xbf{}", b'"\\ud800"', b"[" * 300 + b"]" * 300, b'{"a":1}\r', b"18446744073709551616"]),
)


@settings(max_examples=800, deadline=None)
@given(line=lines)
def test_fast_parser_never_accepts_what_the_strict_parser_refuses(line: bytes) -> None:
    parse_canonical = fast_parser()
    assert parse_canonical is not None, "orjson is a declared dependency"
    fast = parse_canonical(line)
    try:
        strict = loads_strict(line)
    except StrictJSONError:
        assert fast is NOT_CANONICAL
        return
    if fast is not NOT_CANONICAL:
        assert json.dumps(fast, sort_keys=True) == json.dumps(strict, sort_keys=True)


def test_parallel_validation_reports_the_same_lines(tmp_path: Path, delta_validator: SchemaValidator) -> None:
    records = [transition(n % 27 + 2) for n in range(3000)]
    for line in (0, 1, 999, 1000, 1001, 2222, 2999):
        records[line] = INVALID["negative_count"][0]
    body = jsonl(*records)
    broken = body.replace(b"\n", b"\n\n", 1) + b'{"torn":'  # a blank line 2, a torn last line
    path = tmp_path / DELTA_LOG
    path.write_bytes(broken)
    one = validate_jsonl(path, "log", delta_validator, processes=1)
    three = validate_jsonl(path, "log", delta_validator, processes=3)
    assert one == three
    lines_total, problems = one
    assert lines_total == 3002
    wheres = [p.where for p in problems]
    assert wheres[:3] == ["log:1 $.counts.removed", "log:2", "log:3 $.counts.removed"]
    assert wheres[-1] == "log:3002"
    assert "log:1001 $.counts.removed" in wheres and "log:3001 $.counts.removed" in wheres


# --- schema store: local references only -------------------------------------------------------


def test_workspace_schemas_resolve_relative_and_builtin_references(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    store = SchemaStore(ws)
    compiled = SchemaValidator(store.resolve(store.load("schemas/run_registry.schema.json")))
    assert compiled.is_valid({"run_id": "2024-01-02__030405__a", "root_sha256": "0" * 64})
    found = compiled.violations({"run_id": "x", "root_sha256": "0" * 64})
    assert [v.json_path for v in found] == ["$.run_id"]


@pytest.mark.parametrize(
    "reference",
    ["http://example.invalid/x.json", "https://example.invalid/x.json#/$defs/a", "file:///etc/hosts", "../outside.schema.json"],
)
def test_references_outside_the_local_schemas_are_refused(tmp_path: Path, reference: str) -> None:
    ws = make_workspace(tmp_path)
    (ws / "outside.schema.json").write_text("{}")
    (ws / "schemas" / "remote.schema.json").write_text(json.dumps({"properties": {"a": {"$ref": reference}}}))
    store = SchemaStore(ws)
    with pytest.raises(GovernError) as caught:
        store.resolve(store.load("schemas/remote.schema.json"))
    assert caught.value.code == "E_SCHEMA_REF"
    assert "never fetched" in caught.value.message


def test_a_ref_key_inside_const_is_data_not_a_reference(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / "schemas" / "data.schema.json").write_text(json.dumps({"const": {"$ref": "http://example.invalid/x.json"}}))
    store = SchemaStore(ws)
    compiled = SchemaValidator(store.resolve(store.load("schemas/data.schema.json")))
    assert compiled.is_valid({"$ref": "http://example.invalid/x.json"})


def test_json_path_spelling() -> None:
    assert json_path([]) == "$"
    assert json_path(["counts", "added"]) == "$.counts.added"
    assert json_path(["added_paths", 0]) == "$.added_paths[0]"
    assert json_path(["a b", "\u00e9"]) == '$["a b"]["\u00e9"]'


# --- the command -------------------------------------------------------------------------------


def make_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "schemas").mkdir(parents=True)
    (ws / ".codex" / "RUNS").mkdir(parents=True)
    (ws / "registry_config.toml").write_text(CONFIG)
    (ws / "schemas" / "run_registry.schema.json").write_text(json.dumps(RUN_REGISTRY_SCHEMA))
    (ws / "schemas" / "common.schema.json").write_text(json.dumps(COMMON_SCHEMA))
    return ws


def run_govern(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERN_") and k != "SOURCE_DATE_EPOCH"}
    return subprocess.run([str(GOVERN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_a_valid_log_passes(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / DELTA_LOG).write_bytes(jsonl(*VALID.values()))
    result = run_govern(ws, "validate", DELTA_LOG)
    assert result.returncode == 0, result.stderr
    assert f"OK       {DELTA_LOG}  {len(VALID)} records  registry registry_delta_log" in result.stdout
    assert result.stderr == ""


def test_every_invalid_record_is_reported_with_file_line_and_path(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    names = sorted(INVALID)
    (ws / DELTA_LOG).write_bytes(jsonl(bootstrap(), *(INVALID[name][0] for name in names)))
    result = run_govern(ws, "--json", "validate", DELTA_LOG)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["exit_code"] == 1 and document["result"]["invalid"] == 1
    problems = document["result"]["files"][0]["problems"]
    for line, name in enumerate(names, start=2):
        expected = f"{DELTA_LOG}:{line} {INVALID[name][1]}"
        assert any(p["where"] == expected and p["code"] == "E_SCHEMA_INVALID" for p in problems), (name, expected)
    assert not any(p["where"].startswith(f"{DELTA_LOG}:1 ") for p in problems)


def test_unknown_reason_with_manifest_diff_fails(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / DELTA_LOG).write_bytes(jsonl(transition(unknown_reason="not allowed here")))
    result = run_govern(ws, "validate", DELTA_LOG)
    assert result.returncode == 1
    assert f"E_SCHEMA_INVALID {DELTA_LOG}:1 $.unknown_reason: False schema does not allow 'not allowed here'" in result.stdout


def test_null_counts_with_manifest_diff_fail(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / DELTA_LOG).write_bytes(jsonl(transition(counts={"added": None, "removed": None, "modified": None})))
    result = run_govern(ws, "validate", DELTA_LOG)
    assert result.returncode == 1
    for field in ("added", "removed", "modified"):
        assert f"E_SCHEMA_INVALID {DELTA_LOG}:1 $.counts.{field}: None is not of type 'integer'" in result.stdout


def test_jsonl_framing_problems_carry_line_numbers(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    good = jsonl(transition()).rstrip(b"\n")
    (ws / DELTA_LOG).write_bytes(b"\n".join([good, b"", good + b"\r", good, b'{"a":1,"a":2}', b"   ", good]) + b"\n" + good[:40])
    result = run_govern(ws, "validate", DELTA_LOG)
    assert result.returncode == 1
    out = result.stdout
    assert f"E_JSON_INVALID {DELTA_LOG}:2: blank line" in out
    assert f"E_JSON_INVALID {DELTA_LOG}:3: CRLF line ending" in out
    assert f"E_JSON_INVALID {DELTA_LOG}:5: duplicate key 'a'" in out
    assert f"E_JSON_INVALID {DELTA_LOG}:6: blank line" in out
    assert f"E_JSON_INVALID {DELTA_LOG}:8: the last line has no newline" in out
    assert f"{DELTA_LOG}:1" not in out and f"{DELTA_LOG}:4" not in out and f"{DELTA_LOG}:7" not in out
    assert "1 invalid (8 records)" in out


def test_a_file_matching_no_registry_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / "mystery.jsonl").write_bytes(jsonl({"a": 1}))
    (ws / "NOTES.json").write_text("{}")
    result = run_govern(ws, "validate", "mystery.jsonl", "NOTES.json")
    assert result.returncode == 2
    assert result.stdout == ""
    first, second = result.stderr.splitlines()
    assert first.startswith("govern: error: E_NO_SCHEMA: mystery.jsonl: the name matches no registry artifact")
    assert "RUN_REGISTRY_v0_1.jsonl" in first and "(and 1 more file without a schema)" in first
    assert "NOTES.json: registry notes has no schema" in second


def test_a_remote_ref_fails_fast_without_any_network_access(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / "schemas" / "run_registry.schema.json").write_text(json.dumps({"$ref": "http://example.invalid/x.json"}))
    (ws / "RUN_REGISTRY_v0_1.jsonl").write_bytes(jsonl({"run_id": "x"}))
    started = time.monotonic()
    result = run_govern(ws, "validate", "RUN_REGISTRY_v0_1.jsonl", timeout=30)
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert "E_SCHEMA_REF" in result.stderr and "'http://example.invalid/x.json'" in result.stderr
    assert "never fetched" in result.stderr


class ConnectionCounter:
    """A local TCP listener that counts connection attempts (it would see any fetch)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.mark.parametrize("where", ["$ref", "$schema", "nested $ref"])
def test_no_schema_reference_ever_reaches_the_network(tmp_path: Path, where: str) -> None:
    counter = ConnectionCounter()
    try:
        url = f"http://127.0.0.1:{counter.port}/schema.json"
        schema = {
            "$ref": {"$ref": url},
            "$schema": {"$schema": url, "type": "object"},
            "nested $ref": {"properties": {"a": {"items": {"$ref": url}}}},
        }[where]
        ws = make_workspace(tmp_path)
        (ws / "schemas" / "run_registry.schema.json").write_text(json.dumps(schema))
        (ws / "RUN_REGISTRY_v0_1.jsonl").write_bytes(jsonl({"a": [1]}))
        result = run_govern(ws, "validate", "RUN_REGISTRY_v0_1.jsonl", timeout=30)
        time.sleep(0.3)  # let a late connection attempt, if any, be counted
    finally:
        counter.close()
    assert result.returncode == 2
    assert "E_SCHEMA_REF" in result.stderr
    assert counter.connections == 0


def test_with_no_file_every_sealed_runs_artifacts_are_validated(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    runs = ws / ".codex" / "RUNS"
    good = {"run_id": "2024-01-02__030405__a", "root_sha256": "0" * 64}
    contents = {
        "2024-01-02__030405__a": {"RUN_REGISTRY_v0_1.jsonl": jsonl(good), "other.txt": b"x"},
        "2024-01-03__030405__b": {"RUN_REGISTRY_v0_1.jsonl": jsonl(good, {**good, "run_id": "nope"})},
        "2024-01-04__030405__registry_delta_log_build": {DELTA_LOG: jsonl(bootstrap(), transition())},
        "2024-01-05__030405__in_progress": {"RUN_REGISTRY_v0_1.jsonl": b"not json at all\n"},
    }
    for run_id, files in contents.items():
        for name, data in files.items():
            (runs / run_id).mkdir(exist_ok=True)
            (runs / run_id / name).write_bytes(data)
        if run_id != "2024-01-05__030405__in_progress":
            sealed = run_govern(ws, "seal", str(runs / run_id), "--at", AT)
            assert sealed.returncode == 0, sealed.stderr
    result = run_govern(ws, "validate")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "OK       .codex/RUNS/2024-01-02__030405__a/RUN_REGISTRY_v0_1.jsonl  1 record  registry run_registry" in out
    assert "INVALID  .codex/RUNS/2024-01-03__030405__b/RUN_REGISTRY_v0_1.jsonl  1 problem  registry run_registry" in out
    assert "E_SCHEMA_INVALID .codex/RUNS/2024-01-03__030405__b/RUN_REGISTRY_v0_1.jsonl:2 $.run_id: 'nope' does not match" in out
    assert f"OK       .codex/RUNS/2024-01-04__030405__registry_delta_log_build/{DELTA_LOG}  2 records  registry registry_delta_log" in out
    assert "in_progress" not in out
    assert "2024-01-05__030405__in_progress: unsealed (no MANIFEST.sha256); not validated" in result.stderr
    assert "3 files checked: 2 valid, 1 invalid (5 records)" in out


def test_a_directory_artifact_and_an_explicit_schema(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / DELTA_LOG).write_bytes(jsonl(transition(delta_version="9")))
    outside = run_govern(folder, "validate", "--schema", DELTA_LOG_SCHEMA, DELTA_LOG)  # no workspace needed
    assert outside.returncode == 1
    assert f"{DELTA_LOG}:1 $.delta_version: '0.1' was expected" in outside.stdout
    missing = run_govern(folder, "validate", "--schema", "nope.schema.json", DELTA_LOG)
    assert missing.returncode == 2 and "E_SCHEMA_NOT_FOUND" in missing.stderr
    no_workspace = run_govern(folder, "validate", DELTA_LOG)
    assert no_workspace.returncode == 2 and "E_WORKSPACE_NOT_FOUND" in no_workspace.stderr
    assert ws.is_dir()


def test_a_malformed_schema_is_a_usage_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws / "schemas" / "run_registry.schema.json").write_text(json.dumps({"type": "objekt"}))
    (ws / "RUN_REGISTRY_v0_1.jsonl").write_bytes(jsonl({}))
    result = run_govern(ws, "validate", "RUN_REGISTRY_v0_1.jsonl")
    assert result.returncode == 2
    assert "E_SCHEMA_MALFORMED" in result.stderr and "run_registry.schema.json" in result.stderr
