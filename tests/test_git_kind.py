"""Registry kind ``git`` (issue 16, point 3): a repository's first-parent history read where it is.

The deltas between consecutive snapshots are held to git's own ``git diff --no-renames
--name-status`` on seeded random histories (files added, modified, removed, renamed, symlinks,
merges, commits outside the folder); a SHA-256 object-format repository, which libgit2 cannot
open, is read through the ``git`` command and gives the same states; the blob-digest cache
survives damage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from git_repositories import GitRepo, name_status, random_history
from govern.errors import GovernError
from govern.format.models import SourceVersion
from govern.plugins.git_history.history import CommitChanges
from source_kind import SourceWorkspace

CONFIG = '\n[registries.tracked]\nkind = "git"\nrepo = "{repository}"\nref = "{ref}"\n{path}'


def configure(workspace: Path, repository: str, ref: str = "main", path: str | None = None, registry_id: str = "tracked") -> None:
    """Add a registry of kind git (``tracked`` by default) to the workspace's registry_config.toml."""
    line = f'path = "{path}"\n' if path is not None else ""
    with (workspace / "registry_config.toml").open("a", encoding="utf-8") as config:
        config.write(CONFIG.format(repository=repository, ref=ref, path=line).replace("tracked", registry_id))


def versions(workspace: Path, registry_id: str = "tracked") -> list[SourceVersion]:
    """The registry's versions through the plugin host (the hook a build calls)."""
    from govern.config.workspace import load_workspace
    from govern.host.manager import PluginHost
    from govern.runtime.progress import NO_PROGRESS

    host = PluginHost()
    host.load_plugins(entry_points=[])
    loaded = load_workspace(explicit=workspace)
    found = host.source_versions(loaded.registry(registry_id), loaded, NO_PROGRESS)
    assert found is not None
    return found


def entry_changes(before: SourceVersion | None, after: SourceVersion) -> dict[str, set[str]]:
    """What the build's manifest diff sees between two states, in git's letters."""
    old = before.entries if before is not None else {}
    new = after.entries
    return {
        "A": set(new) - set(old),
        "D": set(old) - set(new),
        "M": {path for path in new if path in old and old[path] != new[path]},
    }


def assert_matches_git(repo: GitRepo, found: list[SourceVersion], subtree: str) -> None:
    """The snapshots are the first-parent commits touching the folder, and each delta is git's."""
    expected = repo.git("rev-list", "--first-parent", "--reverse", "main", "--", subtree or ".").split()
    assert [v.version for v in found] == expected
    previous = None
    for version in found:
        assert version.pin == f"git:{version.version}"
        assert entry_changes(previous, version) == name_status(repo, previous.version if previous else None, version.version, subtree), version.version
        previous = version


