"""One writer at a time: an exclusive ``flock`` on a lock file, with a timeout.

``flock`` locks die with their process, so a crashed govern never leaves a stale lock that
blocks the next one; the pid written into the file is only there to name the holder in the
"locked" message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from govern.errors import ExitCode, GovernError

DEFAULT_LOCK_TIMEOUT = 10.0
_POLL_SECONDS = 0.05


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").split("\n", 1)[0].strip()
        if text.isdigit():
            return f" (pid {text})"
    return ""


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for the ``with`` block, or raise E_LOCKED (exit 3)."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
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
                        f"{lock_path.parent}: workspace is locked by another govern process{_holder(fd)}; "
                        f"waited {timeout:g}s (--lock-timeout)",
                        exit_code=ExitCode.LOCKED,
                    ) from None
                time.sleep(_POLL_SECONDS)
        # Write, then cut: a rival reading the holder's pid never finds the file empty.
        holder = f"{os.getpid()}\n".encode("ascii")
        os.pwrite(fd, holder, 0)
        os.ftruncate(fd, len(holder))
        yield
    finally:
        os.close(fd)  # closing releases the flock
