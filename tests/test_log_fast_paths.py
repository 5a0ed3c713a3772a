"""The fast paths of ``govern validate`` and ``govern verify --log`` agree with their explainers.

Each fast path has a slow twin that explains: a batch of lines checked with one canonical
comparison and one schema decision against each line taken on its own; a log shared between
this process and a forked one against the same log checked in one piece. Hypothesis feeds
both random mixes of good and broken lines, and the outcomes must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govern.log.validation as validation
import govern.log.verification as log_verification
from govern.format.jsonio import MAX_DEPTH
from govern.format.jsonl import NOT_CANONICAL, canonical_batch_parser, fast_parser, lines_between
from govern.runtime import parallel
from govern.schema.store import DELTA_LOG_SCHEMA, SchemaStore, builtin_schemas
from govern.schema.validator import SchemaValidator
from test_validate import INVALID, VALID
from test_validate import lines as single_lines

RUN_ID = "2024-01-02__030405__registry_delta_log_build"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- one re-serialisation per batch --------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(batch=st.lists(single_lines, max_size=6))
def test_a_batch_is_vouched_for_only_when_every_line_is(batch: list[bytes]) -> None:
    parse_line, parse_batch = fast_parser(), canonical_batch_parser()
    values = parse_batch(batch)
    one_by_one = [parse_line(line) for line in batch]
    if values is not None:
        assert len(values) == len(batch)
        for value, alone in zip(values, one_by_one):
            assert alone is not NOT_CANONICAL
            assert json.dumps(value, sort_keys=True) == json.dumps(alone, sort_keys=True)


@pytest.mark.parametrize(
    "batch",
    [
        [b"[1", b"2]", b"3,4"],  # lines that re-join into the right number of values
        [b'{"a":1}', b'{"a":1,"a":2}'],  # a duplicate key
        [b'{"a":1}', b'{"a": 1}'],  # spacing
        [b'{"b":1,"a":2}'],  # key order
        [b"1", b""],  # a blank line
        [b"{}\r"],  # a CRLF ending
    ],
)
def test_a_batch_with_one_line_out_of_form_is_not_vouched_for(batch: list[bytes]) -> None:
    assert canonical_batch_parser()(batch) is None


def test_canonical_batches_are_vouched_for() -> None:
    batch = [canonical(record) for record in VALID.values()]
    assert canonical_batch_parser()(batch) == [orjson.loads(line) for line in batch]


def test_the_serialiser_bounds_the_depth_the_batch_path_relies_on() -> None:
    """The batch path skips counting brackets because orjson will not re-serialise nesting
    deeper than MAX_DEPTH; should a new orjson allow it, the bracket count comes back."""
    too_deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert fast_parser()(too_deep) is NOT_CANONICAL
    assert canonical_batch_parser()([too_deep]) is None


def test_lines_between_yields_every_line_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import govern.format.jsonl as jsonl_reader

    monkeypatch.setattr(jsonl_reader, "_READ_CHUNK", 7)
    data = b"a\nbb\n" + b"x" * 20 + b"\n\nccc\n"
    assert [line for chunk in lines_between(data, 2, len(data)) for line in chunk] == [b"bb", b"x" * 20, b"", b"ccc"]


# --- validate: batches and processes against line by line ----------------------------------------


@pytest.fixture(scope="module")
def delta_validator() -> SchemaValidator:
    store = SchemaStore()
    return SchemaValidator(store.resolve(store.load(DELTA_LOG_SCHEMA)))


log_lines = st.one_of(
    st.sampled_from([canonical(record) for record in VALID.values()]),
    st.sampled_from([canonical(record) for record, _ in INVALID.values()]),
    st.sampled_from([json.dumps(record).encode() for record in VALID.values()]),  # not canonical, still valid
    single_lines,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(log_lines, max_size=40), torn=st.booleans(), batch=st.integers(1, 9))
def test_validation_in_batches_and_processes_reports_what_line_by_line_does(
    tmp_path: Path, delta_validator: SchemaValidator, monkeypatch: pytest.MonkeyPatch, body: list[bytes], torn: bool, batch: int
) -> None:
    path = tmp_path / "REGISTRY_DELTA_LOG_v0_1.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in body if b"\n" not in line) + (b'{"torn":' if torn else b""))
    with monkeypatch.context() as patch:
        patch.setattr(validation, "canonical_batch_parser", lambda: lambda batch: None)  # no batch vouched for: every line explained
        line_by_line = validation.validate_jsonl(path, "log", delta_validator, processes=1)
    monkeypatch.setattr(validation, "BATCH_LINES", batch)
    assert validation.validate_jsonl(path, "log", delta_validator, processes=1) == line_by_line
    assert validation.validate_jsonl(path, "log", delta_validator, processes=3) == line_by_line


# --- verify --log: one piece against two processes -----------------------------------------------


def ref(n: int) -> dict[str, Any]:
    n += 1000  # n may be -1
    return {"manifest_sha256": f"{n:064x}", "relpath": "A.json", "run_id": f"2024-01-01__{n:06d}__snap", "run_root": ".codex/RUNS"}


def chain_records(registries: int, per_registry: int, *, continued: bool = False) -> list[dict[str, Any]]:
    """A well-formed build: registry by registry, each a bootstrap and then transitions (or,
    ``continued``, transitions only, from where :data:`EARLIER` left each registry)."""
    records = []
    for r in range(registries):
        for n in range(per_registry):
            bootstrap = n == 0 and not continued
            records.append(
                {
                    "added_paths": ["A.json"] if bootstrap else [],
                    "counts": {"added": int(bootstrap), "modified": 0, "removed": 0},
                    "created_utc": "2024-01-02T03:04:05Z",
                    "delta_basis": "manifest_diff",
                    "delta_version": "0.1",
                    "derivation_run_id": RUN_ID,
                    "from_ref": None if bootstrap else ref(n - 1 + 100 * r),
                    "modified_paths": [],
                    "registry_id": f"reg_{r}",
                    "removed_paths": [],
                    "to_ref": ref(n + 100 * r),
                }
            )
    return records


#: The registries' last records as an earlier build left them (reg_9 appends nothing here).
EARLIER = {"reg_0": ref(-1), "reg_1": ref(99), "reg_9": ref(999)}


def tamper(lines: list[bytes], how: str, at: int) -> list[bytes]:
    at %= len(lines)
    try:
        record = json.loads(lines[at])
    except ValueError:
        record = None
    if not isinstance(record, dict):
        record = chain_records(1, 1)[0]  # a line already broken: put a record back
    if how == "swap":
        lines[at], lines[(at + 1) % len(lines)] = lines[(at + 1) % len(lines)], lines[at]
    elif how == "drop":
        del lines[at]
    elif how == "duplicate":
        lines.insert(at, lines[at])
    elif how == "derived_elsewhere":
        lines[at] = canonical({**record, "derivation_run_id": "2024-01-01__000000__other"})
    elif how == "schema":
        lines[at] = canonical({**record, "counts": {"added": -1, "modified": 0, "removed": 0}})
    elif how == "not_canonical":
        lines[at] = json.dumps(record).encode()
    elif how == "garbage":
        lines[at] = b'{"registry_id":'
    elif how == "not_an_object":
        lines[at] = b"[1]"
    elif how == "registry_renamed":
        lines[at] = canonical({**record, "registry_id": "reg_0"})
    elif how == "re_recorded":
        lines[at] = canonical({**record, "to_ref": {**record["to_ref"], "manifest_sha256": "f" * 64}})
    return lines


def check_log(data: bytes, start: int, monkeypatch: pytest.MonkeyPatch, *, split: bool, continued: bool = True) -> tuple[list, dict, dict]:
    chain = log_verification._Chain()
    chain.last_ref = dict(EARLIER) if continued else {"reg_9": EARLIER["reg_9"]}
    problems: list = []
    with monkeypatch.context() as patch:
        patch.setattr(log_verification, "PARALLEL_MIN_BYTES", 0 if split else 1 << 60)
        validate = validation.delta_record_checker()
        log_verification._check_lines(chain, RUN_ID, data, start, "B/LOG", validate, problems)
    return problems, chain.last_ref, chain.recorded


hows = st.sampled_from(
    ["swap", "drop", "duplicate", "derived_elsewhere", "schema", "not_canonical", "garbage", "not_an_object", "registry_renamed", "re_recorded"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    registries=st.integers(1, 4),
    per_registry=st.integers(1, 6),
    continued=st.booleans(),
    tampering=st.lists(st.tuples(hows, st.integers(0, 100)), max_size=3),
    torn=st.booleans(),
)
def test_a_log_checked_in_two_processes_reports_what_one_piece_does(
    monkeypatch: pytest.MonkeyPatch, registries: int, per_registry: int, continued: bool, tampering: list, torn: bool
) -> None:
    lines = [canonical(record) for record in chain_records(min(registries, 2) if continued else registries, per_registry, continued=continued)]
    for how, at in tampering:
        if lines:
            lines = tamper(lines, how, at)
    prefix = b'{"an":"earlier build"}\n'
    data = prefix + b"".join(line + b"\n" for line in lines) + (b'{"torn"' if torn else b"")
    one_piece = check_log(data, len(prefix), monkeypatch, split=False, continued=continued)
    assert check_log(data, len(prefix), monkeypatch, split=True, continued=continued) == one_piece
    if not tampering and not torn:
        assert one_piece[0] == []


@pytest.mark.skipif(not parallel.CAN_FORK, reason="a log is shared between processes only where they can fork")
@pytest.mark.parametrize(
    ("registries", "change", "expected"),
    [
        # reg_0's last record and reg_1's bootstrap swapped: both still link; only the order shows it
        (2, lambda lines: [*lines[:3], lines[4], lines[3], *lines[5:]], [("B/LOG: line 5", "reg_0 appended after reg_1")]),
        # one record dropped at the cut: the next one links to nothing the first half left
        (1, lambda lines: [*lines[:4], *lines[5:]], [("B/LOG: line 5", "reg_0: from_ref does not link to the registry's previous to_ref")]),
    ],
)
def test_a_split_log_still_catches_a_break_at_the_cut(monkeypatch: pytest.MonkeyPatch, registries: int, change, expected) -> None:
    """The records either side of the cut are checked by different processes: the link and the
    registry order across it are checked when the halves are joined."""
    lines = change([canonical(record) for record in chain_records(registries, 8 // registries, continued=True)])
    data = b"".join(line + b"\n" for line in lines)
    monkeypatch.setattr(log_verification, "PARALLEL_MIN_BYTES", 0)
    assert [data.count(b"\n", 0, start) + 1 for start, _ in log_verification._halves(data, 0, len(data))] == [1, 5]
    problems, _, _ = check_log(data, 0, monkeypatch, split=True)
    assert [(p.where, p.message.split(" (")[0]) for p in problems] == expected


# --- recorded snapshots: each seal read once, whichever process reads it -------------------------

RESEALED, REMOVED = ref(103)["run_id"], ref(3)["run_id"]


@pytest.mark.parametrize("split_lines", [False, True])
@pytest.mark.parametrize("split_snapshots", [False, True])
def test_each_recorded_snapshot_is_read_once_and_judged_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split_lines: bool, split_snapshots: bool
) -> None:
    reads = tmp_path / "reads"  # appended to by whichever process reads a seal

    def read_roots(run_ids: list[str]) -> dict[str, str | None]:
        with open(reads, "a") as handle:
            handle.write("".join(f"{run_id}\n" for run_id in run_ids))
        roots = {run_id: f"{int(run_id.split('__')[1]):064x}" for run_id in run_ids if run_id != REMOVED}
        if RESEALED in roots:
            roots[RESEALED] = "e" * 64
        return roots

    records = chain_records(3, 5)
    records[7]["to_ref"]["manifest_sha256"] = None  # reg_1's 3rd snapshot recorded as unknown: never read
    unknown_run = records[7]["to_ref"]["run_id"]
    data = b"".join(canonical(record) + b"\n" for record in records)
    monkeypatch.setattr(log_verification, "PARALLEL_MIN_BYTES", 0 if split_lines else 1 << 60)
    monkeypatch.setattr(log_verification, "PARALLEL_MIN_SNAPSHOTS", 0 if split_snapshots else 1 << 60)
    chain = log_verification._Chain(read_roots)
    log_verification._check_lines(chain, RUN_ID, data, 0, "B/LOG", None, [])
    problems = log_verification._check_recorded_snapshots(chain)
    assert [(p.where, p.message.split(",")[0]) for p in problems] == [
        (f"reg_0 @ {REMOVED}", "recorded snapshot no longer exists"),
        (f"reg_1 @ {RESEALED}", f"recorded with manifest {ref(103)['manifest_sha256']}"),
    ]
    recorded_runs = {record["to_ref"]["run_id"] for record in records} - {unknown_run}
    assert sorted(reads.read_text().split()) == sorted(recorded_runs)  # each once


# --- schema resolution: the self-contained shortcut ----------------------------------------------

ODD_SCHEMAS = [
    {"$ref": "other.schema.json"},
    {"properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"$id": "https://example.invalid/a.json", "$ref": "#/x"}}},
    {"const": {"$ref": "https://example.invalid/data-not-a-reference"}},
    {"items": {"$schema": "https://example.invalid/my-dialect"}},
    {"$schema": "http://json-schema.org/draft-04/schema", "definitions": {"a": {"id": "sub.json", "$ref": "#/b"}}},
    {"$schema": "http://json-schema.org/draft-07/schema#"},
    {"$dynamicRef": "#meta", "$defs": {"m": {"$dynamicAnchor": "meta"}}},
    {"anyOf": [{"$ref": "#"}, {"$recursiveRef": "#"}]},
]


@pytest.mark.parametrize("index", range(len(ODD_SCHEMAS) + len(builtin_schemas())))
def test_a_schema_taken_as_self_contained_resolves_to_itself_alone(tmp_path: Path, index: int) -> None:
    from govern.errors import GovernError
    from govern.schema.store import _self_contained

    store = SchemaStore(tmp_path)
    builtins = sorted(builtin_schemas())
    if index < len(ODD_SCHEMAS):
        (tmp_path / "odd.schema.json").write_text(json.dumps(ODD_SCHEMAS[index]))
        schema = store.load("odd.schema.json")
    else:
        schema = store.load(builtins[index - len(ODD_SCHEMAS)])
    if not _self_contained(schema):
        return
    import govern.schema.store as schema_store

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema_store, "_self_contained", lambda schema: False)  # the full walk
        try:
            walked = store.resolve(schema)
        except GovernError as error:
            pytest.fail(f"taken as self-contained, but the full walk refuses it: {error}")
    assert walked.resources.keys() == {schema.uri}
    assert store.resolve(schema).resources.keys() == {schema.uri}


# --- verify_log end to end: one process against two ----------------------------------------------

from test_verify_log import A2, B1, B2, B3, LOG_NAME, history, rewrite_log, ws  # noqa: E402, F401
from test_verify_log import canonical as log_line  # noqa: E402


def verify_in_process(ws, monkeypatch: pytest.MonkeyPatch, *, split: bool):
    from govern.config.workspace import load_workspace
    from govern.host.manager import PluginHost

    host = PluginHost.from_environment(config_disable=(), strict=False)
    host.load_plugins()
    with monkeypatch.context() as patch:
        patch.setattr(log_verification, "PARALLEL_MIN_BYTES", 0 if split else 1 << 60)
        patch.setattr(log_verification, "PARALLEL_MIN_SNAPSHOTS", 0 if split else 1 << 60)
        return log_verification.verify_log(load_workspace(explicit=ws.root), host, validate=validation.delta_record_checker())


def hold_no_log(ws) -> None:
    """B2's log taken out of its seal, then put back: listed nowhere, present all the same."""
    log = (ws.runs / B2 / LOG_NAME).read_bytes()
    (ws.runs / B2 / LOG_NAME).unlink()
    ws.reseal(B2)  # as a forger's tool would: govern refuses to re-seal a build
    (ws.runs / B2 / LOG_NAME).write_bytes(log)


