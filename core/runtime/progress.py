"""Progress reporting from long work (sealing, verifying, building) without printing.

Core code calls :meth:`Progress.start` once it knows the total, then :meth:`Progress.advance`;
the CLI supplies a terminal bar, everything else the silent :data:`NO_PROGRESS`.
"""

from __future__ import annotations

import time
from typing import Protocol


class Progress(Protocol):
    """Receives progress of one piece of long work."""

    def start(self, total: int, label: str) -> None:
        """The work is ``total`` units (bytes, files, runs) and is described by ``label``."""

    def advance(self, amount: int) -> None:
        """``amount`` more units are done."""


class _NoProgress:
    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


#: A :class:`Progress` that reports nothing.
NO_PROGRESS: Progress = _NoProgress()


class ThrottledProgress:
    """Passes progress on to ``bar`` at most once per ``interval`` seconds.

    Drawing a terminal bar costs far more than hashing a small file, so a bar updated per
    file would slow the work it reports; a few redraws a second look the same to a person.
    Use as a context manager: leaving it passes on whatever is still pending.
    """

    def __init__(self, bar: Progress, interval: float = 0.2) -> None:
        self._bar = bar
        self._interval = interval
        self._pending = 0
        self._due = 0.0

    def start(self, total: int, label: str) -> None:
        """Start a new piece of work on the bar (after passing on what is pending)."""
        self.flush()
        self._bar.start(total, label)
        self._due = time.monotonic() + self._interval

    def advance(self, amount: int) -> None:
        """Count ``amount`` more units; the bar hears of them when the interval has passed."""
        self._pending += amount
        now = time.monotonic()
        if now >= self._due:
            self.flush()
            self._due = now + self._interval

    def flush(self) -> None:
        """Pass on every unit counted so far."""
        if self._pending:
            pending, self._pending = self._pending, 0
            self._bar.advance(pending)

    def __enter__(self) -> ThrottledProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()
