"""The bulk fast paths of reading and diffing manifests agree with the rules they speed up.

Each fast path (checks over whole columns at C speed, orjson reading a manifest without the
re-serialisation check, a merge of sorted lists, a sorted-order conflict search, worker
processes, orjson writing log lines) has a plain statement of the same rule beside it, which
also explains failures. Hypothesis feeds both random inputs, valid and invalid (one defect
planted at a time), and they must give the same answer.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.format import manifest as manifest_module
from govern.format.artifact_paths import artifact_columns, artifact_entries
from govern.format.jsonio import dump_jsonl_line
from govern.format.manifest import Manifest, ManifestEntry, parse_manifest
from govern.format.paths import (
    _PLAIN_PATH,
    MAX_PATH_BYTES,
    all_plain_paths,
    file_directory_conflicts,
    manifest_path_problem,
    plain_paths_joined,
    sorted_file_directory_conflicts,
)
from govern.runs.snapshots import diff_entries, diff_sorted_columns
from govern.seal import manifest_workers
from govern.seal.manifest_workers import read_seals
from govern.seal.seal_file import read_seal
from helpers import make_run, seal_in_process

# --- plain paths ---------------------------------------------------------------------------------

#: Every class of character the plain-path rule distinguishes, and a few it refuses.
PATH_CHARS = "aZ09_.+=@,-/~: \\\n\té"
long_part = st.integers(min_value=250, max_value=260).map(lambda n: "p" * n)
one_path = st.one_of(
    st.text(alphabet=PATH_CHARS, max_size=12),
    st.lists(st.one_of(long_part, st.sampled_from(["a", "b.c", ".x", "", "x-"])), min_size=1, max_size=4).map("/".join),
    st.integers(min_value=MAX_PATH_BYTES - 2, max_value=MAX_PATH_BYTES + 2).map(lambda n: "/".join(["d" * 200] * (n // 201 + 1))[:n]),
)


def plain_one_by_one(paths: list[object]) -> bool:
    """The rule, one path at a time: the regex fast path of manifest_path_problem."""
    return all(isinstance(p, str) and len(p) <= MAX_PATH_BYTES and _PLAIN_PATH.fullmatch(p) is not None for p in paths)


@settings(max_examples=500, deadline=None)
@given(st.lists(one_path, max_size=6))
def test_bulk_plain_path_check_equals_the_regex_one_by_one(paths):
    assert all_plain_paths(paths) == plain_one_by_one(paths)
    assert plain_paths_joined(paths) == ("\n".join(paths).encode() if plain_one_by_one(paths) else None)
    if all_plain_paths(paths):
        assert all(manifest_path_problem(path) is None for path in paths)


@pytest.mark.parametrize(
    "paths, plain",
    [
        ([], True),
        ([""], False),
        (["a", ""], False),
        (["a/"], False),
        (["/a"], False),
        (["a//b"], False),
        (["a/.b"], False),
        ([".a"], False),
        (["a\nb"], False),
        (["a", "b\n", "c"], False),
        (["a", 1], False),
        (["p" * 255], True),
        (["p" * 256], False),
        (["/".join(["p" * 255] * 16)], True),  # 4095 bytes
        (["/".join(["p" * 255] * 16) + "/x"], False),  # 4097 bytes
        (["a.b/c-d/e+f=g@h,i_j"], True),
    ],
)
def test_bulk_plain_path_check_cases(paths, plain):
    assert all_plain_paths(paths) is plain
    assert plain_one_by_one(paths) is plain


# --- file/folder conflicts -----------------------------------------------------------------------

conflict_paths = st.lists(st.lists(st.sampled_from(["a", "a.b", "a-", "b", "ab"]), min_size=1, max_size=4).map("/".join), max_size=12)


@settings(max_examples=500, deadline=None)
@given(conflict_paths)
def test_sorted_conflict_search_equals_the_folder_sets(paths):
    ordered = sorted(set(paths))
    assert sorted_file_directory_conflicts(ordered) == file_directory_conflicts(ordered)


def test_conflict_search_sees_a_folder_beyond_siblings_that_sort_between():
    paths = ["a", "a-b", "a.txt", "a/b/c", "b", "b.d/e"]
    assert sorted_file_directory_conflicts(paths) == file_directory_conflicts(paths) == ["a"]


# --- manifest entries: the C-speed column checks against the entry-by-entry explanation ---------

HEX = "0123456789abcdef"
good_digest = st.text(alphabet=HEX, min_size=64, max_size=64)
BAD_DIGESTS = st.sampled_from(["", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "0" * 63 + "\n", "é" * 64, 5, None])
BAD_SIZES = st.sampled_from([-1, -(2**70), True, False, 1.5, "3", None])
any_path = st.one_of(st.lists(st.sampled_from(["a", "b", "a.b", "c"]), min_size=1, max_size=3).map("/".join), one_path, st.just(7))


#: One defect to plant in an otherwise valid entry list (or none).
DEFECTS = ("none", "digest", "size", "path", "swap", "duplicate", "extra key", "missing key", "not an object")


@st.composite
def raw_entries(draw: st.DrawFn) -> list[object]:
    """Entry lists as a JSON parser gives them: valid ones, with at most one planted defect."""
    paths = sorted(set(draw(st.lists(st.lists(st.sampled_from(["a", "b", "a.b", "c", "é"]), min_size=1, max_size=3).map("/".join), max_size=6))))
    entries: list[object] = [{"path": path, "sha256": draw(good_digest), "bytes": draw(st.integers(0, 2**40))} for path in paths]
    defect = draw(st.sampled_from(DEFECTS))
    if not entries or defect == "none":
        return entries
    index = draw(st.integers(0, len(entries) - 1))
    entry = entries[index]
    assert isinstance(entry, dict)
    if defect == "digest":
        entry["sha256"] = draw(BAD_DIGESTS)
    elif defect == "size":
        entry["bytes"] = draw(BAD_SIZES)
    elif defect == "path":
        entry["path"] = draw(any_path)
    elif defect == "swap" and index + 1 < len(entries):
        entries[index], entries[index + 1] = entries[index + 1], entries[index]
    elif defect == "duplicate":
        entries.insert(index, dict(entry))
    elif defect == "extra key":
        entry["extra"] = 1
    elif defect == "missing key":
        del entry[draw(st.sampled_from(["path", "sha256", "bytes"]))]
    elif defect == "not an object":
        entries[index] = list(entry.values())
    return entries


@settings(max_examples=800, deadline=None)
@given(raw_entries())
def test_column_checks_accept_only_what_the_explanation_finds_valid(raw):
    plain = manifest_module._columns_if_plainly_valid(raw)
    problems: list = []
    explained = manifest_module._explain_entries(raw, "run", "where", problems)
    if plain is not None:
        # Plainly valid: the explanation finds no problem but file/folder conflicts, which the
        # fast path reports alike, and the same entries.
        columns, joined = plain
        assert [p for p in problems if p.code != "E_PATH_CONFLICT"] == []
        assert Manifest(run_id="run", columns=columns) == explained
        assert joined == ("\n".join(columns.paths).encode(), "\n".join(columns.digests).encode())
        fast: list = []
        manifest_module._parse_entries(raw, "run", "where", fast, plain)
        assert fast == problems
    elif all(isinstance(e, dict) and plain_one_by_one([e.get("path")]) for e in raw):
        # Refused by the fast path though every path is plain: the explanation finds a problem
        # (the fast path refuses valid manifests only for their non-plain paths).
        assert problems


def manifest_bytes(run_id: str, entries: list[tuple[str, str, int]]) -> bytes:
    return Manifest(run_id, [ManifestEntry(*entry) for entry in entries]).to_bytes()


def test_fast_and_strict_parse_agree_on_a_canonical_and_a_reformatted_manifest():
    entries = [("a/b", "0" * 64, 1), ("a/c", "f" * 64, 0), ("é/x", "1" * 64, 2**70)]
    canonical = manifest_bytes("run", entries)
    fast, fast_problems = parse_manifest(canonical, "run", "m")
    slow, slow_problems = parse_manifest(canonical.replace(b"\n", b"\r\n"), "run", "m")  # not canonical: strict parser
    assert fast_problems == slow_problems == []
    assert fast == slow
    assert [tuple(e) for e in fast.files] == entries


# --- the manifest's two forms --------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_manifest_columns_and_entries_are_the_same_manifest(count):
    entries = [ManifestEntry(f"d/f{i}", f"{i:064x}", i) for i in range(count)]
    by_entries = Manifest(run_id="r", files=tuple(entries))
    by_columns = Manifest.from_columns("r", [e.path for e in entries], [e.sha256 for e in entries], [e.bytes for e in entries])
    assert by_entries == by_columns and hash(by_entries) == hash(by_columns)
    assert by_columns.files == tuple(entries) and by_entries.paths == by_columns.paths
    assert by_columns.to_bytes() == by_entries.to_bytes()
    for manifest in (by_entries, by_columns):
        again = pickle.loads(pickle.dumps(manifest))
        assert again == manifest and again.files == tuple(entries)
    with pytest.raises(AttributeError):
        by_columns.run_id = "other"  # type: ignore[misc]


def test_a_manifest_holding_newlines_in_paths_still_pickles():
    # Not a manifest that verifies, but the model holds whatever it is given.
    odd = Manifest.from_columns("r", ["a\nb", "c"], ["0" * 64, "1" * 64], [1, 2])
    assert pickle.loads(pickle.dumps(odd)) == odd


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "a.b", "a/x", "a/y/z", "a0", "b", "b/c"]), unique=True), st.sampled_from([None, "a", "a/y", "b", "c"]))
def test_artifact_columns_select_what_artifact_entries_selects(paths, relpath):
    paths.sort()
    manifest = Manifest.from_columns("r", paths, [f"{i:064x}" for i in range(len(paths))], list(range(len(paths))))
    expected = artifact_entries(manifest.files, relpath)
    selected_paths, selected_digests = artifact_columns(manifest, relpath)
    assert list(selected_paths) == list(expected) and list(selected_digests) == [e.sha256 for e in expected.values()]


# --- the diff: one merge of sorted columns against the dict statement ------------------------------


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["a", "a.b", "a/b", "b", "c/d", "c/e", "é"]), st.sampled_from(["0", "1"])),
    st.dictionaries(st.sampled_from(["a", "a.b", "a/b", "b", "c/d", "c/e", "é"]), st.sampled_from(["0", "1"])),
)
def test_sorted_merge_diff_equals_the_dict_diff(before, after):
    def entries(tree):
        return {path: ManifestEntry(path, digit * 64, 1) for path, digit in tree.items()}

    def columns(tree):
        paths = sorted(tree)
        return paths, [tree[path] * 64 for path in paths]

    assert diff_sorted_columns(columns(before), columns(after)) == diff_entries(entries(before), entries(after))


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.integers(0, 9999), max_size=3000),
    st.sets(st.integers(0, 9999), max_size=60),
    st.sets(st.integers(0, 9999), max_size=60),
    st.sets(st.integers(0, 9999), max_size=60),
)
def test_sorted_merge_diff_equals_the_dict_diff_on_long_runs(kept, dropped, new, rewritten):
    """Long aligned runs with sparse changes: the windows that compare in bulk grow and reset."""
    before = {f"d/{n:05d}": "0" for n in kept | dropped}
    after = {f"d/{n:05d}": ("1" if n in rewritten else "0") for n in (kept - dropped) | new}
    entries = [{path: ManifestEntry(path, digit * 64, 1) for path, digit in tree.items()} for tree in (before, after)]
    columns = [(sorted(tree), [tree[path] * 64 for path in sorted(tree)]) for tree in (before, after)]
    assert diff_sorted_columns(*columns) == diff_entries(*entries)


# --- reading seals side by side ------------------------------------------------------------------


def test_read_seals_in_worker_processes_equals_reading_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    runs = []
    for index in range(5):
        name = "é" if index == 4 else "d"  # not a plain path: the explanation's manifest, pickled
        run = make_run(tmp_path, f"2024-01-0{index + 1}__000000__r", {f"{name}/f{i}.txt": b"%d" % (i * index) for i in range(20)})
        seal_in_process(run)
        runs.append(run)
    (runs[1] / "manifest.json").write_bytes(b"{}")  # a broken seal, reported by the worker alike
    (runs[3] / "MANIFEST.sha256").unlink()  # and an unsealed run
    sequential = [read_seal(run) for run in runs]
    monkeypatch.setattr(manifest_workers, "PARALLEL_MANIFEST_BYTES", 0)  # every manifest counts as large
    side_by_side = read_seals(runs, jobs=2)
    assert side_by_side == sequential
    assert [check.manifest.files if check.manifest else None for check in side_by_side] == [
        check.manifest.files if check.manifest else None for check in sequential
    ]


# --- writing records: orjson for the JSONL line ----------------------------------------------------

# Any JSON value without floats (the fast writer's promise), including non-ASCII and control
# characters in keys and strings, and integers up to 64 bits.
FLOATLESS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(FLOATLESS)
def test_the_fast_line_writer_gives_the_standard_library_bytes(value):
    assert dump_jsonl_line(value, floats=False) == dump_jsonl_line(value)


def test_the_fast_line_writer_falls_back_for_what_orjson_cannot_write():
    big = {"n": 2**70, "s": "caf\u00e9\u2028\x7f\x1f"}
    expected = ('{"n":' + str(2**70) + ',"s":"caf\u00e9\u2028\x7f\\u001f"}\n').encode()
    assert dump_jsonl_line(big, floats=False) == dump_jsonl_line(big) == expected
    with pytest.raises(UnicodeEncodeError):
        dump_jsonl_line({"s": "\ud800"}, floats=False)


# --- the manifest read by orjson without the canonical check, against the strict parser ----------


class Pairs(list):
    """A JSON object written as given: keys in this order, duplicates kept."""


def write_json(value: object, indent: int | None, escape_keys: bool) -> str:
    """JSON text of ``value`` (Pairs for objects), spaced by ``indent`` (None: compact)."""

    def key(text: str) -> str:
        return '"' + "".join(f"\\u{ord(c):04x}" for c in text) + '"' if escape_keys else json.dumps(text)

    def render(item: object, depth: int) -> str:
        pad = "" if indent is None else "\n" + " " * (indent * (depth + 1))
        end = "" if indent is None else "\n" + " " * (indent * depth)
        sep = ": " if indent is not None else ":"
        if isinstance(item, Pairs):
            inner = ",".join(pad + key(k) + sep + render(v, depth + 1) for k, v in item)
            return "{" + inner + (end if item else "") + "}"
        if isinstance(item, list):
            return "[" + ",".join(pad + render(v, depth + 1) for v in item) + (end if item else "") + "]"
        if isinstance(item, RawNumber):
            return item.text
        return json.dumps(item, ensure_ascii=False)

    return render(value, 0) + "\n"


class RawNumber:
    """A number written exactly as ``text`` (``-0``, beyond 64 bits)."""

    def __init__(self, text: str) -> None:
        self.text = text


MUTATIONS = (
    "none",
    "entry key twice, same value",
    "entry key twice, other value",
    "top-level key twice",
    "files twice",
    "escaped keys",
    "size -0",
    "size beyond 64 bits",
    "run id of another folder",
    "colon in run id",
    "other version",
    "extra key",
)


@st.composite
def manifest_texts(draw: st.DrawFn) -> tuple[bytes, str]:
    """Manifest bytes that orjson reads (so might take the fast path), and the folder name."""
    paths = sorted(set(draw(st.lists(st.lists(st.sampled_from(["a", "b", "a.b", "c"]), min_size=1, max_size=3).map("/".join), max_size=5))))
    run_id = "2024-01-01__000000__run"
    mutation = draw(st.sampled_from(MUTATIONS))
    entries = [Pairs([("bytes", draw(st.integers(0, 99))), ("path", path), ("sha256", draw(good_digest))]) for path in paths]
    if entries and mutation.startswith("entry key twice"):
        entry = draw(st.sampled_from(entries))
        name, value = draw(st.sampled_from(list(entry)))
        twin = value if mutation.endswith("same value") else (value + 1 if isinstance(value, int) else value + "x")
        entry.insert(draw(st.integers(0, 3)), (name, twin))
    if entries and mutation.startswith("size"):
        draw(st.sampled_from(entries))[0] = ("bytes", RawNumber("-0" if mutation == "size -0" else str(2**64 + 1)))
    top = Pairs([("algorithm", "sha256"), ("files", entries), ("manifest_version", "0.1"), ("run_id", run_id)])
    folder = run_id
    if mutation == "top-level key twice":
        top.append(draw(st.sampled_from([("algorithm", "sha256"), ("manifest_version", "0.1"), ("run_id", run_id)])))
    elif mutation == "files twice":
        top.insert(1, ("files", []))
    elif mutation == "run id of another folder":
        folder = "2024-01-01__000000__other"
    elif mutation == "colon in run id":
        folder = "a:b"
        top[3] = ("run_id", folder)
    elif mutation == "other version":
        top[2] = ("manifest_version", "0.2")
    elif mutation == "extra key":
        top.append(("extra", 1))
    indent = draw(st.sampled_from([2, 2, None, 4]))
    return write_json(top, indent, escape_keys=mutation == "escaped keys").encode(), folder


@settings(max_examples=600, deadline=None)
@given(manifest_texts())
def test_the_fast_manifest_read_equals_the_strict_read(case):
    data, folder = case
    fast = parse_manifest(data, folder, "m")
    original = manifest_module.lenient_value
    manifest_module.lenient_value = lambda _: None  # only the strict parser
    try:
        strict = parse_manifest(data, folder, "m")
    finally:
        manifest_module.lenient_value = original
    assert fast == strict
    if fast[0] is not None:
        assert fast[0].files == strict[0].files


@pytest.mark.parametrize("folder", ["2024-01-01__000000__run", "a:b"])
def test_a_manifest_as_govern_writes_it_takes_the_fast_path(folder, monkeypatch):
    def no_strict_parse(data):
        raise AssertionError("the strict parser was used")

    monkeypatch.setattr(manifest_module, "parse_strict", no_strict_parse)
    monkeypatch.setattr(manifest_module, "is_canonical", lambda value, data: False)
    data = manifest_bytes(folder, [("a/b", "0" * 64, 1), ("c", "1" * 64, 2)])
    manifest, problems = parse_manifest(data, folder, "m")
    assert problems == [] and len(manifest.files) == 2


def test_a_key_given_twice_is_refused_as_the_strict_parser_refuses_it():
    entries = Pairs([("bytes", 1), ("path", "a"), ("path", "b"), ("sha256", "0" * 64)])
    data = write_json(Pairs([("algorithm", "sha256"), ("files", [entries]), ("manifest_version", "0.1"), ("run_id", "r")]), 2, False)
    manifest, problems = parse_manifest(data.encode(), "r", "m")
    assert manifest is None and [p.code for p in problems] == ["E_MANIFEST_INVALID"]
    assert "duplicate key 'path'" in problems[0].message