def forge_a_record(ws) -> None:
    def forge(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[-1])  # the one record B3 appended
        record["to_ref"]["manifest_sha256"] = "0" * 64
        return [*lines[:-1], log_line(record)]

    rewrite_log(ws, B3, forge)


def unseal_a2(ws) -> None:
    (ws.runs / A2 / "manifest.json").unlink()


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda ws: None, []),
        (hold_no_log, [f"{B2}/{LOG_NAME}: the build holds no log"]),
        (forge_a_record, [f"alpha @ 2024-01-04__000000__alpha_four: recorded with manifest {'0' * 64}"]),
        (unseal_a2, [f"alpha @ {A2}: recorded with manifest"]),
    ],
)
def test_verify_log_in_two_processes_finds_what_one_does(ws, monkeypatch: pytest.MonkeyPatch, change, found: list[str]) -> None:
    change(ws)
    one = verify_in_process(ws, monkeypatch, split=False)
    assert verify_in_process(ws, monkeypatch, split=True) == one
    problems = [str(p) for build in one.builds for p in build.problems] + [str(p) for p in one.snapshot_problems]
    for expected in found:
        assert any(expected in problem for problem in problems), problems
    assert one.ok == (not found)


class _Run:
    """A stand-in for a RunView: registry_candidates reads only ``run_id``."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def __repr__(self) -> str:
        return self.run_id


@settings(max_examples=300, deadline=None)
@given(
    names=st.lists(st.integers(0, 60), unique=True, max_size=30).map(sorted),
    examined=st.sets(st.integers(0, 60)),
    wanted=st.sets(st.integers(0, 70)),
)
def test_a_registrys_candidates_are_the_plain_filters(names, examined, wanted):
    from govern.log.build import registry_candidates

    runs = [_Run(f"r{n:02d}") for n in names]
    examined_before = {f"r{n:02d}" for n in examined}
    wanted_ids = {f"r{n:02d}" for n in wanted}
    new_runs = [run for run in runs if run.run_id not in examined_before]
    positions = {run.run_id: i for i, run in enumerate(runs)}
    plain = [run for run in runs if run.run_id not in examined_before or run.run_id in wanted_ids]
    assert registry_candidates(runs, new_runs, positions, wanted_ids) == plain
