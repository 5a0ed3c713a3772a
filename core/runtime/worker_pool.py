"""Forked worker processes that die with their parent and never leave it waiting.

:class:`ForkedPool` is govern's process pool (hashing in ``seal`` and ``verify``, reading
large manifests in ``delta build``). It replaced :class:`concurrent.futures.ProcessPoolExecutor`
after issue 11: a Ctrl-C reached the workers too, one died holding the result queue's lock, and
the parent waited on the others for good; after ``kill -9`` of the parent, its workers lived
on (holding the workspace lock). Here:

- every worker is forked (it inherits what the parent has built, so nothing is pickled on the
  way in but the task) and runs :func:`enter_worker` first: it dies with its parent
  (``PR_SET_PDEATHSIG``), ignores Ctrl-C (the parent decides, and kills it), and — through
  :mod:`govern.store.locking`'s fork hook — holds no workspace lock;
- each worker has its own pair of pipes and a few tasks handed to it ahead; the parent
  writes tasks without ever blocking (what a pipe does not take waits in the parent), so
  neither side ever waits on a lock or a pipe the other holds;
- the parent waits in ``poll`` (an interrupt ends the wait at once) and a worker that dies
  surfaces as :class:`WorkerDied` (``E_WORKER_FAILED``) naming it and its signal — never a hang;
- leaving the pool normally stops the workers; leaving it by an exception (an interrupt
  included) kills and reaps them before the exception goes on.

Functions given to the pool are pickled by reference, so they must be module-level.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from govern.errors import GovernError
from govern.runtime.interrupts import INTERRUPT_SIGNALS, blocked

#: Whether this platform can fork (not Windows).
CAN_FORK = hasattr(os, "fork")

_PR_SET_PDEATHSIG = 1
_HEADER = struct.Struct("<Q")


def _set_parent_death_signal() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (``prctl``)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def enter_worker(parent_pid: int) -> None:
    """First thing in a forked worker: die with the parent, leave interrupts to it.

    ``parent_pid`` is the parent's pid taken before the fork: if the parent died before the
    death signal was armed, the worker is already an orphan and leaves at once (the race
    ``PR_SET_PDEATHSIG`` alone leaves open). SIGINT is ignored — a terminal's Ctrl-C reaches
    the whole process group, and only the parent may act on it — and SIGTERM gets its
    default action back (the parent's handler turns it into an interrupt)."""
    if os.uname().sysname == "Linux":
        _set_parent_death_signal()
    if os.getppid() != parent_pid:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Forked inside interrupts.blocked(): with its own handlers set, it may receive them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPT_SIGNALS)


class WorkerDied(GovernError):
    """A worker process ended without sending the result of its task."""

    def __init__(self, pid: int, status: int | None) -> None:
        if status is not None and os.WIFSIGNALED(status):
            how = f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        elif status is not None and os.WIFEXITED(status):
            how = f"exited with status {os.WEXITSTATUS(status)}"
        else:
            how = "closed its pipe"
        super().__init__("E_WORKER_FAILED", f"worker process {pid} {how} before finishing its task")


