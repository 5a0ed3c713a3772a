"""One writer at a time: an exclusive ``flock`` on a lock file, with a timeout.

``flock`` locks belong to the open file description, not to the process: they die when the
last descriptor of that description is closed. A crashed govern therefore never leaves a
stale lock — unless a process forked from it still holds a copy of the descriptor, which
would keep the lock after the parent is gone (issue 11: hashing workers held a dead seal's
lock for minutes). So every descriptor of a held lock is listed in :data:`_CHILDREN_MUST_CLOSE`
and closed in every forked child right after the fork (``os.register_at_fork``): whatever
forks — govern's worker pool (:class:`govern.runtime.parallel.Parallel`), a plugin — the lock stays the
parent's alone. (Exec-ed children never see it: ``os.open`` descriptors are close-on-exec.)

The pid written into the file is only there to name the holder in the "locked" message, and
it is checked: the message says whether that process is still running, and on Linux names
the process that really holds the lock (found through ``/proc``) when that is another one.
A lock whose recorded holder died is simply free — the next command takes it at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from govern.errors import GovernError

DEFAULT_LOCK_TIMEOUT = 10.0
_POLL_SECONDS = 0.05

#: Descriptors a forked child must close at once: the held workspace locks of this process.
_CHILDREN_MUST_CLOSE: set[int] = set()


def _close_in_child() -> None:
    """In a freshly forked child: drop every inherited lock descriptor (the parent keeps the
    lock; the child's copy would otherwise keep it past the parent's death)."""
    for fd in _CHILDREN_MUST_CLOSE:
        with contextlib.suppress(OSError):
            os.close(fd)
    _CHILDREN_MUST_CLOSE.clear()


if hasattr(os, "register_at_fork"):  # every POSIX system; Windows cannot fork
    os.register_at_fork(after_in_child=_close_in_child)


def _recorded_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").split("\n", 1)[0].strip()
        if text.isdigit():
            return int(text)
    return None


def is_running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a zombie holds no descriptors)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    with contextlib.suppress(OSError, IndexError):
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        return stat_line[stat_line.rindex(")") + 2 :].split()[0] not in ("Z", "X")
    return True


def flock_holders(fd: int) -> list[int]:
    """The processes (other than this one) holding an flock on the file open at ``fd``,
    from ``/proc/PID/fdinfo`` (Linux; an empty list elsewhere or when none can be seen).

    ``/proc/locks`` is no help here: it shows the pid that *took* the lock, which is the dead
    parent when an orphaned child holds it. fdinfo lists the locks of each open description.
    """
    try:
        target = os.fstat(fd)
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    holders = []
    for pid in pids:
        if pid == os.getpid():
            continue
        with contextlib.suppress(OSError):
            for name in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    info = os.stat(f"/proc/{pid}/fd/{name}")
                    if (info.st_dev, info.st_ino) != (target.st_dev, target.st_ino):
                        continue
                    fdinfo = Path(f"/proc/{pid}/fdinfo/{name}").read_text()
                    if any(line.startswith("lock:") and "FLOCK" in line for line in fdinfo.splitlines()):
                        holders.append(pid)
                        break
    return holders


def describe_holder(fd: int) -> str:
    """Who holds the lock on the file open at ``fd``, for the E_LOCKED message: a live pid,
    or what is known when the pid the file records is not running."""
    recorded = _recorded_pid(fd)
    holders = flock_holders(fd)
    if recorded is not None and (recorded in holders or (not holders and is_running(recorded))):
        return f" (pid {recorded}, running)"
    if holders:
        named = ", ".join(str(pid) for pid in holders)
        if recorded is None:
            return f" (held by pid {named})"
        gone = "" if is_running(recorded) else ", which is not running"
        return f" (held by pid {named}; the lock file names pid {recorded}{gone})"
    if recorded is not None:
        return f" (the lock file names pid {recorded}, which is not running; the holder could not be found)"
    return ""


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for the ``with`` block, or raise E_LOCKED (exit 3).

    The lock is this process's alone: children forked while it is held close their copy."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    _CHILDREN_MUST_CLOSE.add(fd)
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise GovernError("E_IO", f"{lock_path}: cannot lock: {exc.strerror}") from None
                if time.monotonic() >= deadline:
                    raise GovernError(
                        "E_LOCKED",
                        f"{lock_path.parent}: workspace is locked by another govern process{describe_holder(fd)}; "
                        f"waited {timeout:g}s (--lock-timeout)",
                    ) from None
                time.sleep(_POLL_SECONDS)
        # Write, then cut: a rival reading the holder's pid never finds the file empty.
        holder = f"{os.getpid()}\n".encode("ascii")
        os.pwrite(fd, holder, 0)
        os.ftruncate(fd, len(holder))
        yield
    finally:
        _CHILDREN_MUST_CLOSE.discard(fd)
        os.close(fd)  # closing releases the flock
