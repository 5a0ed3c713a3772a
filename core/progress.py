"""Progress reporting from long work (sealing, verifying, building) without printing.

Core code calls :meth:`Progress.start` once it knows the total, then :meth:`Progress.advance`;
the CLI supplies a terminal bar, everything else the silent :data:`NO_PROGRESS`.
"""

from __future__ import annotations

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
