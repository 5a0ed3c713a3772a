"""A ``git`` registry's history read through the ``git`` command — for repositories libgit2
cannot open (SHA-256 object format). Three batch processes, whatever the history's length:
``git log --first-parent`` for the commits and their trees, ``git cat-file --batch-check`` for
the registry folder's tree at each, ``git diff-tree -r --no-renames -z --stdin`` for the tree
diffs between snapshots, and ``git cat-file --batch`` for the blobs."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from govern.plugins.git_history.history import Change, CommitChanges, decoded_path, utc_stamp

if TYPE_CHECKING:
    from govern.plugins.git_history.source import GitSource


class CommandReader:
    """Reads one repository through the ``git`` command."""

    def __init__(self, source: GitSource, git: str) -> None:
        self.source = source
        self.git = git
        # Never look above the repository for another one; never let a user's locale or pager in.
        self.environment = {**os.environ, "GIT_CEILING_DIRECTORIES": str(source.repository.parent), "LC_ALL": "C", "GIT_PAGER": "cat"}

    @classmethod
    def open(cls, source: GitSource) -> CommandReader:
        """The reader of ``source.repository``; E_GIT_UNREADABLE when there is no ``git``
        command or no repository there."""
        from govern.errors import GovernError

        git = shutil.which("git")
        if git is None:
            raise GovernError("E_GIT_UNREADABLE", f"{source.describe()}: libgit2 cannot open the repository and there is no 'git' command to read it with")
        if not source.repository.is_dir():
            raise GovernError("E_GIT_UNREADABLE", f"{source.describe()}: {source.repository} is not a directory")
        reader = cls(source, git)
        reader._run(["rev-parse", "--git-dir"], what="not a git repository")
        return reader

    def _run(self, arguments: list[str], *, what: str, stdin: bytes | None = None) -> bytes:
        """The output of ``git ARGUMENTS`` in the repository; E_GIT_UNREADABLE saying ``what``
        failed, with git's own message, when it fails."""
        from govern.errors import GovernError

        done = subprocess.run([self.git, "-C", str(self.source.repository), *arguments], input=stdin, capture_output=True, env=self.environment)
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GovernError("E_GIT_UNREADABLE", f"{self.source.describe()}: {what} ({message[-1] if message else f'git exited {done.returncode}'})")
        return done.stdout

    def snapshot_commits(self, source: GitSource) -> list[CommitChanges]:
        """The first-parent commits of the ref that change the registry's folder, oldest first,
        each with its tree diff from the previous one."""
        head = self._run(["rev-parse", "--verify", "--end-of-options", f"{source.ref}^{{commit}}"], what="the ref names no commit").decode().strip()
        log = self._run(["log", "--no-show-signature", "--first-parent", "--reverse", "--format=%H %T %ct", head, "--"], what=f"cannot read the history of {head}")
        chain = [line.split(" ") for line in log.decode("ascii").splitlines()]
        folders = self._folder_trees([(commit, tree) for commit, tree, _time in chain], source.subtree)
        empty = self._run(["hash-object", "-t", "tree", "--stdin"], what="cannot name the empty tree", stdin=b"").decode().strip()
        snapshots: list[tuple[str, str, str, str]] = []  # commit, time, folder tree before, folder tree now
        previous: str | None = None
        for (commit, _tree, time), folder in zip(chain, folders, strict=True):
            if folder != previous:
                snapshots.append((commit, utc_stamp(int(time)), previous or empty, folder or empty))
                previous = folder
        diffs = self._tree_diffs([(before, after) for _c, _t, before, after in snapshots])
        return [
            CommitChanges(commit, time, tuple(Change(decoded_path(path, commit, source), object_id, mode) for path, object_id, mode in diff))
            for (commit, time, _b, _a), diff in zip(snapshots, diffs, strict=True)
        ]

    def _folder_trees(self, chain: list[tuple[str, str]], subtree: str) -> list[str | None]:
        """The tree id of the registry's folder at each commit (None where there is none)."""
        if not subtree:
            return [tree for _commit, tree in chain]
        query = "".join(f"{commit}:{subtree}\n" for commit, _tree in chain).encode("utf-8")
        out = self._run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], what="cannot read the folder's trees", stdin=query)
        trees: list[str | None] = []
        for line in out.decode("utf-8", "replace").splitlines():
            object_id, _, kind = line.rpartition(" ")
            trees.append(object_id if kind == "tree" else None)  # "missing", or a file there
        return trees

    def _tree_diffs(self, pairs: list[tuple[str, str]]) -> list[list[tuple[bytes, str | None, int]]]:
        """``git diff-tree -r --no-renames -z --stdin`` of each pair of trees: the changed
        paths with their new object id (None: removed) and mode. Every input line is echoed
        first, then its changes (``:old-mode new-mode old-id new-id STATUS NUL path NUL``)."""
        if not pairs:
            return []
        query = "".join(f"{before} {after}\n" for before, after in pairs).encode("ascii")
        out = self._run(["diff-tree", "-r", "--no-renames", "-z", "--stdin"], what="cannot diff the snapshots' trees", stdin=query)
        diffs: list[list[tuple[bytes, str | None, int]]] = []
        at = 0
        while at < len(out):
            if out[at : at + 1] != b":":  # the echoed pair: a new diff starts
                end = out.index(b"\n", at)
                diffs.append([])
                at = end + 1
                continue
            meta_end = out.index(b"\0", at)
            path_end = out.index(b"\0", meta_end + 1)
            _old_mode, new_mode, _old_id, new_id, status = out[at + 1 : meta_end].decode("ascii").split(" ")
            removed = status == "D"
            diffs[-1].append((out[meta_end + 1 : path_end], None if removed else new_id, int(new_mode, 8)))
            at = path_end + 1
        return diffs

    def blob_contents(self, object_ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """Each blob's content, streamed by one ``git cat-file --batch`` (the ids are written
        by a thread while the contents are read, so neither pipe fills up)."""
        from govern.errors import GovernError

        if not object_ids:
            return
        process = subprocess.Popen(
            [self.git, "-C", str(self.source.repository), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.environment,
        )
        assert process.stdin is not None and process.stdout is not None
        writer = threading.Thread(target=_write_lines, args=(process.stdin, object_ids), daemon=True)
        writer.start()
        try:
            for object_id in object_ids:
                header = process.stdout.readline().decode("ascii", "replace").split()
                if len(header) != 3 or header[1] != "blob":
                    raise GovernError("E_GIT_UNREADABLE", f"{self.source.describe()}: blob {object_id} cannot be read ({' '.join(header) or 'no answer'})")
                content = _read_exactly(process.stdout, int(header[2]) + 1)[:-1]
                yield header[0], content
        finally:
            process.stdout.close()
            process.kill()
            process.wait()
            writer.join()

    def close(self) -> None:
        """Nothing to release: every process is waited for where it is started."""


def _write_lines(stream: IO[bytes], lines: list[str]) -> None:
    try:
        for start in range(0, len(lines), 1024):
            stream.write("".join(f"{line}\n" for line in lines[start : start + 1024]).encode("ascii"))
        stream.close()
    except (BrokenPipeError, ValueError, OSError):
        pass  # the reader stopped early: it says why


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    from govern.errors import GovernError

    data = stream.read(size)
    if len(data) != size:
        raise GovernError("E_GIT_UNREADABLE", "git cat-file --batch ended before the blob it was reading")
    return data

