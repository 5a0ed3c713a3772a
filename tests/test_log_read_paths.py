"""More fast paths of ``govern validate`` and ``govern verify --log`` (issue 18; the others are
in test_log_fast_paths.py), each held to the plain rule it stands in for by a hypothesis property, on good and damaged input alike.

- A recorded snapshot's root (``RunStore.read_root``, the seal layer's ``seal_root``) is the
  ``root_sha256`` of the full seal check (``read_seal``), without parsing the manifest: for a
  local folder and for a store, whatever state the two seal files are in.
- ``read_lines`` (no copy of a chunk) gives the lines of :func:`split_lines` over the same
  bytes, for any chunk size and any byte range cut at line starts.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.format.jsonl import read_lines, split_lines, split_ranges
from govern.format.manifest import MANIFEST_NAME, SEAL_NAME
from govern.runs.run_store import RunStore
from govern.seal import seal_file
from govern.seal.seal_file import read_seal, read_seal_root
from govern.store.memory import MemoryStore
from helpers import RUN_ID, make_run, seal_in_process

# --- a recorded snapshot's root ------------------------------------------------------------------

#: What a seal file may be: absent, bytes, a symbolic link, a folder.
_SEAL_FILE_STATES = st.one_of(
    st.just(None),
    st.just("symlink"),
    st.just("folder"),
    st.binary(max_size=200),
    st.just(b"good"),  # replaced by the true seal line of the manifest
)
_MANIFEST_STATES = st.one_of(
    st.just(None),
    st.just("symlink"),
    st.just("folder"),
    st.binary(max_size=300),
    st.just(b"sealed"),  # the manifest the run was sealed with
)


def _lay_down(path: Path, state: object, data: bytes | None = None) -> None:
    """Put ``state`` at ``path`` (the seal file there is removed first)."""
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    if state is None:
        return
    if state == "symlink":
        path.symlink_to("run.json")
    elif state == "folder":
        path.mkdir()
    else:
        assert isinstance(state, bytes)
        path.write_bytes(state if data is None else data)


@pytest.fixture(scope="module")
def sealed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sealed run whose seal files each example puts into some state."""
    run_dir = make_run(tmp_path_factory.mktemp("runs"), RUN_ID, {"a.txt": b"one\n", "sub/b.txt": b"two\n"})
    seal_in_process(run_dir)
    return run_dir


@settings(max_examples=150, deadline=None)
@given(seal_state=_SEAL_FILE_STATES, manifest_state=_MANIFEST_STATES)
def test_a_snapshot_root_is_the_full_seal_checks_root(sealed_run: Path, seal_state: object, manifest_state: object) -> None:
    original = getattr(test_a_snapshot_root_is_the_full_seal_checks_root, "_original", None)
    if original is None:
        original = ((sealed_run / MANIFEST_NAME).read_bytes(), (sealed_run / SEAL_NAME).read_bytes())
        test_a_snapshot_root_is_the_full_seal_checks_root._original = original  # type: ignore[attr-defined]
    manifest_bytes, _ = original
    manifest_data = manifest_bytes if manifest_state == b"sealed" else None
    _lay_down(sealed_run / MANIFEST_NAME, manifest_state, manifest_data)
    current = manifest_data if manifest_data is not None else manifest_state if isinstance(manifest_state, bytes) else b""
    seal_data = f"{hashlib.sha256(current).hexdigest()}  manifest.json\n".encode() if seal_state == b"good" else None
    _lay_down(sealed_run / SEAL_NAME, seal_state, seal_data)

    plain = read_seal(sealed_run).root_sha256
    assert read_seal_root(sealed_run) == plain
    assert RunStore.local(sealed_run.parent).read_root(RUN_ID) == plain
    # A store that is not a local folder: the same files as objects (a link or a folder is no object).
    memory = MemoryStore()
    for name in (SEAL_NAME, MANIFEST_NAME):
        path = sealed_run / name
        if path.is_file() and not path.is_symlink():
            memory.put(f"{RUN_ID}/{name}", path.read_bytes())
    stored = RunStore(memory)
    assert stored.read_root(RUN_ID) == stored.read_seal(RUN_ID).root_sha256


