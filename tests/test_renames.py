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
    after = plain(after)
    # An empty successor would hold no artifact, so it would be no snapshot at all.
    return before, after or {"kept": b"a\n"}


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
    _, record = log_records(ws)
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


# ---------------------------------------------------------------- records, readers, versions

#: One file renamed (same bytes), one edited, one removed, one added.
RENAME_BEFORE = {"old.txt": b"moved\n", "edit.txt": b"1\n", "gone.txt": b"g\n"}
RENAME_AFTER = {"new.txt": b"moved\n", "edit.txt": b"2\n", "fresh.txt": b"f\n"}


def renamed_workspace(root: Path, record_version: str | None) -> DeltaWorkspace:
    ws = workspace(root, record_version)
    snapshot(ws, BEFORE, RENAME_BEFORE)
    snapshot(ws, AFTER, RENAME_AFTER)
    return ws


def test_a_v0_2_record_lists_the_rename_and_delta_show_prints_it_like_git_name_status(tmp_path: Path) -> None:
    ws = renamed_workspace(tmp_path / "ws", "0.2")
    ws.build_ok(at=build_at(1))
    bootstrap, transition = log_records(ws)
    assert bootstrap["renamed_paths"] == []
    assert transition["renamed_paths"] == [["tree/old.txt", "tree/new.txt"]]
    assert (transition["added_paths"], transition["removed_paths"], transition["modified_paths"]) == (
        ["tree/fresh.txt"],
        ["tree/gone.txt"],
        ["tree/edit.txt"],
    )
    # counts keep the three lists' sizes; the number of renames is len(renamed_paths).
    assert transition["counts"] == {"added": 1, "removed": 1, "modified": 1}
    shown = ws.govern("delta", "show", "--run", AFTER, subprocess=True)
    assert shown.returncode == 0, shown.stderr
    assert "1 added, 1 removed, 1 modified, 1 renamed" in shown.stdout
    assert "R\ttree/old.txt\ttree/new.txt" in shown.stdout.splitlines()
    lines = [line for line in shown.stdout.splitlines() if "\t" in line]
    assert lines == ["M\ttree/edit.txt", "A\ttree/fresh.txt", "D\ttree/gone.txt", "R\ttree/old.txt\ttree/new.txt"]
    as_json = ws.govern("--json", "delta", "show", "--run", AFTER).json()
    changes = as_json["result"]["transitions"][0]["changes"] if "result" in as_json else as_json["transitions"][0]["changes"]
    assert {"status": "R", "from": "tree/old.txt", "path": "tree/new.txt"} in changes
    # --path keeps a rename whose from-path or to-path is under it.
    for path in ("tree/old.txt", "tree/new.txt"):
        narrowed = ws.govern("delta", "show", "--path", path)
        assert "R\ttree/old.txt\ttree/new.txt" in narrowed.stdout.splitlines(), narrowed.stdout
    assert ws.govern("verify", "--log", subprocess=True).returncode == 0
    validated = ws.govern("validate", subprocess=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_a_v0_1_record_never_carries_renamed_paths_a_rename_is_a_removal_and_an_addition(tmp_path: Path) -> None:
    ws = renamed_workspace(tmp_path / "ws", None)
    ws.build_ok(at=build_at(1))
    records = log_records(ws)
    assert all(record["delta_version"] == "0.1" and "renamed_paths" not in record for record in records)
    transition = records[-1]
    assert (transition["added_paths"], transition["removed_paths"]) == (["tree/fresh.txt", "tree/new.txt"], ["tree/gone.txt", "tree/old.txt"])
    assert transition["counts"] == {"added": 2, "removed": 2, "modified": 1}
    shown = ws.govern("delta", "show", "--run", AFTER)
    assert "R\t" not in shown.stdout and "A\ttree/new.txt" in shown.stdout and "renamed" not in shown.stdout
    assert ws.govern("verify", "--log", subprocess=True).returncode == 0
    validated = ws.govern("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_a_log_moved_from_0_1_to_0_2_holds_both_versions_and_verifies_and_validates(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws", None)
    snapshot(ws, BEFORE, RENAME_BEFORE)
    ws.build_ok(at=build_at(1))
    workspace_config = tmp_path / "ws" / "registry_config.toml"
    config = tomllib.loads(workspace_config.read_text(encoding="utf-8"))
    config["workspace"]["record_version"] = "0.2"
    workspace_config.write_text(tomli_w.dumps(config), encoding="utf-8")
    snapshot(ws, AFTER, RENAME_AFTER)
    ws.build_ok(at=build_at(2))
    first, second = log_records(ws)
    assert (first["delta_version"], "renamed_paths" in first) == ("0.1", False)
    assert (second["delta_version"], second["renamed_paths"]) == ("0.2", [["tree/old.txt", "tree/new.txt"]])
    assert ws.govern("verify", "--log", subprocess=True).returncode == 0
    assert ws.govern("validate").returncode == 0
    shown = ws.govern("delta", "show").stdout
    assert "A\ttree/old.txt" in shown and "R\ttree/old.txt\ttree/new.txt" in shown


def _as_an_earlier_build_wrote_it(original):
    """DeltaRecord.to_json as builds before rename detection wrote v0.2 records: no renamed_paths,
    a rename a removal and an addition."""

    def to_json(record: DeltaRecord) -> dict[str, Any]:
        import attrs

        shown = original(attrs.evolve(record, delta=record.delta.without_renames()))
        shown.pop("renamed_paths", None)
        return shown

    return to_json


def test_a_v0_2_log_with_records_with_and_without_renamed_paths_verifies_validates_and_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace(tmp_path / "ws", "0.2")
    snapshot(ws, BEFORE, RENAME_BEFORE)
    snapshot(ws, AFTER, RENAME_AFTER)
    with monkeypatch.context() as patch:
        patch.setattr(DeltaRecord, "to_json", _as_an_earlier_build_wrote_it(DeltaRecord.to_json))
        ws.build_ok(at=build_at(1))
    later = "2024-01-03__000000__later"
    snapshot(ws, later, {"newer.txt": b"moved\n", "edit.txt": b"2\n", "fresh.txt": b"f\n"})
    ws.build_ok(at=build_at(2))
    old_bootstrap, old_transition, new_transition = log_records(ws)
    assert "renamed_paths" not in old_bootstrap and "renamed_paths" not in old_transition
    assert old_transition["added_paths"] == ["tree/fresh.txt", "tree/new.txt"]
    assert new_transition["renamed_paths"] == [["tree/new.txt", "tree/newer.txt"]]
    verified = ws.govern("verify", "--log", subprocess=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    validated = ws.govern("validate", subprocess=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    shown = ws.govern("delta", "show")
    assert shown.returncode == 0
    assert "A\ttree/new.txt" in shown.stdout and "R\ttree/new.txt\ttree/newer.txt" in shown.stdout
    # The policy checker reads both: the rename away from tree/new.txt is a removal for never_remove.
    config_path = tmp_path / "ws" / "registry_config.toml"
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    config["policies"] = {"never_remove": ["tree/new.txt"]}
    config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    checked = ws.govern("check")
    violations = [line for line in checked.stdout.splitlines() if line.startswith("VIOLATION")]
    assert checked.returncode == 1 and violations == [f"VIOLATION  tree@{later}:never_remove"], checked.stdout
    assert "removed or renamed: tree/new.txt" in checked.stdout


def test_the_v0_2_schema_accepts_records_with_and_without_renamed_paths_and_refuses_bad_ones(tmp_path: Path) -> None:
    ws = renamed_workspace(tmp_path / "ws", "0.2")
    ws.build_ok(at=build_at(1))
    record = log_records(ws)[-1]
    check = delta_record_checker()
    without = {key: value for key, value in record.items() if key != "renamed_paths"}
    assert check(record) == [] and check(without) == []
    for bad in ([["tree/old.txt"]], [["tree/a", "tree/b", "tree/c"]], [["", "tree/b"]], "tree/old.txt", [["tree/a", "tree/b"], ["tree/a", "tree/b"]]):
        assert check({**record, "renamed_paths": bad}), bad
    unknown = {**without, "delta_basis": "unknown", "unknown_reason": "r", "added_paths": [], "removed_paths": [], "modified_paths": [],
               "counts": {"added": None, "removed": None, "modified": None}}
    assert check({**unknown, "renamed_paths": []}) == [] and check(unknown) == []
    assert check({**unknown, "renamed_paths": [["tree/a", "tree/b"]]})
    # v0.1 never carries the field.
    assert check({**without, "delta_version": "0.1", "renamed_paths": []})


def test_enforce_refuses_a_rename_of_a_path_that_must_never_be_removed(tmp_path: Path) -> None:
    ws = renamed_workspace(tmp_path / "ws", "0.2")
    config_path = tmp_path / "ws" / "registry_config.toml"
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    config["policies"] = {"never_remove": ["tree/old.txt"]}
    config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    before = ws.photograph()
    refused = ws.build("--enforce", at=build_at(1))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "never_remove" in refused.stdout + refused.stderr and "tree/old.txt" in refused.stdout + refused.stderr
    assert ws.photograph() == before


def test_the_reports_find_a_build_from_before_renames_deterministic_and_read_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation report rebuilds the latest build and compares bytes: a v0.2 build written
    before renames were detected is rebuilt as it was written (its renames among the removed and
    added), not flagged as non-deterministic."""
    ws = renamed_workspace(tmp_path / "ws", "0.2")
    with monkeypatch.context() as patch:
        patch.setattr(DeltaRecord, "to_json", _as_an_earlier_build_wrote_it(DeltaRecord.to_json))
        ws.build_ok(at=build_at(1))
    assert all("renamed_paths" not in record for record in log_records(ws))
    report = ws.govern("--json", "report", "validation")
    checks = {check["name"]: check for check in report.json()["result"]["context"]["checks"]}
    assert checks["determinism"]["status"] == "passed", checks["determinism"]
    assert checks["schema validation"]["status"] == "passed", checks["schema validation"]
    completion = ws.govern("report", "completion")
    assert "Traceback" not in completion.stderr and completion.stdout


def test_a_build_with_renames_is_found_deterministic_by_the_validation_report(tmp_path: Path) -> None:
    ws = renamed_workspace(tmp_path / "ws", "0.2")
    ws.build_ok(at=build_at(1))
    report = ws.govern("--json", "report", "validation")
    checks = {check["name"]: check for check in report.json()["result"]["context"]["checks"]}
    assert checks["determinism"]["status"] == "passed", checks["determinism"]


def test_a_delta_refuses_a_rename_that_is_also_added_removed_or_in_another_rename() -> None:
    from govern.format.models import Delta

    for bad in (
        {"renamed": [("a", "b")], "added": ["b"]},
        {"renamed": [("a", "b")], "removed": ["a"]},
        {"renamed": [("a", "b")], "modified": ["b"]},
        {"renamed": [("a", "b"), ("a", "c")]},
        {"renamed": [("a", "c"), ("b", "c")]},
    ):
        with pytest.raises(ValueError, match="renamed path"):
            Delta("manifest_diff", **bad)
    with pytest.raises(ValueError):
        Delta("unknown", unknown_reason="r", renamed=[("a", "b")])
    delta = Delta("manifest_diff", added=["z"], removed=["y"], renamed=[("b", "a")])
    assert delta.without_renames() == Delta("manifest_diff", added=["a", "z"], removed=["b", "y"])
