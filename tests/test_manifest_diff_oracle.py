"""manifest_diff against git as an oracle, on random trees (hypothesis).

For two random trees (nested folders, empty and binary files, a non-ASCII name, files turned
into folders and back), the paths ``manifest_diff`` finds added, removed and modified between
the two *sealed* manifests must be exactly what ``git diff --no-renames --name-status`` reports
between two commits of the same trees — for the whole run and for a folder artifact.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.format.artifact_paths import artifact_entries
from govern.runs.snapshots import diff_entries
from govern.seal.seal_file import read_seal
from helpers import make_run, seal_in_process

#: Lower-case only: sealing refuses names that collide after case-folding.
NAMES = ("a", "b", "c.txt", "d.md", "\u00e9t\u00e9")
CONTENTS = (b"", b"x", b"x\n", b"y\n", b"\x00\xff binary", "caf\u00e9\n".encode())
#: Artifacts the diff is taken under: the whole run, or a folder (which may be absent).
ARTIFACTS = (None, "a", "b", "\u00e9t\u00e9")

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)


def without_conflicts(tree: dict[str, bytes]) -> dict[str, bytes]:
    """Drop files that other paths need as folders (a path cannot be both)."""
    folders = {path.rsplit("/", i)[0] for path in tree for i in range(1, path.count("/") + 1)}
    return {path: data for path, data in tree.items() if path not in folders}


trees = st.dictionaries(paths, st.sampled_from(CONTENTS), min_size=2, max_size=14).map(without_conflicts)


@st.composite
def tree_pairs(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A tree, and a successor that keeps, rewrites (maybe to the same bytes) or drops each
    file and adds new ones."""
    before = draw(trees)
    after: dict[str, bytes] = {}
    for path, data in sorted(before.items()):
        action = draw(st.sampled_from(("rewrite", "drop", "keep")))
        if action == "keep":
            after[path] = data
        elif action == "rewrite":
            after[path] = draw(st.sampled_from(CONTENTS))
    after.update(draw(st.dictionaries(paths, st.sampled_from(CONTENTS), min_size=1, max_size=4)))
    return before, without_conflicts(after)


def _git(repo: Path, *args: str) -> bytes:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout


def _write_tree(root: Path, tree: dict[str, bytes]) -> None:
    for path, data in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def git_name_status(work: Path, before: dict[str, bytes], after: dict[str, bytes], artifact: str | None) -> dict[str, set[str]]:
    """added/removed/modified paths by ``git diff --no-renames --name-status`` of two commits."""
    repo = work / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    commits = []
    for tree in (before, after):
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        _write_tree(repo, tree)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", "tree")
        commits.append(_git(repo, "rev-parse", "HEAD").decode().strip())
    pathspec = ["--", artifact] if artifact is not None else []
    output = _git(repo, "diff", "--no-renames", "--name-status", "-z", *commits, *pathspec)
    fields = output.decode("utf-8").split("\0")[:-1] if output else []
    found: dict[str, set[str]] = {"A": set(), "D": set(), "M": set()}
    for status, path in zip(fields[::2], fields[1::2]):
        found[status].add(path)  # a KeyError here would be a status this test does not expect
    return {"added": found["A"], "removed": found["D"], "modified": found["M"]}


def manifest_diff(work: Path, before: dict[str, bytes], after: dict[str, bytes], artifact: str | None) -> dict[str, set[str]]:
    """added/removed/modified paths by manifest_diff on the two trees sealed as runs."""
    entries = []
    for run_id, tree in (("2024-01-01__000000__before", before), ("2024-01-02__000000__after", after)):
        run_dir = make_run(work / "runs", run_id, tree)
        seal_in_process(run_dir)
        seal = read_seal(run_dir)
        assert seal.ok and seal.manifest is not None, seal.problems
        # run.json (written by sealing, naming each run) is not part of the random trees.
        found = artifact_entries(seal.manifest.files, artifact)
        found.pop("run.json", None)
        entries.append(found)
    # Record version 0.1's view: a rename is its removal and its addition (renames: test_renames.py).
    delta = diff_entries(*entries).without_renames()
    for listed in (delta.added, delta.removed, delta.modified):
        assert list(listed) == sorted(listed)
    return {"added": set(delta.added), "removed": set(delta.removed), "modified": set(delta.modified)}


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tree_pairs(), artifact=st.sampled_from(ARTIFACTS))
def test_manifest_diff_agrees_with_git(pair: tuple[dict[str, bytes], dict[str, bytes]], artifact: str | None) -> None:
    before, after = pair
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        expected = git_name_status(work, before, after, artifact)
        assert manifest_diff(work, before, after, artifact) == expected


def test_the_oracle_sees_every_kind_of_change(tmp_path: Path) -> None:
    """The oracle itself is exercised: a fixed pair with an add, a removal, a modification,
    an unchanged file and a file that became a folder."""
    before = {"a/keep": b"k", "a/gone": b"g", "a/edit": b"1", "a/flip": b"file", "b": b"outside"}
    after = {"a/keep": b"k", "a/new": b"n", "a/edit": b"2", "a/flip/inner": b"folder", "b": b"changed"}
    expected = {"added": {"a/new", "a/flip/inner"}, "removed": {"a/gone", "a/flip"}, "modified": {"a/edit"}}
    assert git_name_status(tmp_path / "git", before, after, "a") == expected
    assert manifest_diff(tmp_path / "seal", before, after, "a") == expected
