"""A ``git`` registry's history read in-process through pygit2 (libgit2): tree diffs between
snapshot commits, blobs read from the object database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from govern.plugins.git_history.history import Change, CommitChanges, decoded_path, utc_stamp

if TYPE_CHECKING:
    import pygit2

    from govern.plugins.git_history.source import GitSource

#: git's status letter for a removed path in a tree diff.
_DELETED = "D"


class Libgit2Reader:
    """Reads one repository through pygit2."""

    def __init__(self, repository: pygit2.Repository, source: GitSource) -> None:
        self.repository = repository
        self.source = source

    @classmethod
    def open(cls, source: GitSource) -> Libgit2Reader | None:
        """The reader of ``source.repository``, or None when libgit2 cannot open it (it does not
        know SHA-256 object format, for one): the ``git`` command then reads it, and says so if
        it is no repository at all. The repository is opened exactly there, never a parent."""
        import pygit2
        from pygit2.enums import RepositoryOpenFlag

        try:
            return cls(pygit2.Repository(str(source.repository), RepositoryOpenFlag.NO_SEARCH), source)
        except (pygit2.GitError, ValueError, KeyError):  # InvalidError is a ValueError
            return None

    def snapshot_commits(self, source: GitSource) -> list[CommitChanges]:
        """The first-parent commits of the ref that change the registry's folder, oldest first,
        each with its tree diff from the previous one."""
        import pygit2

        from govern.errors import GovernError

        try:
            return self._snapshot_commits(source)
        except pygit2.GitError as error:  # a tree missing from a partial clone, a damaged pack
            raise GovernError("E_GIT_UNREADABLE", f"{source.describe()}: cannot read the history ({error})") from None

    def _snapshot_commits(self, source: GitSource) -> list[CommitChanges]:
        snapshots: list[CommitChanges] = []
        previous: Any = None  # the folder's tree at the previous snapshot (None: not there)
        for commit in self._first_parent_chain(source):
            tree = _folder(commit.tree, source.subtree)
            if (tree.id if tree is not None else None) == (previous.id if previous is not None else None):
                continue
            if previous is None:
                assert tree is not None  # its id differs from None's
                diff = tree.diff_to_tree(swap=True)  # everything added
            elif tree is None:
                diff = previous.diff_to_tree()  # everything removed
            else:
                diff = previous.diff_to_tree(tree)
            commit_id = str(commit.id)
            changes = tuple(_change(delta, commit_id, source) for delta in diff.deltas)
            snapshots.append(CommitChanges(commit_id, utc_stamp(commit.commit_time), changes))
            previous = tree
        return snapshots

    def _first_parent_chain(self, source: GitSource) -> list[pygit2.Commit]:
        """The ref's commit and its first parents, oldest first (a shallow clone's history
        starts at its boundary)."""
        import pygit2

        from govern.errors import GovernError

        try:
            commit = self.repository.revparse_single(source.ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as error:
            raise GovernError("E_GIT_UNREADABLE", f"{source.describe()}: the ref names no commit ({error})") from None
        chain = [commit]
        while commit.parent_ids:
            parent = self.repository.get(commit.parent_ids[0])
            if not isinstance(parent, pygit2.Commit):
                break  # not in the object database: a shallow clone's boundary
            commit = parent
            chain.append(commit)
        chain.reverse()
        return chain

    def blob_contents(self, object_ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """Each blob's content, read from the object database (E_GIT_UNREADABLE naming a blob
        that is not there: a partial clone's)."""
        import pygit2

        from govern.errors import GovernError

        odb = self.repository.odb
        for object_id in object_ids:
            try:
                _type, data = odb.read(object_id)
            except (KeyError, pygit2.GitError) as error:
                raise GovernError("E_GIT_UNREADABLE", f"{self.source.describe()}: blob {object_id} cannot be read ({error})") from None
            yield object_id, data

    def close(self) -> None:
        """Nothing to release: libgit2 frees the repository with the object."""
        self.repository.free()


def _folder(tree: pygit2.Tree, subtree: str) -> pygit2.Tree | None:
    """The tree of folder ``subtree`` (the whole ``tree`` for ``""``); None when there is no
    folder there (absent, or a file)."""
    import pygit2

    if not subtree:
        return tree
    try:
        found = tree[subtree]
    except KeyError:
        return None
    return found if isinstance(found, pygit2.Tree) else None


def _change(delta: pygit2.DiffDelta, commit_id: str, source: GitSource) -> Change:
    if delta.status_char() == _DELETED:
        return Change(decoded_path(delta.old_file.raw_path, commit_id, source), None, 0)  # as git diff-tree says it
    return Change(decoded_path(delta.new_file.raw_path, commit_id, source), str(delta.new_file.id), int(delta.new_file.mode))
