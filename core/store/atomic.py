"""The one write path: every file govern writes goes through :func:`write_atomic` (or, to
create a file only if it does not exist, :func:`create_exclusive`).

temp file in the same directory → write → flush → fsync → ``os.replace`` → fsync the
directory (git's lockfile + rename). A reader, or a crash at any instant, sees the old file
or the new one, never a mix. An fsync failure is fatal and never retried: after a failed
fsync the kernel may have dropped the dirty pages, so a retry could "succeed" on lost data
(the PostgreSQL fsyncgate lesson).

The system calls go through :mod:`govern.runtime.faults`, so tests can crash the process between
any two of them or make one fail (``GOVERN_FAULT``, ``GOVERN_FAULT_IO``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from govern.errors import GovernError
from govern.runtime import faults

#: Prefix of govern's temporary files and staging folders; never a valid run id or artifact.
TEMP_PREFIX = ".govern-tmp-"
#: Prefix of the temporary object a large create-if-absent upload to object storage goes
#: through (:meth:`govern.store.s3.S3Store.put_file`); a killed writer leaves one behind.
UPLOAD_STAGING_PREFIX = TEMP_PREFIX + "upload-"
_UPLOAD_STAMP = "%Y%m%dT%H%M%SZ"

#: What a durable write stores: the bytes, or chunks of them written one by one as they come
#: (a large file streamed from disk never sits in memory whole).
Content = bytes | Iterable[bytes]


def _chunks(data: Content) -> Iterable[bytes]:
    """``data`` as a sequence of chunks."""
    # bytearray and memoryview are bytes-like too (and iterable by int: never chunks).
    return (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data  # type: ignore[return-value]


def io_error(action: str, path: os.PathLike[str] | str, exc: OSError, outcome: str = "") -> GovernError:
    """E_IO naming the path, what failed (``write``, ``fsync``, ``rename``, …) and, when
    known, what state that leaves."""
    tail = f" ({outcome})" if outcome else ""
    return GovernError("E_IO", f"{path}: {action} failed: {exc.strerror or exc}{tail}")


def fsync_directory(directory: Path) -> None:
    """fsync a directory so a rename or create inside it is durable (raises OSError)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        faults.fsync(fd, directory)
    finally:
        os.close(fd)


def _write_temp(temp: Path, data: Content, target: Path, mode: int = 0o644) -> None:
    """Create ``temp`` (never through a symlink) with ``mode``, write ``data`` (chunk by chunk
    when it is chunks) and fsync it: the first half of every durable write. On failure the
    temporary file is gone and E_IO names ``target``."""
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    except OSError as exc:
        raise io_error("create", temp, exc) from exc
    faults.crash_point("after-create:atomic")
    action = "write"
    try:
        try:
            for chunk in _chunks(data):
                view = memoryview(chunk)
                while view:
                    written = faults.write(fd, view, temp)
                    view = view[written:]
            faults.crash_point("after-write:atomic")
            action = "fsync"
            faults.fsync(fd, temp)
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise io_error(action, target, exc, "the file is unchanged") from exc
    except BaseException:  # an interrupt: the temporary file goes too
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _fsync_parent(path: Path) -> None:
    """Make the new name of ``path`` durable (E_IO naming its folder)."""
    faults.crash_point("after-replace:atomic")
    try:
        fsync_directory(path.parent)
    except OSError as exc:
        raise io_error("fsync of directory", path.parent, exc) from exc


def write_atomic(path: Path, data: Content) -> None:
    """Replace ``path`` with ``data`` (bytes, or chunks streamed in) atomically and durably;
    raise E_IO naming the path."""
    path = Path(path)
    temp = path.parent / f"{TEMP_PREFIX}{os.getpid()}-{path.name}"
    _write_temp(temp, data, path)
    try:
        faults.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise io_error("rename", path, exc, "the file is unchanged") from exc
        raise
    _fsync_parent(path)


def create_exclusive(path: Path, data: Content, *, mode: int = 0o644) -> None:
    """Create ``path`` holding ``data`` (bytes, or chunks streamed in) atomically and durably, only if no file of that name
    exists: FileExistsError otherwise (E_IO for any other failure), and nothing changed.

    The same protocol as :func:`write_atomic`, its last step a hard link instead of a rename:
    ``link`` never replaces its target, so of two writers racing for one name exactly one
    wins — the file system decides, no lock needed. The temporary file's name is unique per
    thread (two threads of one process may race too). ``mode`` is the file's from its
    creation on (``0o600`` for a secret: it is never readable by others, not even briefly).
    """
    path = Path(path)
    temp = path.parent / f"{TEMP_PREFIX}{os.getpid()}.{threading.get_ident()}-{path.name}"
    _write_temp(temp, data, path, mode)
    try:
        os.link(temp, path, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        raise io_error("link", path, exc, "the file is unchanged") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    _fsync_parent(path)


_LEFTOVER = re.compile(re.escape(TEMP_PREFIX) + r"\d+(?:\.\d+)?-(.+)\Z", re.DOTALL)


#: A temporary file's name begins with its writer's process id.
_WRITER = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)(?:\.\d+)?-.", re.DOTALL)


def upload_staging_key(now: dt.datetime) -> str:
    """A fresh temporary key for a large upload, naming the moment it began (UTC) so that
    ``govern gc --older-than`` can tell an abandoned one from one in flight without a clock of
    the store's: ``.govern-tmp-upload-<YYYYMMDDTHHMMSSZ>-<random hex>``."""
    return f"{UPLOAD_STAGING_PREFIX}{now.astimezone(dt.UTC).strftime(_UPLOAD_STAMP)}-{uuid.uuid4().hex}"


def upload_staging_time(name: str) -> dt.datetime | None:
    """The moment the upload staging key ``name`` was made, or None when ``name`` is not one."""
    if not name.startswith(UPLOAD_STAGING_PREFIX):
        return None
    stamp, _, rest = name[len(UPLOAD_STAGING_PREFIX) :].partition("-")
    try:
        moment = dt.datetime.strptime(stamp, _UPLOAD_STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return moment if rest else None


def is_temporary_name(name: str) -> bool:
    """True when ``name`` is the temporary file of a write in flight (or abandoned) by
    :func:`write_atomic` or :func:`create_exclusive`: never a committed file."""
    return _WRITER.match(name) is not None


def _writer_is_gone(name: str) -> bool:
    """True when ``name`` is a temporary file of a process that no longer exists on this host."""
    match = _WRITER.match(name)
    if match is None:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, someone else's
    return False


def remove_abandoned_temps(directory: Path) -> list[str]:
    """Delete the temporary files under ``directory`` (at any depth) whose writer process has
    died — what a writer killed mid-write left — and return their paths relative to it.
    Needs no lock: a live writer's file is never touched (its process id is in the name).
    The check is by process id on this host, so on a folder shared by several hosts another
    host's live writer could lose its temporary file (it then fails with E_IO, nothing is
    corrupted)."""
    removed = []
    pending = [Path(directory)]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False) and _writer_is_gone(entry.name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                    removed.append(Path(entry.path).relative_to(directory).as_posix())
    return sorted(removed)


def remove_temp_leftovers(directory: Path, names: Iterable[str]) -> list[str]:
    """Delete the temporary files an interrupted :func:`write_atomic` of ``names`` left in
    ``directory``; return what was removed. Call only while holding the workspace lock (a
    writer that holds it may be using its temporary file right now otherwise)."""
    wanted = set(names)
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(directory):
            match = _LEFTOVER.match(entry.name)
            if match and match.group(1) in wanted and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
    return sorted(removed)
