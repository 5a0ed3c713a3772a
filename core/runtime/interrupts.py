"""How a govern command ends when interrupted: at once, cleanly, and saying what it wrote.

Ctrl-C (SIGINT, sent by a terminal to the whole process group) and SIGTERM (sent by a
supervisor, ``timeout``, CI) both become :class:`KeyboardInterrupt` in the main thread while
:func:`handling_interrupts` is in force (``govern.cli.main`` puts it around every command).
The exception unwinds like any failure: workers are killed and reaped
(:class:`govern.runtime.parallel.Parallel`), staging is taken back by the same ``except
BaseException`` blocks that take it back after an I/O error, the lock is released — and the
CLI prints one line, ``govern: interrupted; nothing written``, exit 130 (``E_INTERRUPTED``).

Only the first signal interrupts; later ones are ignored while the command unwinds, so a
second Ctrl-C can never cut a clean-up short.

"Nothing written" must be true, so the step that makes a command's writes take effect — the
last rename of a seal, a build or a governance change — runs inside :func:`commit_point`: a
signal arriving there waits until the step is over. Then either the step failed (its own
clean-up ran; the signal is delivered) or it succeeded, the change is written, and a signal
(then or later) ends the command saying so (``govern: interrupted; the change was already
written``). Writes made inside :func:`staging` (a delta build seals its staging folder before
renaming it into place) are not the command's commit: the caller takes them back.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: The signals that interrupt a command.
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_RUNNING, _HOLDING, _STOPPING = "running", "holding", "stopping"


class _State:
    def __init__(self) -> None:
        self.phase = _RUNNING
        self.held = False  # a signal arrived inside a commit point
        self.committed = False  # the command's writes took effect
        self.staging_depth = 0
        self.signalled = False  # an interrupt was raised


_state = _State()


def _on_signal(signum: int, frame: object) -> None:
    if _state.phase == _RUNNING:
        _state.phase = _STOPPING
        _state.signalled = True
        raise KeyboardInterrupt
    if _state.phase == _HOLDING:
        _state.held = True
    # _STOPPING: the command is already ending; let its clean-up finish.


def interrupted() -> bool:
    """Whether a signal interrupted the command (however the exception was reported on)."""
    return _state.signalled


def committed() -> bool:
    """Whether the command's writes had taken effect when it was interrupted."""
    return _state.committed


@contextlib.contextmanager
def handling_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`KeyboardInterrupt` (once) for the block; the former
    handlers come back afterwards. A signal ignored when govern started (``nohup``, a
    background job's SIGINT) stays ignored. Outside the main thread, nothing changes."""
    global _state
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state = _State()
    previous = {}
    for signum in INTERRUPT_SIGNALS:
        current = signal.getsignal(signum)
        if current is not signal.SIG_IGN:
            previous[signum] = current
            signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Keep SIGINT and SIGTERM pending (blocked in the kernel) for the block: around a fork,
    so that neither the child — before it sets its own handlers — nor the parent — before it
    has recorded the child, to kill it — can be interrupted half-way."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPT_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def hold_interrupts() -> None:
    """From now on, ignore interrupts: the command is rendering its outcome and exiting."""
    _state.phase = _STOPPING


@contextlib.contextmanager
def staging() -> Iterator[None]:
    """Writes in this block are staging its caller takes back on failure: a
    :func:`commit_point` inside it is not the command's commit."""
    _state.staging_depth += 1
    try:
        yield
    finally:
        _state.staging_depth -= 1


@contextlib.contextmanager
def commit_point() -> Iterator[None]:
    """Run the step that makes the command's writes take effect without being interrupted
    half-way: a signal arriving inside waits for the block's end (see the module's doc)."""
    if _state.phase != _RUNNING:  # nested, or already ending: nothing more to decide here
        yield
        return
    _state.phase = _HOLDING
    try:
        yield
    except BaseException:
        _state.phase = _STOPPING if _state.held else _RUNNING
        _state.held = False
        raise
    if _state.staging_depth == 0:
        _state.committed = True
    held, _state.held = _state.held, False
    _state.phase = _RUNNING
    if held:
        _state.phase = _STOPPING
        _state.signalled = True
        raise KeyboardInterrupt