def working_tree_digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` on disk (a symlink: of its target's text)."""
    digests = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            full = Path(folder, name)
            data = os.readlink(full).encode() if full.is_symlink() else full.read_bytes()
            digests[full.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return digests


def tree_states(commits: list[CommitChanges]) -> Iterator[dict[str, tuple[str, int]]]:
    """The folder's state (path -> object id and mode) at each snapshot commit."""
    state: dict[str, tuple[str, int]] = {}
    for commit in commits:
        for change in commit.changes:
            if change.object_id is None:
                state.pop(change.path, None)
        state.update((c.path, (c.object_id, c.mode)) for c in commit.changes if c.object_id is not None)
        yield dict(state)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("subtree", ["", "data"])
def test_deltas_of_a_random_history_equal_git_diff_name_status(workspace: Path, seed: int, subtree: str) -> None:
    repo = GitRepo(workspace / "repo")
    random_history(repo, seed, 40)
    configure(workspace, "repo", path=subtree or None)
    found = versions(workspace)
    assert len(found) > 10
    assert_matches_git(repo, found, subtree)
    # the last state is the checked-out tree, hashed independently from disk
    assert found[-1].entries == working_tree_digests(repo.path / subtree)
    assert {v.location for v in found} == {"repo"}
    for version in (found[0], found[-1]):  # the committer date, in UTC
        committed = int(repo.git("show", "-s", "--format=%ct", version.version))
        assert version.created_utc == dt.datetime.fromtimestamp(committed, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_sha256_repository_is_read_through_the_git_command_with_the_same_states(workspace: Path) -> None:
    from govern.plugins.git_history.libgit2_reader import Libgit2Reader
    from govern.plugins.git_history.source import GitSource

    sha1 = GitRepo(workspace / "sha1")
    sha256 = GitRepo(workspace / "sha256", object_format="sha256")
    for repo in (sha1, sha256):
        random_history(repo, 7, 30)
    assert Libgit2Reader.open(GitSource("tracked", sha256.path, "sha256", "main", "")) is None  # so the git command reads it
    configure(workspace, "sha256", path="data")
    configure(workspace, "sha1", path="data", registry_id="twin")
    found = versions(workspace)
    assert all(len(v.version) == 64 for v in found)
    assert_matches_git(sha256, found, "data")
    # the same content history in a SHA-1 repository, read by libgit2: the same states and dates
    twin = versions(workspace, "twin")
    assert [(v.entries, v.created_utc) for v in twin] == [(v.entries, v.created_utc) for v in found]


def test_both_readers_give_the_same_snapshots_of_one_repository(workspace: Path) -> None:
    """The git command's reader and libgit2's agree commit for commit on a SHA-1 repository."""
    from govern.plugins.git_history.command_reader import CommandReader
    from govern.plugins.git_history.libgit2_reader import Libgit2Reader
    from govern.plugins.git_history.source import GitSource

    repo = GitRepo(workspace / "repo")
    random_history(repo, 11, 30)
    for subtree in ("", "data"):
        source = GitSource("tracked", repo.path, "repo", "main", subtree)
        libgit2 = Libgit2Reader.open(source)
        assert libgit2 is not None
        command = CommandReader.open(source)
        by_libgit2 = libgit2.snapshot_commits(source)
        by_command = command.snapshot_commits(source)
        # libgit2 gives a type change as a removal and an addition, git diff-tree as one change: compare states
        assert [(c.commit_id, c.committed_utc) for c in by_libgit2] == [(c.commit_id, c.committed_utc) for c in by_command]
        assert list(tree_states(by_libgit2)) == list(tree_states(by_command))
        blobs = [ch.object_id for c in by_command for ch in c.changes if ch.object_id is not None]
        assert dict(libgit2.blob_contents(blobs)) == dict(command.blob_contents(blobs))


# ------------------------------------------------------------------------------ end to end: delta build


def git_workspace(root: Path, keys: dict[str, Any]) -> SourceWorkspace:
    """A workspace writing record version 0.2 with registry ``tracked`` of kind git (``keys``: its table's other keys)."""
    return SourceWorkspace.create(root, {"tracked": {"kind": "git", **keys}})


def test_a_build_records_every_snapshot_commit_and_verify_and_validate_accept_them(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws", {"repo": "repo", "ref": "refs/heads/main", "path": "data"})
    repo = GitRepo(ws.root / "repo")
    random_history(repo, 5, 25)
    built = ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z")
    assert built.returncode == 0, built.stdout + built.stderr
    records = ws.log_records()
    commits = repo.git("rev-list", "--first-parent", "--reverse", "main", "--", "data").split()
    assert [r["to_ref"]["version"] for r in records] == commits
    previous = None
    for record in records:
        commit = record["to_ref"]["version"]
        assert record["to_ref"]["source"] == "git" and record["to_ref"]["pin"] == f"git:{commit}" and record["to_ref"]["location"] == "repo"
        oracle = name_status(repo, previous, commit, "data")
        # The oracle has no renames (--no-renames): a renamed pair is its removal and its addition.
        renamed_from = {old for old, _ in record["renamed_paths"]}
        renamed_to = {new for _, new in record["renamed_paths"]}
        assert (set(record["added_paths"]) | renamed_to, set(record["removed_paths"]) | renamed_from, set(record["modified_paths"])) == (oracle["A"], oracle["D"], oracle["M"])
        previous = commit
    assert ws.cli("verify", "--log").returncode == 0
    validated = ws.cli("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "up to date" in ws.cli("delta", "build", "--at", "2030-01-02T00:00:00Z").stdout
    repo.write("data/new.txt", b"new\n")
    repo.write("outside.txt", b"not in data/\n")
    new = repo.commit("one more")
    repo.write("outside.txt", b"still not in data/\n")
    repo.commit("outside only")
    assert ws.cli("delta", "build", "--at", "2030-01-03T00:00:00Z").returncode == 0
    last = ws.log_records()[-1]
    assert (last["to_ref"]["version"], last["added_paths"], last["from_ref"]) == (new, ["new.txt"], records[-1]["to_ref"])


def test_a_force_push_that_drops_a_recorded_commit_is_a_history_conflict_naming_it(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws", {"repo": "repo", "ref": "main"})
    repo = GitRepo(ws.root / "repo")
    repo.write("a.txt", b"one\n")
    repo.commit("one")
    repo.write("a.txt", b"two\n")
    dropped = repo.commit("two")
    assert ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z").returncode == 0
    log_before = ws.log_records()
    # the branch is rewritten: its last commit replaced by another (what a force-push leaves)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write("a.txt", b"TWO\n")
    repo.commit("two, rewritten")
    built = ws.cli_subprocess("delta", "build", "--at", "2030-01-02T00:00:00Z")  # the real console script
    assert built.returncode == 1
    assert built.stderr.startswith("govern: error: E_HISTORY_CONFLICT: tracked: ")
    assert dropped in built.stderr and "Traceback" not in built.stderr
    assert ws.log_records() == log_before  # nothing written
    verified = ws.cli("verify", "--log")
    assert verified.returncode == 1 and "E_HISTORY_CONFLICT" in verified.stdout + verified.stderr and dropped in verified.stdout + verified.stderr


# ------------------------------------------------------------------------------ what an entry is


def test_symlinks_are_their_target_text_and_submodules_the_commit_they_pin(workspace: Path) -> None:
    repo = GitRepo(workspace / "repo")
    repo.write("file.txt", b"content\n")
    os.symlink("file.txt", repo.path / "link")
    pinned = "1" * 40
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{pinned},vendor/lib")  # a gitlink, as a submodule leaves it
    repo.clock += 60
    repo.git("commit", "-q", "-m", "with a submodule")
    bumped = "2" * 40
    repo.git("update-index", "--cacheinfo", f"160000,{bumped},vendor/lib")
    repo.git("commit", "-q", "-m", "submodule bumped")
    configure(workspace, "repo")
    first, second = versions(workspace)
    sha = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    assert first.entries == {"file.txt": sha(b"content\n"), "link": sha(b"file.txt"), "vendor/lib": sha(pinned.encode())}
    assert entry_changes(first, second) == {"A": set(), "D": set(), "M": {"vendor/lib"}}
    assert second.entries["vendor/lib"] == sha(bumped.encode())


def test_a_commit_that_only_changes_a_mode_is_a_snapshot_without_changed_entries(workspace: Path) -> None:
    """Entries are contents: an executable bit set is a new tree (a snapshot) but no content change."""
    repo = GitRepo(workspace / "repo")
    repo.write("run.sh", b"#!/bin/sh\n")
    repo.commit("script")
    (repo.path / "run.sh").chmod(0o755)
    repo.commit("executable")
    configure(workspace, "repo")
    first, second = versions(workspace)
    assert second.entries == first.entries


# ------------------------------------------------------------------------------ the blob digest cache


def test_the_blob_digest_cache_is_checked_on_read_and_a_damaged_entry_is_hashed_again(workspace: Path) -> None:
    from govern.plugins.git_history.blob_digests import CACHE_FOLDER, CACHE_NAME

    repo = GitRepo(workspace / "repo")
    random_history(repo, 3, 15)
    configure(workspace, "repo")
    first = versions(workspace)
    cache = workspace / CACHE_FOLDER / CACHE_NAME
    lines = cache.read_text().splitlines(keepends=True)
    blobs = {line.split()[0] for line in lines}
    assert len(lines) == len(blobs)  # one line per blob, every blob's digest of the history
    assert {line.split()[1] for line in lines} == {digest for v in first for digest in v.entries.values()}
    oid, digest, check = lines[0].split()
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    damaged = [f"{oid} {wrong} {check}\n", *lines[1:-1], lines[-1][:30]]  # a flipped digit; a torn last line
    cache.write_text("".join(damaged))
    again = versions(workspace)
    assert [v.entries for v in again] == [v.entries for v in first]
    healed = cache.read_text()
    assert healed.startswith("".join(damaged) + "\n")  # only appended to: the two damaged entries hashed again
    assert sorted(healed[len("".join(damaged)) + 1 :].splitlines()) == sorted(line.rstrip("\n") for line in (lines[0], lines[-1]))
    assert versions(workspace) == again and cache.read_text() == healed  # all cached now: nothing appended


# ------------------------------------------------------------------------------ configuration and errors


def test_a_folder_that_is_no_repository_is_refused_even_inside_one(workspace: Path) -> None:
    """govern never looks above the configured folder for a repository (the workspace may sit in one)."""
    outer = GitRepo(workspace / "outer")
    outer.write("plain/file.txt", b"x\n")
    outer.commit("outer")
    configure(workspace, "outer/plain")
    with pytest.raises(GovernError) as raised:
        versions(workspace)
    assert raised.value.code == "E_GIT_UNREADABLE"
    assert "registries.tracked: outer/plain@main" in str(raised.value)


def test_a_ref_that_names_no_commit_is_refused_naming_it(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws", {"repo": "repo", "ref": "refs/heads/nope"})
    repo = GitRepo(ws.root / "repo")
    repo.write("a.txt", b"a\n")
    repo.commit()
    built = ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z")
    assert built.returncode == 2
    assert built.stderr.startswith("govern: error: E_GIT_UNREADABLE: registries.tracked: repo@refs/heads/nope: the ref names no commit")
    assert ws.latest_build() is None


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"repo": "repo"}, "registries.tracked.ref: required for kind 'git'"),
        ({"repo": "repo", "ref": "main", "path": "../up"}, "registries.tracked.path: '../up' must be a folder"),
        ({"repo": "repo", "ref": "main", "branch": "x"}, "extra fields found (branch) @ $.registries['tracked']"),
        ({"repo": "repo", "ref": "main", "object_id": "x"}, "registries.tracked.object_id: not a key of kind 'git' (kind ocfl_object uses it)"),
        # the layout issue 16 first shipped: the settings in the options table, told where they go now
        (
            {"ref": "main", "options": {"path": "data"}},
            "registries.tracked.options.path: unknown option for kind 'git' (it accepts no options); "
            "path is a key of the registry itself now: set registries.tracked.path",
        ),
        ({"ref": "main", "options": {"repository": "repo"}}, "registries.tracked.options.repository: unknown option for kind 'git'"),
    ],
)
def test_bad_keys_are_configuration_errors(tmp_path: Path, keys: dict[str, Any], message: str) -> None:
    ws = git_workspace(tmp_path / "ws", keys)
    GitRepo(ws.root / "repo")
    built = ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z")
    assert built.returncode == 2
    assert "E_CONFIG_INVALID" in built.stderr and message in built.stderr, built.stderr


def test_a_sha256_repository_builds_and_its_records_verify_and_validate(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws", {"repo": "repo", "ref": "main", "path": "data"})
    repo = GitRepo(ws.root / "repo", object_format="sha256")
    random_history(repo, 9, 12)
    built = ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z")
    assert built.returncode == 0, built.stdout + built.stderr
    records = ws.log_records()
    assert [r["to_ref"]["pin"] for r in records] == [f"git:{c}" for c in repo.git("rev-list", "--first-parent", "--reverse", "main", "--", "data").split()]
    assert all(len(r["to_ref"]["version"]) == 64 for r in records)
    assert ws.cli("verify", "--log").returncode == 0
    validated = ws.cli("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_a_path_that_is_not_utf8_is_refused_naming_the_commit(workspace: Path) -> None:
    repo = GitRepo(workspace / "repo")
    repo.write("ok.txt", b"fine\n")
    (repo.path / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"latin-1 name\n")
    commit = repo.commit("a latin-1 file name")
    configure(workspace, "repo")
    with pytest.raises(GovernError) as raised:
        versions(workspace)
    assert raised.value.code == "E_GIT_UNREADABLE"
    assert f"commit {commit} has a path that is not UTF-8" in str(raised.value)


def test_a_commit_holding_a_path_govern_cannot_record_stops_the_build_or_is_unknown(tmp_path: Path) -> None:
    """A backslash is a legal git path character and an unsafe manifest path: the versions
    holding it do not validate (E_SNAPSHOT_UNVERIFIED naming the commit), unless --allow-unknown."""
    ws = git_workspace(tmp_path / "ws", {"repo": "repo", "ref": "main"})
    repo = GitRepo(ws.root / "repo")
    repo.write("ok.txt", b"fine\n")
    good = repo.commit("fine")
    repo.write("back\\slash.txt", b"odd\n")
    bad = repo.commit("a backslash")
    (repo.path / "back\\slash.txt").unlink()
    repo.commit("gone again")
    built = ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z")
    assert built.returncode == 1
    assert "E_SNAPSHOT_UNVERIFIED" in built.stderr and bad in built.stderr and "back\\\\slash.txt" in built.stderr, built.stderr
    assert ws.latest_build() is None
    allowed = ws.cli("delta", "build", "--allow-unknown", "--at", "2030-01-01T00:00:00Z")
    assert allowed.returncode == 0, allowed.stderr
    bases = [(r["to_ref"]["version"], r["delta_basis"]) for r in ws.log_records()]
    assert bases[0] == (good, "manifest_diff") and bases[1] == (bad, "unknown") and bases[2][1] == "unknown"


def test_a_blob_missing_from_the_repository_is_refused_naming_it(workspace: Path) -> None:
    """As in a partial clone: the tree names a blob the object database does not hold."""
    repo = GitRepo(workspace / "repo")
    repo.write("a.txt", b"here\n")
    repo.write("b.txt", b"soon gone\n")
    repo.commit()
    absent = repo.git("rev-parse", "HEAD:b.txt").strip()
    (repo.path / ".git" / "objects" / absent[:2] / absent[2:]).unlink()  # a fresh commit's objects are loose
    configure(workspace, "repo")
    with pytest.raises(GovernError) as raised:
        versions(workspace)
    assert raised.value.code == "E_GIT_UNREADABLE" and f"blob {absent} cannot be read" in str(raised.value)


def test_a_cache_that_cannot_be_read_or_written_never_fails_a_read(workspace: Path) -> None:
    from govern.plugins.git_history.blob_digests import CACHE_FOLDER, CACHE_NAME

    repo = GitRepo(workspace / "repo")
    random_history(repo, 4, 6)
    configure(workspace, "repo")
    expected = versions(workspace)
    cache = workspace / CACHE_FOLDER / CACHE_NAME
    cache.unlink()
    cache.mkdir()  # a folder where the file should be: neither readable nor appendable as a file
    assert versions(workspace) == expected
