"""Exact renames in delta records (issue 17, point 3): record version 0.2's ``renamed_paths``.

A path removed and another added with the same SHA-256 in one ``manifest_diff`` transition is
a rename; several sharing a digest pair in sorted order. The oracle is real ``git diff -M100%
--name-status`` between two commits of the same trees as two sealed runs recorded by a real
build: where git's pairing is unambiguous (one removed and one added path with that content) it
must agree exactly; where several candidates share content, git's pairing is its own, so the
record is held to our deterministic rule and to git's number of renames. v0.1 records never
carry the field; v0.2 records written before renames were detected lack it, and every reader
takes both.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace, build_at
from govern.format.models import DeltaRecord
from govern.format.renames import pair_exact_renames
from govern.log.validation import delta_record_checker
from helpers import run_govern_process

ARTIFACT = "tree"
#: A small pool, so that digests collide: renames are ambiguous as often as not.
CONTENTS = (b"", b"a\n", b"b\n", b"c\n", "caf\u00e9\n".encode())
NAMES = ("a", "b", "c.txt", "d", "\u00e9t\u00e9", "z")
BEFORE = "2024-01-01__000000__before"
AFTER = "2024-01-02__000000__after"


# ---------------------------------------------------------------- the pairing rule


def test_the_ith_removed_path_of_a_digest_pairs_with_the_ith_added_one_in_sorted_order() -> None:
    removed = [("old/b", "x"), ("old/a", "x"), ("old/c", "x"), ("gone", "y")]
    added = [("new/2", "x"), ("new/1", "x"), ("fresh", "z")]
    renames, still_removed, still_added = pair_exact_renames(removed, added)
    assert renames == [("old/a", "new/1"), ("old/b", "new/2")]
    assert (still_removed, still_added) == (["gone", "old/c"], ["fresh"])


def test_sorting_is_by_the_paths_utf8_bytes() -> None:
    # "\u00e9" (C3 A9) sorts after "z" (7A) by bytes, as by code point.
    renames, _, _ = pair_exact_renames([("\u00e9", "x"), ("z", "x")], [("2", "x"), ("1", "x")])
    assert renames == [("z", "1"), ("\u00e9", "2")]


@given(
    removed=st.dictionaries(st.text(min_size=1, max_size=3), st.sampled_from("xyz"), max_size=8),
    added=st.dictionaries(st.text(min_size=1, max_size=3), st.sampled_from("xyz"), max_size=8),
)
def test_every_path_is_renamed_removed_or_added_exactly_once(removed: dict[str, str], added: dict[str, str]) -> None:
    renames, still_removed, still_added = pair_exact_renames(list(removed.items()), list(added.items()))
    assert sorted([old for old, _ in renames] + still_removed) == sorted(removed)
    assert sorted([new for _, new in renames] + still_added) == sorted(added)
    assert all(removed[old] == added[new] for old, new in renames)
    # Maximal: no digest is left both removed and added.
    assert not {removed[p] for p in still_removed} & {added[p] for p in still_added}
    key = lambda path: path.encode("utf-8", "surrogatepass")  # noqa: E731
    for digest in set(removed.values()):
        olds = sorted((p for p, d in removed.items() if d == digest), key=key)
        news = sorted((p for p, d in added.items() if d == digest), key=key)
        assert [pair for pair in renames if removed[pair[0]] == digest] == list(zip(olds, news, strict=False))


# ---------------------------------------------------------------- a workspace


def workspace(root: Path, record_version: str | None, registries: dict[str, Any] | None = None) -> DeltaWorkspace:
    """A workspace with one sealed registry whose artifact is the folder ``tree``."""
    ws = DeltaWorkspace.create(root, registries or {"tree": {"kind": "sealed", "artifact": ARTIFACT}})
    if record_version is not None:
        config_path = root / "registry_config.toml"
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        config["workspace"]["record_version"] = record_version
        config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return ws


def snapshot(ws: DeltaWorkspace, run_id: str, tree: dict[str, bytes]) -> None:
    ws.run(run_id, {f"{ARTIFACT}/{path}": data for path, data in tree.items()})


def log_records(ws: DeltaWorkspace) -> list[dict[str, Any]]:
    """The latest build's records, each held to the schema of the version it states."""
    check = delta_record_checker()
    records = [json.loads(line) for line in ws.log_bytes().splitlines()]
    for record in records:
        assert check(record) == [], record
    return records


