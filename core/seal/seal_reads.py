"""Reading one of a run's two seal files safely — never through a symbolic link (which could
point outside the run), never blocking on a FIFO — with no import beyond the standard library,
so that ``govern verify``'s quick check (:mod:`govern.seal.quick_check`) and the full seal check
(:mod:`govern.seal.seal_file`) read seals by one rule.
"""

from __future__ import annotations

import errno
import os
import stat

#: A seal line is 80 bytes; a seal file is never read beyond this.
MAX_SEAL_BYTES = 4096


class SealFileRefused(Exception):
    """A seal file that is a symlink or not a regular file: ``code`` and ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def read_seal_file(path: str | os.PathLike[str], limit: int, not_regular_code: str) -> bytes:
    """Up to ``limit + 1`` bytes of a seal file, never through a symlink (which could point
    outside the run) and never blocking on a FIFO. Raises OSError (FileNotFoundError when
    absent) or :class:`SealFileRefused`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SealFileRefused("E_SYMLINK", "is a symbolic link (never followed)") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SealFileRefused(not_regular_code, "is not a regular file")
        return handle.read(limit + 1)