def test_verify_log_reads_no_recorded_snapshots_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The regression of issue 18: ``verify --log`` parsed the whole manifest of every recorded
    snapshot only to compare its root. Now only the builds' own manifests are parsed (their
    seals are checked in full), and a re-sealed snapshot is still caught."""
    from delta_workspace import DeltaWorkspace

    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "ALPHA.json"}})
    snapshots = [f"2026-01-0{day}__000000__snap" for day in range(1, 6)]
    for number, run_id in enumerate(snapshots):
        ws.run(run_id, {"ALPHA.json": f"{number}\n", "other.txt": "x\n"})
    assert ws.govern("delta", "build", "--at", "2026-02-01T00:00:00Z").returncode == 0
    parsed: list[str] = []
    parse_manifest = seal_file.parse_manifest

    def counting_parse(data: bytes, run_id: str, where: str):  # a real counter around the real parser
        parsed.append(run_id)
        return parse_manifest(data, run_id, where)

    monkeypatch.setattr(seal_file, "parse_manifest", counting_parse)
    result = ws.govern("verify", "--log", env={"GOVERN_JOBS": "1"})  # one process: every parse is counted here
    assert result.returncode == 0, result.stdout + result.stderr
    assert not set(parsed) & set(snapshots), parsed

    (ws.runs / snapshots[2] / "other.txt").write_text("rewritten\n")
    ws.reseal(snapshots[2])
    result = ws.govern("verify", "--log", "--json")
    assert result.returncode == 1
    problems = result.json()["result"]["log"]["snapshot_problems"]
    assert [(p["code"], p["where"]) for p in problems] == [("E_HISTORY_CONFLICT", f"alpha @ {snapshots[2]}")]


# --- reading lines -------------------------------------------------------------------------------

_LINE_BYTES = st.lists(st.sampled_from([b"a", b"{", b"}", b"\n", b"\r", b" ", b"\xff", b'"x":1']), max_size=80).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(data=_LINE_BYTES, chunk_bytes=st.integers(min_value=1, max_value=24), parts=st.integers(min_value=1, max_value=4))
def test_read_lines_gives_the_lines_of_split_lines(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, chunk_bytes: int, parts: int
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "log.jsonl"
    path.write_bytes(data)
    lines: list[bytes] = []
    torn: list[bytes | None] = []
    for start, end in split_ranges(path, parts):
        part_lines, part_torn = split_lines(data[start:end])
        got_lines: list[bytes] = []
        got_torn: bytes | None = None
        for batch, tail in read_lines(path, start, end, chunk_bytes=chunk_bytes):
            assert got_torn is None  # a torn tail comes last, alone
            got_lines.extend(batch)
            got_torn = tail
        assert (got_lines, got_torn) == (part_lines, part_torn)
        lines.extend(got_lines)
        torn.append(got_torn)
    assert (lines, torn[-1] if torn else None) == split_lines(data)
    assert all(tail is None for tail in torn[:-1])
    os.remove(path)


# --- the chain checks, a batch at a time ---------------------------------------------------------

_BUILD = "2030-01-01__000000__registry_delta_log_build"
_RUNS = st.sampled_from(["2020-01-01__000000__a", "2020-01-01__000100__b", "2020-01-01__000200__c"])
_SEALED_REF = st.fixed_dictionaries(
    {
        "run_id": _RUNS,
        "run_root": st.just(".codex/RUNS"),
        "relpath": st.just("R.json"),
        "manifest_sha256": st.sampled_from(["a" * 64, "b" * 64]),
    }
)
_SOURCE_REF = st.fixed_dictionaries(  # record version 0.2: a version kept outside the runs root
    {
        "source": st.just("ocfl_object"),
        "location": st.just("objects/x"),
        "version": st.sampled_from(["v1", "v2"]),
        "pin": st.just("c" * 64),
    }
)
_REF = st.one_of(st.none(), _SEALED_REF, _SOURCE_REF, st.integers(), st.just({"run_id": 7}))
_RECORD = st.fixed_dictionaries(
    {
        "delta_version": st.sampled_from(["0.1", "0.2"]),
        "registry_id": st.one_of(st.sampled_from(["alpha", "beta", "gamma"]), st.none(), st.integers()),
        "derivation_run_id": st.one_of(st.just(_BUILD), st.just("2029-01-01__000000__registry_delta_log_build"), st.none()),
        "from_ref": _REF,
        "to_ref": _REF,
    },
    optional={"renamed_paths": st.just([["a", "b"]])},
)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(_RECORD, max_size=12), apart=st.booleans(), cut=st.integers(min_value=0, max_value=12))
def test_linking_a_batch_finds_what_linking_record_by_record_does(records: list[dict], apart: bool, cut: int) -> None:
    """``_Links.link_all`` (the batch path of verify --log) against ``link`` one record at a
    time: the same problems in the same order, the same chain state — for records of both
    versions, sealed and source refs, broken links, foreign builds and malformed fields."""
    from govern.log.verification import _Links

    def fresh() -> _Links:
        return _Links.apart(_BUILD, "log") if apart else _Links(_BUILD, "log", {}, {})

    one_by_one, batched = fresh(), fresh()
    for number, record in enumerate(records, start=1):
        one_by_one.link(record, number)
    batched.link_all(records[:cut], 1)
    batched.link_all(records[cut:], 1 + len(records[:cut]))
    assert batched.found == one_by_one.found
    state = ("last_ref", "recorded", "previous_registry", "deferred", "first_registry")
    assert [getattr(batched, name) for name in state] == [getattr(one_by_one, name) for name in state]


# --- the log's tree, hashed in shares ------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(start=st.integers(min_value=0, max_value=300), length=st.integers(min_value=0, max_value=300))
def test_aligned_subtrees_build_the_tree_append_builds(start: int, length: int) -> None:
    from govern.format.merkle import CompactRange, aligned_subtrees, leaf_hash

    leaves = [leaf_hash(str(index).encode()) for index in range(start + length)]
    before = CompactRange.of(leaves[:start])
    subtrees = aligned_subtrees(start, start + length)
    nodes = [(CompactRange.of(leaves[first : first + (1 << level)]).root(), level) for first, level in subtrees]
    assert before.with_subtrees(nodes) == before.append(leaves[start:])


@settings(max_examples=60, deadline=None)
@given(
    records=st.integers(min_value=0, max_value=200),
    sizes=st.lists(st.integers(min_value=0, max_value=260), max_size=6),
    fork=st.booleans(),
)
def test_roots_at_in_shares_are_the_roots_of_each_prefix(monkeypatch_module, records: int, sizes: list[int], fork: bool) -> None:
    """``verify --log``'s tree heads: the roots of the log's tree at each size, hashed in shares
    by two processes, against the plain rule — the compact range of each prefix, one leaf at a time."""
    from govern.format.merkle import CompactRange, leaf_hashes_of
    from govern.log import checkpoints

    monkeypatch_module.setattr(checkpoints, "PARALLEL_MIN_LEAVES", 0 if fork else 10**9)
    log = checkpoints._Log.__new__(checkpoints._Log)
    log.lines = [f'{{"record":{index}}}'.encode() for index in range(records)]
    log.size = records
    expected = {size: CompactRange.of(leaf_hashes_of(log.lines[:size])).root() for size in sizes if size <= records}
    assert log.roots_at(sizes) == expected


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
