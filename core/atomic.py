"""The one write path: every file govern writes goes through :func:`write_atomic`.

temp file in the same directory → write → flush → fsync → ``os.replace`` → fsync the
directory (git's lockfile + rename). A reader, or a crash at any instant, sees the old file
or the new one, never a mix. An fsync failure is fatal and never retried: after a failed
fsync the kernel may have dropped the dirty pages, so a retry could "succeed" on lost data
(the PostgreSQL fsyncgate lesson).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from govern.errors import GovernError

#: Prefix of govern's temporary files and staging folders; never a valid run id or artifact.
TEMP_PREFIX = ".govern-tmp-"


def fsync_directory(directory: Path) -> None:
    """fsync a directory so a rename or create inside it is durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _io_error(action: str, path: Path, exc: OSError) -> GovernError:
    return GovernError("E_IO", f"{path}: {action} failed: {exc.strerror or exc}")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably; raise E_IO naming the path."""
    path = Path(path)
    directory = path.parent
    temp = directory / f"{TEMP_PREFIX}{os.getpid()}-{path.name}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise _io_error("create", temp, exc) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise _io_error("write", path, exc) from exc
    try:
        fsync_directory(directory)
    except OSError as exc:
        raise _io_error("fsync of directory", directory, exc) from exc
