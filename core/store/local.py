"""The local backend: keys are files under a folder, written with govern's one durable-write
protocol (:mod:`govern.store.atomic`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from govern.errors import GovernError
from govern.store.atomic import (
    Content,
    create_exclusive,
    fsync_directory,
    io_error,
    is_temporary_name,
    remove_abandoned_temps,
    write_atomic,
)
from govern.store.backend import AlreadyExists, KeyNotFound, check_key
from govern.store.files import file_chunks

#: How many times a put makes its folder again when a concurrent delete() removed it (each
#: retry needs another writer to empty the folder at that very moment: a few always suffice).
FOLDER_RACE_ATTEMPTS = 5


class LocalStore:
    """:class:`~govern.store.backend.Store` over the folder ``root``: key ``a/b`` is the file
    ``root/a/b``. Folders are made as keys need them and go when their last key is deleted
    (as on an object store, a folder is only a prefix). Symbolic links are never followed:
    a link is not a key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file that holds ``key`` — for the local fast paths of the layers above (sealing
        and deep verification work on a local folder by nature)."""
        return self.root / check_key(key)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def list(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every key starting with ``prefix``, with its size, sorted by key. Only committed
        keys: the temporary file of a put in flight (a racing writer's, or one a crashed
        writer left) is not a key, as an object store never shows an unfinished upload."""
        folder, _, _ = prefix.rpartition("/")
        found: list[tuple[str, int]] = []
        pending = [folder]
        while pending:
            current = pending.pop()
            try:
                entries = list(os.scandir(self.root / current if current else self.root))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                key = f"{current}/{entry.name}" if current else entry.name
                if entry.is_dir(follow_symlinks=False):
                    # Descend only into folders that can hold keys starting with the prefix.
                    if (key + "/").startswith(prefix) or prefix.startswith(key + "/"):
                        pending.append(key)
                elif entry.is_file(follow_symlinks=False) and key.startswith(prefix) and not is_temporary_name(entry.name):
                    try:
                        size = entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        continue  # gone since the folder was read (another writer's temporary file)
                    found.append((key, size))
        return iter(sorted(found))

    def list_level(self, prefix: str = "") -> Iterator[tuple[str, bool]]:
        """The names one level under the folder ``prefix``, each with True for a folder."""
        folder = self.root / prefix.rstrip("/") if prefix else self.root
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return iter(())
        return iter(sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries))

    def get(self, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of ``key`` (or ``[start:end]`` of them); KeyNotFound when absent."""
        path = self.path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EISDIR):
                raise KeyNotFound(key) from None
            raise
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise KeyNotFound(key)
            if (start or 0) >= 0 and (end is None or end >= 0):
                handle.seek(start or 0)
                return handle.read() if end is None else handle.read(max(0, end - (start or 0)))
            return handle.read()[start:end]  # a range from the end: rare, read it all

    def stat(self, key: str) -> int | None:
        """The size of ``key``, or None when absent (or not a regular file)."""
        try:
            found = os.stat(self.path(key), follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return found.st_size if stat.S_ISREG(found.st_mode) else None

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` at ``key`` durably; with ``if_absent``, AlreadyExists when it is there
        (a hard link never replaces its target: exactly one of two racing writers wins)."""
        self._store(key, lambda: data, if_absent)

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        """Store the bytes of the local file ``path`` at ``key`` as :meth:`put` does, copied in
        chunks into the temporary file the durable-write protocol renames or links into place."""
        self._store(key, lambda: file_chunks(Path(path)), if_absent)

    def _store(self, key: str, content: Callable[[], Content], if_absent: bool) -> None:
        """The one write path of :meth:`put` and :meth:`put_file` (``content``: the bytes, anew
        for each attempt)."""
        path = self.path(key)
        for attempt in range(FOLDER_RACE_ATTEMPTS):
            self._make_folders(path.parent)
            try:
                if if_absent:
                    create_exclusive(path, content())
                else:
                    write_atomic(path, content())
                return
            except FileExistsError:
                raise AlreadyExists(key) from None
            except GovernError as error:
                # Another writer's delete() removes the folders it leaves empty: between our
                # mkdir and our write the folder may have been one of them. Make it again.
                vanished = isinstance(error.__cause__, FileNotFoundError) and not path.parent.is_dir()
                if not vanished or attempt == FOLDER_RACE_ATTEMPTS - 1:
                    raise

    def remove_abandoned_writes(self, prefix: str) -> tuple[str, ...]:
        """Delete the temporary files that writers killed mid-put left under the folder
        ``prefix`` (an object store never shows an unfinished put; a folder does until this
        runs); return their keys. Files of live writers are left alone."""
        return tuple(f"{prefix}/{relative}" for relative in remove_abandoned_temps(self.path(prefix)))

    def delete(self, key: str) -> None:
        """Remove ``key`` if present, then the folders it leaves empty (durably)."""
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise io_error("delete", path, exc) from exc
        folder = path.parent
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (or gone): the folders above are not empty either
            folder = folder.parent
        with contextlib.suppress(OSError):
            fsync_directory(folder)

    def _make_folders(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents, each new name fsynced into its parent."""
        if folder.is_dir():
            return
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            try:
                new.mkdir(exist_ok=True)
                fsync_directory(new.parent)
            except OSError as exc:
                raise io_error("create folder", new, exc) from exc
