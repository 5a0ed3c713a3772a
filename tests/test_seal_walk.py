"""The fast paths of sealing many files agree with the rules they stand for (issue 7).

- the walk lists files in path order without sorting them (entries visited in key order);
- the ASCII shortcut of the name-collision check agrees with the full rule;
- the manifest written in orjson batches is byte for byte the standard library's document;
- hashing in forked workers (ranges, big files as tasks of their own) gives what hashing in
  this process gives, and what hashlib gives;
- the progress throttle passes on every unit it was given.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.format import manifest as manifest_module
from govern.format.manifest import Manifest, ManifestEntry, manifest_bytes
from govern.runtime.progress import ThrottledProgress
from govern.seal import hashing
from govern.seal.hashing import FileHasher
from govern.seal.tree import _name_collisions, list_run_tree, name_collisions
from helpers import RUN_ID, make_run, run_govern

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters chosen to sit on both sides of "/" (0x2F) in code-point order, plus letters that
# fold or normalise: the cases where "sorted by path" and "sorted per folder" could differ.
_NAME_CHARS = "ab.-+0_AB~ \u00e9e\u0301\u00df"


def _stdlib_manifest(run_id: str, entries: list[tuple[str, str, int]]) -> bytes:
    doc = Manifest(run_id, tuple(ManifestEntry(*e) for e in entries)).to_json()
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


@SETTINGS
@given(st.lists(st.text(_NAME_CHARS, min_size=1, max_size=6), max_size=12, unique=True))
def test_collision_shortcut_agrees_with_the_full_rule(names: list[str]):
    assert name_collisions("p/", names) == _name_collisions("p/", names)


@SETTINGS
@given(st.lists(st.text("aAbB._-\u00c5\u212b", min_size=1, max_size=4), max_size=8, unique=True))
def test_collision_shortcut_agrees_on_ascii_look_alikes(names: list[str]):
    assert name_collisions("", names) == _name_collisions("", names)


path_parts = st.text("ab.-0_ \u00e9\u4e2d\"\\\t\U0001f600", min_size=1, max_size=5)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.lists(path_parts, min_size=1, max_size=3).map("/".join),
            st.binary(min_size=32, max_size=32).map(bytes.hex),
            st.integers(0, 2**63 - 1),
        ),
        max_size=40,
    ),
    st.integers(1, 7),
)
def test_manifest_in_batches_is_the_standard_library_document(raw_entries, batch):
    entries = sorted(dict((p, (p, d, b)) for p, d, b in raw_entries).values())
    previous = manifest_module._ENTRIES_PER_CALL
    manifest_module._ENTRIES_PER_CALL = batch  # many batches, and batch boundaries everywhere
    try:
        written = manifest_bytes(RUN_ID, iter(entries))
    finally:
        manifest_module._ENTRIES_PER_CALL = previous
    assert written == _stdlib_manifest(RUN_ID, entries)
    assert Manifest(RUN_ID, tuple(ManifestEntry(*e) for e in entries)).to_bytes() == written


def test_empty_manifest_is_the_standard_library_document():
    assert manifest_bytes(RUN_ID, []) == _stdlib_manifest(RUN_ID, [])


tree_names = st.text(_NAME_CHARS.replace("~", ""), min_size=1, max_size=5).filter(lambda n: n not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(tree_names, min_size=1, max_size=3), min_size=1, max_size=25))
def test_walk_lists_paths_in_sorted_order(chains: list[list[str]]):
    root = Path(tempfile.mkdtemp())
    try:
        run_dir = root / RUN_ID
        run_dir.mkdir()
        for chain in chains:
            target = run_dir.joinpath(*chain)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.write_bytes(b"x")
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                pass  # a file already where this chain needs a folder, or the reverse
        listing = list_run_tree(run_dir)
        expected = sorted(
            unicodedata.normalize("NFC", os.path.relpath(os.path.join(folder, name), run_dir))
            for folder, _, files in os.walk(run_dir)
            for name in files
        )
        if not listing.problems:
            assert listing.paths == expected
            assert [listing.location(i) for i in range(len(listing.paths))] == [
                str(Path(folder, name)) for folder, name in _on_disk_in_order(run_dir, listing.paths)
            ]
        else:
            assert listing.paths == sorted(listing.paths)
    finally:
        shutil.rmtree(root)


def _on_disk_in_order(run_dir: Path, paths: list[str]) -> list[tuple[str, str]]:
    """(folder, on-disk name) for each NFC path (a name on disk may be NFD)."""
    by_path = {}
    for folder, _, files in os.walk(run_dir):
        for name in files:
            by_path[unicodedata.normalize("NFC", os.path.relpath(os.path.join(folder, name), run_dir))] = (folder, name)
    return [by_path[p] for p in paths]


def _tree(tmp_path: Path, files: int, big: int = 0) -> Path:
    run_dir = make_run(tmp_path, RUN_ID, {f"d{i % 7}/f{i:04d}.bin": os.urandom(i % 300) for i in range(files)})
    for i in range(big):
        (run_dir / "d3" / f"big{i}.bin").write_bytes(os.urandom(3000 + i))
    return run_dir


@pytest.mark.parametrize("files, big", [(5, 0), (600, 0), (600, 3)])
def test_workers_hash_what_this_process_hashes(tmp_path: Path, files: int, big: int, monkeypatch: pytest.MonkeyPatch):
    # Files over 2 KiB count as big: inside a range of many they become tasks of their own.
    monkeypatch.setattr(hashing, "OWN_TASK_BYTES", 2048)
    run_dir = _tree(tmp_path, files, big)
    listing = list_run_tree(run_dir)
    results = []
    for jobs in (1, 2, 3):
        with FileHasher(listing, jobs=jobs) as hasher:
            stamps = hasher.stamps()
            hashed = hasher.fingerprint(expected=stamps)
            assert hasher.unchanged(hashed)()
        assert not hashed.problems and not stamps.problems
        assert list(hashed.sizes) == list(stamps.sizes) and list(hashed.mtimes) == list(stamps.mtimes)
        results.append(([hashed.sha256(i) for i in range(len(listing.paths))], list(hashed.sizes)))
    assert results[0] == results[1] == results[2]
    reference = {path: hashlib.sha256(Path(listing.location(i)).read_bytes()).hexdigest() for i, path in enumerate(listing.paths)}
    assert dict(zip(listing.paths, results[0][0])) == reference


def test_workers_report_a_selection_and_its_problems_by_position(tmp_path: Path):
    run_dir = _tree(tmp_path, 400)
    listing = list_run_tree(run_dir)
    selection = list(range(0, len(listing.paths), 3))
    os.unlink(listing.location(selection[5]))
    with FileHasher(listing, selection, jobs=2) as hasher:
        hashed = hasher.fingerprint()
    assert [(position, code) for position, code, _ in hashed.problems] == [(5, "E_FILE_UNREADABLE")]
    assert hashed.sha256(6) == hashlib.sha256(Path(listing.location(selection[6])).read_bytes()).hexdigest()


def test_a_file_changed_after_its_stamp_is_refused_by_the_workers(tmp_path: Path):
    run_dir = _tree(tmp_path, 300)
    listing = list_run_tree(run_dir)
    with FileHasher(listing, jobs=2) as hasher:
        stamps = hasher.stamps()
        Path(listing.location(250)).write_bytes(b"grown after the stamp, before the hash")
        hashed = hasher.fingerprint(expected=stamps)
    assert [(position, code) for position, code, _ in hashed.problems] == [(250, "E_FILE_CHANGED")]


def test_seal_bytes_do_not_depend_on_the_workers(tmp_path: Path):
    first = _tree(tmp_path / "one", 700)
    second = tmp_path / "two" / RUN_ID
    shutil.copytree(first, second)
    for run_dir, jobs in ((first, "1"), (second, "2")):
        result = run_govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z", env={"GOVERN_JOBS": jobs})
        assert result.returncode == 0, result.stderr
        assert run_govern("verify", run_dir, env={"GOVERN_JOBS": jobs}).returncode == 0
    assert (first / "manifest.json").read_bytes() == (second / "manifest.json").read_bytes()
    assert (first / "MANIFEST.sha256").read_bytes() == (second / "MANIFEST.sha256").read_bytes()


class _Counter:
    def __init__(self) -> None:
        self.started: list[tuple[int, str]] = []
        self.advances: list[int] = []

    def start(self, total: int, label: str) -> None:
        self.started.append((total, label))

    def advance(self, amount: int) -> None:
        self.advances.append(amount)


def test_throttled_progress_passes_on_every_unit():
    bar = _Counter()
    with ThrottledProgress(bar, interval=3600) as progress:
        progress.start(10, "first")
        for _ in range(4):
            progress.advance(1)
        progress.start(5, "second")  # what was pending reaches the first bar before it ends
        progress.advance(5)
    assert bar.started == [(10, "first"), (5, "second")]
    assert bar.advances == [4, 5]
    eager = _Counter()
    with ThrottledProgress(eager, interval=0) as progress:
        progress.start(3, "x")
        for _ in range(3):
            progress.advance(1)
    assert eager.advances == [1, 1, 1]


@SETTINGS
@given(st.lists(st.text("aZ0_.~ -+\\\r\n\u00e9\t/", min_size=0, max_size=5), min_size=1, max_size=6))
def test_plain_names_shortcut_passes_only_names_the_full_check_passes(names: list[str]):
    from govern.format.paths import _PLAIN_NAME, all_plain_names, name_problem

    each_plain = all(_PLAIN_NAME.fullmatch(name) for name in names)
    assert all_plain_names(names) == each_plain
    if each_plain:
        assert all(name.isascii() and name_problem(name) is None for name in names)


def test_every_commands_bars_are_throttled_on_a_terminal(monkeypatch: pytest.MonkeyPatch):
    # Output.progress is what every command draws its bars through (seal, verify, validate,
    # delta build): on a real pseudo-terminal it hands out a throttled bar; elsewhere none.
    import pty

    from govern.cli.output import Output
    from govern.runtime.progress import NO_PROGRESS

    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w") as terminal:
            monkeypatch.setattr("sys.stderr", terminal)
            with Output().progress() as progress:
                assert isinstance(progress, ThrottledProgress)
                progress.start(2, "work")
                progress.advance(2)
            with Output(quiet=True).progress() as progress:
                assert progress is NO_PROGRESS
    finally:
        os.close(leader)