# ---------------------------------------------------------------- git as the oracle


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
    done = subprocess.run(["git", "-c", "core.autocrlf=false", "-c", "core.quotepath=false", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout


def git_name_status(repo: Path, before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, Any]:
    """``git diff -M100% --name-status`` between commits of ``before`` and ``after``."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    commits = []
    for tree in (before, after):
        _git(repo, "rm", "-rq", "--ignore-unmatch", ".")
        for path, data in tree.items():
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", "tree")
        commits.append(_git(repo, "rev-parse", "HEAD").decode().strip())
    fields = _git(repo, "diff", "-M100%", "--name-status", "-z", *commits).decode("utf-8").split("\0")[:-1]
    found: dict[str, Any] = {"A": set(), "D": set(), "M": set(), "R": set()}
    while fields:
        status = fields.pop(0)
        if status.startswith("R"):
            assert status == "R100", status  # exact renames only
            found["R"].add((fields.pop(0), fields.pop(0)))
        else:
            found[status].add(fields.pop(0))  # a KeyError: a status this test does not expect
    return found


def random_trees(rng: random.Random) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A random tree (contents from a small pool) and a successor made by random renames,
    edits, deletions and additions."""

    def path() -> str:
        return "/".join(rng.choice(NAMES) for _ in range(rng.randint(1, 3)))

    def plain(tree: dict[str, bytes]) -> dict[str, bytes]:
        # A path cannot be a file and a folder at once: drop files other paths need as folders.
        folders = {p.rsplit("/", i)[0] for p in tree for i in range(1, p.count("/") + 1)}
        return {p: data for p, data in tree.items() if p not in folders}

    before = plain({path(): rng.choice(CONTENTS) for _ in range(rng.randint(1, 12))})
    after = dict(before)
    for name in sorted(before):
        action = rng.choice(("keep", "keep", "rename", "rename", "edit", "delete"))
        if action == "rename":
            after[path()] = after.pop(name)
        elif action == "edit":
            after[name] = rng.choice(CONTENTS)
        elif action == "delete":
            del after[name]
    for _ in range(rng.randint(0, 3)):
        after[path()] = rng.choice(CONTENTS)
    return before, plain(after)


def by_digest(tree: dict[str, bytes], paths: set[str]) -> dict[bytes, list[str]]:
    grouped: dict[bytes, list[str]] = defaultdict(list)
    for p in sorted(paths, key=lambda p: p.encode("utf-8")):
        grouped[tree[p]].append(p)
    return grouped


@pytest.mark.parametrize("seed", range(40))
def test_renames_of_a_build_agree_with_git_diff_m100(tmp_path: Path, seed: int) -> None:
    before, after = random_trees(random.Random(seed))
    ws = workspace(tmp_path / "ws", "0.2")
    snapshot(ws, BEFORE, before)
    snapshot(ws, AFTER, after)
    ws.build_ok(at=build_at(1))
    record = log_records(ws)[-1]
    assert record["delta_version"] == "0.2" and record["delta_basis"] == "manifest_diff"

    def local(paths: list[str]) -> set[str]:
        return {p.removeprefix(f"{ARTIFACT}/") for p in paths}

    ours = {
        "A": local(record["added_paths"]),
        "D": local(record["removed_paths"]),
        "M": local(record["modified_paths"]),
        "R": {(old.removeprefix(f"{ARTIFACT}/"), new.removeprefix(f"{ARTIFACT}/")) for old, new in record["renamed_paths"]},
    }
    git = git_name_status(tmp_path / "git", before, after)
    assert ours["M"] == git["M"]
    # Without renames both say the same: everything gone is removed, everything new added.
    gone, new = set(before) - set(after), set(after) - set(before)
    assert ours["D"] | {old for old, _ in ours["R"]} == git["D"] | {old for old, _ in git["R"]} == gone
    assert ours["A"] | {new for _, new in ours["R"]} == git["A"] | {new for _, new in git["R"]} == new
    removed_by, added_by = by_digest(before, gone), by_digest(after, new)
    for content in set(removed_by) & set(added_by):
        olds, news = removed_by[content], added_by[content]
        ours_here = sorted(pair for pair in ours["R"] if before[pair[0]] == content)
        git_here = sorted(pair for pair in git["R"] if before[pair[0]] == content)
        if len(olds) == len(news) == 1:
            assert ours_here == git_here == [(olds[0], news[0])]
        else:
            # Ambiguous: git pairs by its own order; ours is the sorted rule, and as many.
            assert ours_here == sorted(zip(olds, news, strict=False))
            assert len(ours_here) == len(git_here)
    assert len(ours["R"]) == len(git["R"])
    assert record["counts"] == {"added": len(ours["A"]), "removed": len(ours["D"]), "modified": len(ours["M"])}
    assert record["renamed_paths"] == sorted(record["renamed_paths"])


def test_a_seeded_case_covers_unambiguous_and_ambiguous_renames(tmp_path: Path) -> None:
    """The oracle's seeds are not all trivial: among them are both kinds of rename groups."""
    kinds = set()
    for seed in range(40):
        before, after = random_trees(random.Random(seed))
        gone, new = set(before) - set(after), set(after) - set(before)
        removed_by, added_by = by_digest(before, gone), by_digest(after, new)
        for content in set(removed_by) & set(added_by):
            kinds.add(len(removed_by[content]) == len(added_by[content]) == 1)
    assert kinds == {True, False}
