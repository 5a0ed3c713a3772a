"""A ``git`` registry's versions: the commits of a ref's first-parent history that change the
registry's folder, oldest first, each with its whole logical state (path -> SHA-256).

The state is never rebuilt from a whole tree per commit: the first snapshot is the diff from
the empty tree, every later one the previous state plus the tree diff between the two
snapshots (renames are not looked for: a rename is the old path removed and the new one
added, as ``git diff --no-renames`` shows it). The tree diffs come from a
:class:`HistoryReader` — libgit2 through pygit2 (:mod:`.libgit2_reader`), or the ``git``
command for repositories libgit2 cannot open, such as SHA-256 object-format ones
(:mod:`.command_reader`); each blob is hashed once, ever (:mod:`.blob_digests`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from pathlib import Path

    from govern.format.models import SourceVersion
    from govern.plugins.git_history.blob_digests import BlobDigestCache
    from govern.plugins.git_history.source import GitSource
    from govern.runtime.progress import Progress

#: The file mode of a gitlink (a submodule's commit).
GITLINK_MODE = 0o160000


@attrs.frozen
class Change:
    """One path a commit changes under the registry's folder: ``object_id`` is the new blob
    (or, for a gitlink, commit) id, None when the path is removed; ``mode`` is git's file mode."""

    path: str
    object_id: str | None
    mode: int


@attrs.frozen
class CommitChanges:
    """A snapshot commit: its id, its committer date (UTC) and what it changes since the
    previous snapshot commit (everything it holds, for the first)."""

    commit_id: str
    committed_utc: str
    changes: tuple[Change, ...]


class HistoryReader(Protocol):
    """What the history builder needs from a repository."""

    def snapshot_commits(self, source: GitSource) -> list[CommitChanges]:
        """The first-parent commits of ``source.ref`` that change ``source.subtree``, oldest first."""

    def blob_contents(self, object_ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """Each blob of ``object_ids`` with its content, in any order."""

    def close(self) -> None:
        """Release what the reader holds (child processes)."""


def utc_stamp(epoch_seconds: int) -> str:
    """A commit time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decoded_path(raw: bytes, commit_id: str, source: GitSource) -> str:
    """A path git gives as bytes, relative to the registry's folder, as text (UTF-8, or
    E_GIT_UNREADABLE naming the commit: a record's paths are text)."""
    from govern.errors import GovernError

    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GovernError("E_GIT_UNREADABLE", f"{source.describe()}: commit {commit_id} has a path that is not UTF-8: {raw!r}") from None


def read_versions(source: GitSource, workspace_root: Path, progress: Progress) -> list[SourceVersion]:
    """The registry's versions (see the module's docstring), through pygit2 or, when libgit2
    cannot open the repository, the ``git`` command."""
    from govern.plugins.git_history.blob_digests import BlobDigestCache

    reader = open_reader(source)
    try:
        commits = reader.snapshot_commits(source)
        cache = BlobDigestCache(workspace_root)
        _hash_new_blobs(reader, _blob_ids(commits), cache, source, progress)
    finally:
        reader.close()
    return list(_versions(source, commits, cache.digests))


def open_reader(source: GitSource) -> HistoryReader:
    """A pygit2 reader of the repository, or the ``git`` command's when libgit2 cannot open it."""
    from govern.plugins.git_history.command_reader import CommandReader
    from govern.plugins.git_history.libgit2_reader import Libgit2Reader

    reader = Libgit2Reader.open(source)
    return reader if reader is not None else CommandReader.open(source)


def _blob_ids(commits: Iterable[CommitChanges]) -> list[str]:
    """Every blob the snapshots hold, once each, in first-seen order."""
    ids: dict[str, None] = {}
    for commit in commits:
        for change in commit.changes:
            if change.object_id is not None and change.mode != GITLINK_MODE:
                ids[change.object_id] = None
    return list(ids)


def _hash_new_blobs(reader: HistoryReader, blob_ids: list[str], cache: BlobDigestCache, source: GitSource, progress: Progress) -> None:
    """Hash the blobs the cache does not know yet, and keep their digests."""
    missing = [oid for oid in blob_ids if cache.get(oid) is None]
    if not missing:
        return
    progress.start(len(missing), f"{source.registry_id}: hashing git blobs")
    try:
        for object_id, content in reader.blob_contents(missing):
            cache.add(object_id, content)
            progress.advance(1)
    finally:
        cache.save()  # what was hashed stays hashed, even if the read stops half-way


def _versions(source: GitSource, commits: list[CommitChanges], digests: dict[str, str]) -> Iterator[SourceVersion]:
    """Each snapshot commit's whole state, built change by change from the previous one's. A
    state holding a path govern's manifests refuse (a backslash, CR, LF, NUL, a '.' part…) is
    a version that does not validate: its ``problem`` names the path (the build stops on it,
    or records ``unknown`` under ``--allow-unknown``)."""
    from govern.format.models import SourceVersion
    from govern.format.paths import manifest_path_problem

    entries: dict[str, str] = {}
    unsafe: dict[str, str] = {}  # path -> why, for the paths of the state govern's path rules refuse
    for commit in commits:
        # removals first: a path whose type changed may come as a removal and an addition
        for change in commit.changes:
            if change.object_id is None:
                entries.pop(change.path, None)
                unsafe.pop(change.path, None)
        for change in commit.changes:
            if change.object_id is not None:
                entries[change.path] = _entry_digest(change, digests)
                why = manifest_path_problem(change.path)
                if why is not None:
                    unsafe[change.path] = why
        problem = None
        if unsafe:
            path = min(unsafe)
            more = f" (and {len(unsafe) - 1} more)" if len(unsafe) > 1 else ""
            problem = f"path {path!r} cannot be recorded: {unsafe[path]}{more}"
        yield SourceVersion(commit.commit_id, source.location, f"git:{commit.commit_id}", dict(entries), problem, commit.committed_utc)


def _entry_digest(change: Change, digests: dict[str, str]) -> str:
    """A blob's content SHA-256; for a gitlink, the SHA-256 of the submodule commit id's text
    (a submodule's content is another repository's: only which commit it pins is this one's)."""
    assert change.object_id is not None
    if change.mode == GITLINK_MODE:
        return hashlib.sha256(change.object_id.encode("ascii")).hexdigest()
    return digests[change.object_id]
