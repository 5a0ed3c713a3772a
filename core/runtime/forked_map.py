"""Share CPU-bound work among forked processes, with this process doing a share of its own.

``map_forked(function, parts)`` is ``[function(part) for part in parts]`` where every part
after the first runs in a child forked for it: the child inherits everything already built
(a compiled schema, the bytes of a file), so nothing is pickled on the way in, and only the
result comes back, pickled through a pipe. Forking costs a few milliseconds where a process
pool (its manager thread, its queues, its call-queue pickling) costs tens — on a 100,000-line
log the difference is a tenth of the whole budget.

Nothing is lost when a child is: one that dies (killed, out of memory) or raises is simply
redone here, so an error surfaces exactly as it would have without forking. Where ``fork`` is
unavailable every part runs here. ``function`` must be pure — its effects in a child vanish.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from govern.runtime import interrupts
from govern.runtime.worker_pool import enter_worker

Part = TypeVar("Part")
Result = TypeVar("Result")

#: Whether this platform can fork (not Windows); tests may turn it off.
CAN_FORK = hasattr(os, "fork")


def _run_child(function: Callable[[Part], Result], part: Part, write_fd: int, parent_pid: int) -> None:
    """In the child: compute, send the pickled result, and leave without running any of the
    parent's clean-up (atexit handlers, buffered output): ``os._exit``. Like every govern
    worker it dies with its parent and leaves interrupts to it (:func:`enter_worker`)."""
    status = 1
    try:
        enter_worker(parent_pid)
        payload = pickle.dumps(function(part), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
        status = 0
    except BaseException:  # noqa: BLE001 - the parent redoes the part and shows the error
        pass
    finally:
        os._exit(status)


def _collect(pid: int, read_fd: int) -> tuple[bool, object]:
    """Read a child's result and reap it: ``(ok, result)``. The caller closes ``read_fd``."""
    chunks = []
    while chunk := os.read(read_fd, 1 << 20):
        chunks.append(chunk)
    payload = b"".join(chunks)
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return False, None
    return True, pickle.loads(payload)


def map_forked(function: Callable[[Part], Result], parts: Sequence[Part]) -> list[Result]:
    """``[function(part) for part in parts]``, the first part here and each other in a forked
    child, all at once; a child that fails has its part redone here."""
    if len(parts) <= 1 or not CAN_FORK:
        return [function(part) for part in parts]
    running: list[tuple[int, int, Part]] = []  # (pid, read end of its pipe, its part)
    parent_pid = os.getpid()
    try:
        for part in parts[1:]:
            read_fd, write_fd = os.pipe()
            with interrupts.blocked():  # an interrupt waits until the child is recorded
                pid = os.fork()
                if pid == 0:  # pragma: no cover - runs in the child, which never returns
                    os.close(read_fd)
                    for _, earlier_fd, _ in running:  # the pipes of the children forked before
                        os.close(earlier_fd)
                    _run_child(function, part, write_fd, parent_pid)
                os.close(write_fd)
                running.append((pid, read_fd, part))
        results = [function(parts[0])]
        while running:
            pid, read_fd, part = running[0]
            ok, result = _collect(pid, read_fd)
            running.pop(0)
            os.close(read_fd)
            # A child that succeeded sent back what ``function`` returned: a Result.
            results.append(cast(Result, result) if ok else function(part))
        return results
    finally:
        # Children are still running only when this process raised (or was interrupted).
        for pid, read_fd, _ in running:
            os.close(read_fd)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
