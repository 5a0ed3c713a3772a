"""Real git repositories for the ``git`` kind's tests, made with the ``git`` command.

:class:`GitRepo` runs git with fixed identities and dates (the same steps give the same commit
ids); :func:`random_history` grows a seeded random first-parent history — files added,
modified, removed and renamed in nested folders, symlinks, merges of side branches — and
:func:`name_status` is the oracle the kind's deltas are held to: ``git diff --no-renames
--name-status`` between two commits.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}


class GitRepo:
    """A repository at ``path`` driven through the ``git`` command."""

    def __init__(self, path: Path, object_format: str = "sha1") -> None:
        self.path = path
        self.clock = 1_700_000_000
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", f"--object-format={object_format}", "-b", "main")

    def git(self, *arguments: str, stdin: bytes | None = None) -> str:
        """Run git in the repository; its stdout."""
        env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": f"@{self.clock} +0000", "GIT_COMMITTER_DATE": f"@{self.clock} +0000"}
        done = subprocess.run(["git", "-C", str(self.path), *arguments], input=stdin, capture_output=True, env=env, check=False)
        assert done.returncode == 0, f"git {' '.join(arguments)}: {done.stderr.decode()}"
        return done.stdout.decode("utf-8", "surrogateescape")

    def write(self, relpath: str, data: bytes) -> None:
        """Write a file of the working tree (folders made as needed)."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)

    def commit(self, message: str = "change", *, allow_empty: bool = False) -> str:
        """Stage everything and commit; the new commit id."""
        self.clock += 60
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message, *(["--allow-empty"] if allow_empty else []))
        return self.head()

    def head(self) -> str:
        """The commit id of HEAD."""
        return self.git("rev-parse", "HEAD").strip()


def files_of(repo: GitRepo) -> list[str]:
    """The files (and symlinks) of the working tree, sorted."""
    found = []
    for folder, dirs, files in os.walk(repo.path):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found.extend(Path(folder, name).relative_to(repo.path).as_posix() for name in files)
    return sorted(found)


def _random_change(repo: GitRepo, rng: random.Random, step: int) -> None:
    files = files_of(repo)
    folders = ["", "data/", "data/deep/", "docs/", "ünï/"]
    action = rng.choice(["add", "add", "modify", "modify", "remove", "rename", "symlink"]) if files else "add"
    if action == "add":
        repo.write(f"{rng.choice(folders)}f{step}_{rng.randrange(1000)}.txt", f"content {step} {rng.random()}\n".encode())
    elif action == "modify":
        path = rng.choice(files)
        target = repo.path / path
        if target.is_symlink():
            target.unlink()  # a symlink becomes a file: git shows a type change
        repo.write(path, f"modified {step} {rng.random()}\n".encode())
    elif action == "remove":
        (repo.path / rng.choice(files)).unlink()
    elif action == "rename":
        source = rng.choice(files)
        target = repo.path / f"{rng.choice(folders)}moved_{step}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(repo.path / source, target)
    else:
        link = repo.path / f"{rng.choice(folders)}link_{step}"
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(rng.choice(["../target", "f1.txt", f"somewhere/{step}"]), link)


def random_history(repo: GitRepo, seed: int, commits: int) -> None:
    """A seeded random history on ``main``: each commit changes one to three paths; now and
    then a side branch of a few commits is merged with ``--no-ff`` (a merge commit on the
    first-parent history whose diff is the side branch's work), and now and then a commit
    changes nothing the registry's folder holds."""
    rng = random.Random(seed)
    repo.write("README", b"start\n")
    repo.commit("root")
    for step in range(commits):
        if step % 7 == 3:
            repo.git("checkout", "-q", "-b", f"side{step}")
            for side in range(rng.randint(1, 3)):  # the side branch's own folder: merges never conflict
                repo.write(f"data/side{step}/s{side % 2}.txt", f"side {step} {side}\n".encode())
                repo.commit(f"side {step}.{side}")
            repo.git("checkout", "-q", "main")
            _random_change(repo, rng, step * 100 + 50)  # main moves too: a real merge
            repo.commit(f"main {step}", allow_empty=True)
            repo.clock += 60
            repo.git("merge", "-q", "--no-ff", "-m", f"merge {step}", f"side{step}")
            continue
        if step % 5 == 4:
            repo.write("outside/note.txt", f"note {step}\n".encode())  # outside data/
        else:
            for change in range(rng.randint(1, 3)):
                _random_change(repo, rng, step * 10 + change)
        repo.commit(f"step {step}", allow_empty=True)


def name_status(repo: GitRepo, before: str | None, after: str, subtree: str = "") -> dict[str, set[str]]:
    """The oracle: ``git diff --no-renames --name-status`` from ``before`` (None: the empty
    tree) to ``after``, limited to ``subtree`` with paths relative to it, as
    ``{"A": paths, "D": paths, "M": paths}`` (a type change counts as a modification)."""
    empty = repo.git("hash-object", "-t", "tree", "--stdin", stdin=b"").strip()
    arguments = ["diff", "--no-renames", "--name-status", "-z", before or empty, after]
    if subtree:
        arguments[1:1] = [f"--relative={subtree}"]
    fields = repo.git(*arguments).split("\0")
    result: dict[str, set[str]] = {"A": set(), "D": set(), "M": set()}
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if status:
            result["M" if status == "T" else status].add(path)
    return result
