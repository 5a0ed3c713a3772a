"""Property tests: for random trees, seal → verify passes, and any single change is caught
with the right code (issue 2, item 7). In-process for speed; each example builds its own
temporary directory (hypothesis examples and function-scoped fixtures do not mix).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import RUN_ID, codes, seal_in_process, verify_in_process

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names: ASCII, spaces, dots, and non-ASCII letters that are already NFC (é, ß, Ω, 中, emoji).
_NAME_CHARS = "abcXYZ019_-. " + "\u00e9\u00df\u03a9\u4e2d\U0001f600"


def _fold_key(name: str) -> str:
    """How govern compares names for collisions (NFC, then case-folded)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _acceptable(name: str) -> bool:
    return (
        name not in (".", "..")
        and unicodedata.normalize("NFC", name) == name
        and not name.startswith(("~", ".govern-tmp-"))
        and name not in ("manifest.json", "MANIFEST.sha256", "run.json")
    )


names = st.text(_NAME_CHARS, min_size=1, max_size=10).filter(_acceptable)
contents = st.one_of(st.just(b""), st.binary(min_size=1, max_size=200), st.sampled_from([b"\x00" * 10, b"\n", b"\xff\xfe"]))


def _directory(children):
    # A folder: unique names after NFC + case folding (else sealing rightly refuses).
    return st.lists(st.tuples(names, children), max_size=5, unique_by=lambda pair: _fold_key(pair[0])).map(dict)


trees = st.recursive(contents, _directory, max_leaves=12).filter(lambda t: isinstance(t, dict))


def _flatten(tree: dict, prefix: str = "") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, child in tree.items():
        if isinstance(child, dict):
            files.update(_flatten(child, f"{prefix}{name}/"))
        else:
            files[prefix + name] = child
    return files


def _write(run_dir: Path, tree: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, child in tree.items():
        if isinstance(child, dict):
            _write(run_dir / name, child)
        else:
            (run_dir / name).write_bytes(child)


def _sealed(base: str, tree: dict) -> Path:
    run_dir = Path(base) / RUN_ID
    _write(run_dir, tree)
    seal_in_process(run_dir)
    check = verify_in_process(run_dir)
    assert check.ok, check.problems
    return run_dir


def _fresh_name(tree: dict, data) -> str:
    """A top-level name that collides with nothing in the run (files or folders)."""
    taken = {_fold_key(name) for name in tree}
    taken |= {_fold_key(n) for n in ("manifest.json", "MANIFEST.sha256", "run.json")}
    return data.draw(names.filter(lambda n: _fold_key(n) not in taken), label="new name")


@SETTINGS
@given(tree=trees)
def test_seal_then_verify_passes_and_lists_every_file(tree):
    with tempfile.TemporaryDirectory() as base:
        run_dir = _sealed(base, tree)
        listed = {e.path: e for e in verify_in_process(run_dir).manifest.files}
        expected = _flatten(tree)
        assert set(listed) == set(expected) | {"run.json"}
        for path, data in expected.items():
            assert listed[path].bytes == len(data)


@SETTINGS
@given(tree=trees, data=st.data())
def test_single_byte_change_is_a_digest_mismatch(tree, data):
    files = {p: c for p, c in _flatten(tree).items() if c}
    with tempfile.TemporaryDirectory() as base:
        run_dir = _sealed(base, tree)
        candidates = sorted(files) or ["run.json"]  # run.json is never empty
        path = data.draw(st.sampled_from(candidates), label="file")
        target = run_dir / path
        content = bytearray(target.read_bytes())
        index = data.draw(st.integers(0, len(content) - 1), label="byte")
        content[index] ^= data.draw(st.integers(1, 255), label="xor")
        target.write_bytes(bytes(content))
        check = verify_in_process(run_dir)
        assert codes(check) == ["E_DIGEST_MISMATCH"]
        assert check.problems[0].where == path


@SETTINGS
@given(tree=trees, data=st.data())
def test_added_file_is_unlisted(tree, data):
    with tempfile.TemporaryDirectory() as base:
        run_dir = _sealed(base, tree)
        name = _fresh_name(tree, data)
        (run_dir / name).write_bytes(data.draw(contents, label="content"))
        check = verify_in_process(run_dir)
        assert codes(check) == ["E_FILE_UNLISTED"]
        assert check.problems[0].where == name


@SETTINGS
@given(tree=trees, data=st.data())
def test_removed_file_is_missing(tree, data):
    with tempfile.TemporaryDirectory() as base:
        run_dir = _sealed(base, tree)
        path = data.draw(st.sampled_from(sorted(_flatten(tree)) + ["run.json"]), label="file")
        (run_dir / path).unlink()
        check = verify_in_process(run_dir)
        assert codes(check) == ["E_FILE_MISSING"]
        assert check.problems[0].where == path


@SETTINGS
@given(tree=trees, data=st.data())
def test_renamed_file_is_missing_and_unlisted(tree, data):
    with tempfile.TemporaryDirectory() as base:
        run_dir = _sealed(base, tree)
        files = _flatten(tree)
        path = data.draw(st.sampled_from(sorted(files) + ["run.json"]), label="file")
        new_name = _fresh_name(tree, data)
        os.rename(run_dir / path, run_dir / new_name)
        check = verify_in_process(run_dir)
        assert codes(check) == ["E_FILE_MISSING", "E_FILE_UNLISTED"]
        assert {(p.code, p.where) for p in check.problems} == {("E_FILE_MISSING", path), ("E_FILE_UNLISTED", new_name)}


@SETTINGS
@given(tree=trees)
def test_sealing_is_deterministic(tree):
    with tempfile.TemporaryDirectory() as base:
        first = _sealed(os.path.join(base, "one"), tree)
        second = Path(base, "two", RUN_ID)
        second.parent.mkdir()
        # Copy file by file in reverse order: listing order on disk must not matter.
        _write(second, dict(reversed(list(tree.items()))))
        seal_in_process(second)
        for name in ("manifest.json", "MANIFEST.sha256", "run.json"):
            assert (first / name).read_bytes() == (second / name).read_bytes()
        shutil.rmtree(second)