def _read_exactly(fd: int, count: int) -> bytes:
    chunks = []
    while count:
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _serve(task_fd: int, result_fd: int) -> None:
    """A worker's life: read a task, run it, send back ``(ok, result or exception)``; leave
    when the parent closes the task pipe."""
    while True:
        try:
            (length,) = _HEADER.unpack(_read_exactly(task_fd, _HEADER.size))
            function, argument = pickle.loads(_read_exactly(task_fd, length))
        except EOFError:
            return
        try:
            payload = pickle.dumps((True, function(argument)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - raised again in the parent
            try:
                payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)  # some exceptions pickle but cannot be rebuilt
            except Exception:  # noqa: BLE001 - sent as what it said
                payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        _send(result_fd, payload)


class _Worker:
    def __init__(self, pid: int, task_fd: int, result_fd: int) -> None:
        self.pid = pid
        self.task_fd = task_fd  # non-blocking: the parent never waits to hand out work
        self.result_fd = result_fd
        self.tickets: collections.deque[int] = collections.deque()  # its tasks, in order
        self.outbox = bytearray()  # task bytes the pipe has not taken yet

    def flush(self) -> None:
        """Write as much of the outbox as the pipe takes now."""
        try:
            while self.outbox:
                del self.outbox[: os.write(self.task_fd, self.outbox)]
        except BlockingIOError:
            pass
        except OSError:  # it died: its closed result pipe tells the parent
            self.outbox.clear()


#: Tasks handed to a worker ahead: enough to keep it busy while the parent works on
#: something else, few enough that an idle worker can still take from the shared queue.
_TASKS_AHEAD = 8


class ForkedPool:
    """``processes`` forked workers taking tasks in order. Use as a context manager; create
    it once everything the workers need is in place (they inherit it)."""

    def __init__(self, processes: int) -> None:
        self._workers: list[_Worker] = []
        self._waiting: collections.deque[tuple[int, bytes]] = collections.deque()
        self._done: dict[int, tuple[bool, Any]] = {}
        self._next_ticket = 0
        parent = os.getpid()
        try:
            for _ in range(max(processes, 1)):
                self._fork(parent)
        except BaseException:
            self.kill()
            raise

    def _fork(self, parent: int) -> None:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        with blocked():  # an interrupt waits until the worker is recorded (and so killable)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child, which never returns
                self._become_worker(parent, task_read, task_write, result_read, result_write)
            self._workers.append(_Worker(pid, task_write, result_read))
            os.close(task_read)
            os.close(result_write)
        os.set_blocking(task_write, False)

    def _become_worker(self, parent: int, task_read: int, task_write: int, result_read: int, result_write: int) -> None:
        """In the new child: set up (:func:`enter_worker`), serve tasks, and leave by ``os._exit``."""
        status = 0
        try:
            enter_worker(parent)
            # The pipes of the workers forked before this one are theirs, not ours.
            for worker in self._workers:
                os.close(worker.task_fd)
                os.close(worker.result_fd)
            os.close(task_write)
            os.close(result_read)
            _serve(task_read, result_write)
        except BaseException:  # noqa: BLE001 - the parent sees the closed pipe
            status = 1
        finally:
            os._exit(status)

    def __enter__(self) -> ForkedPool:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()

    def submit(self, function: Callable[[Any], Any], argument: Any) -> int:
        """Queue ``function(argument)``; return the ticket to ask :meth:`result` for."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._waiting.append((ticket, pickle.dumps((function, argument), pickle.HIGHEST_PROTOCOL)))
        self._dispatch()
        return ticket

    def map(self, function: Callable[[Any], Any], arguments: Iterable[Any]) -> Iterator[Any]:
        """``function(argument)`` for each, results in order; all are queued at once."""
        tickets = [self.submit(function, argument) for argument in arguments]
        return (self.result(ticket) for ticket in tickets)

    def result(self, ticket: int) -> Any:
        """Wait for the task's result (or raise its exception, or :class:`WorkerDied`)."""
        while ticket not in self._done:
            self._receive()
        ok, value = self._done.pop(ticket)
        if not ok:
            raise value
        return value

    def _dispatch(self) -> None:
        """Hand waiting tasks to the workers with the fewest ahead of them."""
        while self._waiting:
            worker = min(self._workers, key=lambda each: len(each.tickets), default=None)
            if worker is None or len(worker.tickets) >= _TASKS_AHEAD:
                break
            ticket, payload = self._waiting.popleft()
            worker.tickets.append(ticket)
            worker.outbox += _HEADER.pack(len(payload)) + payload
        for worker in self._workers:
            worker.flush()

    def _receive(self) -> None:
        """Wait until a busy worker sends a result (or dies), then give out more work."""
        if not any(worker.tickets for worker in self._workers):
            raise RuntimeError("no task is running")  # a ticket asked for twice: a bug
        poller = select.poll()
        by_fd = {}
        for worker in self._workers:
            if worker.tickets:
                poller.register(worker.result_fd, select.POLLIN)
                by_fd[worker.result_fd] = worker
            if worker.outbox:
                poller.register(worker.task_fd, select.POLLOUT)
                by_fd[worker.task_fd] = worker
        # poll is interrupted by a signal: a Ctrl-C ends this wait at once.
        for fd, _ in poller.poll():
            worker = by_fd[fd]
            if fd == worker.task_fd:
                worker.flush()
                continue
            try:
                (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
                ok, value = pickle.loads(_read_exactly(fd, length))
            except EOFError:
                raise self._lost(worker) from None
            self._done[worker.tickets.popleft()] = (ok, value)
        self._dispatch()

    def _lost(self, worker: _Worker) -> WorkerDied:
        self._workers.remove(worker)
        os.close(worker.task_fd)
        os.close(worker.result_fd)
        _, status = os.waitpid(worker.pid, 0)
        return WorkerDied(worker.pid, status)

    def close(self) -> None:
        """Stop the workers (closing their task pipes) and reap them; workers still busy
        with a task nobody will ask for are killed instead of waited for."""
        if self._waiting or any(worker.tickets for worker in self._workers):
            self.kill()
            return
        workers, self._workers = self._workers, []
        for worker in workers:
            os.close(worker.task_fd)
        for worker in workers:
            os.close(worker.result_fd)  # a worker still writing gets EPIPE and leaves
            os.waitpid(worker.pid, 0)

    def kill(self) -> None:
        """SIGKILL every worker and reap it: nothing of the pool is left running."""
        workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            os.close(worker.task_fd)
            os.close(worker.result_fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
