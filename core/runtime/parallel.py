"""Parallel work: one pool of forked workers, one failure policy.

Every piece of govern's parallel work goes through :class:`Parallel` — hashing in ``seal`` and
``verify``, reading large manifests in ``delta build``, checking large JSONL files in
``validate`` and ``verify --log`` (those through :func:`parallel_map`, which does a share of
the work in this process). It replaced three mechanisms after issue 12 (a process pool, a
fork per part, and module globals set before forking); the pool itself replaced
:class:`concurrent.futures.ProcessPoolExecutor` after issue 11, where a Ctrl-C reached the
workers too, one died holding the result queue's lock and the parent waited for good.

**What the workers work on** is the pool's ``shared`` object: the workers are forked once it
exists, so they inherit it (a run listing, a compiled schema, shared memory) and nothing but
the task is pickled on the way in. A task is ``function(shared, argument)``; ``function`` is
pickled by reference, so it must be module-level (:func:`parallel_map` takes any callable, as
the shared object).

**One failure policy.** A task whose worker dies (killed, out of memory) or that raises in
its worker is redone in this process when its result is asked for, so a dead worker never
loses a result and never becomes an error of its own; when the redo fails too, that error —
the real one — surfaces, exactly as without workers. Where ``fork`` is unavailable, or with
no workers asked for, every task runs in this process (at the moment its result is asked
for, so progress moves with the work).

**Workers never outlive govern.** Each runs :func:`enter_worker` first: it dies with its
parent (``PR_SET_PDEATHSIG``), ignores Ctrl-C (the parent decides, and kills it), and —
through :mod:`govern.store.locking`'s fork hook — holds no workspace lock. Each has its own
pair of pipes and a few tasks handed to it ahead; the parent writes tasks without ever
blocking and waits for results in ``poll`` (an interrupt ends the wait at once). Leaving the
pool normally stops the workers; leaving it by an exception (an interrupt included) kills
and reaps them before the exception goes on.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from govern.runtime.interrupts import INTERRUPT_SIGNALS, blocked

Part = TypeVar("Part")
Result = TypeVar("Result")

#: Whether this platform can fork (not Windows).
CAN_FORK = hasattr(os, "fork")

_PR_SET_PDEATHSIG = 1
_HEADER = struct.Struct("<Q")

#: Tasks handed to a worker ahead: enough to keep it busy while the parent works on
#: something else, few enough that an idle worker can still take from the shared queue.
_TASKS_AHEAD = 8


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


def _serve(shared: Any, task_fd: int, result_fd: int) -> None:
    """A worker's life: read a task, run it on ``shared``, send back ``(True, result)`` — or
    ``(False, None)`` when it raised (the parent redoes it and shows the error); leave when
    the parent closes the task pipe."""
    while True:
        try:
            (length,) = _HEADER.unpack(_read_exactly(task_fd, _HEADER.size))
            function, argument = pickle.loads(_read_exactly(task_fd, length))
        except EOFError:
            return
        try:
            payload = pickle.dumps((True, function(shared, argument)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - redone in the parent, where the error surfaces
            payload = pickle.dumps((False, None))
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


class Parallel:
    """``processes`` forked workers running tasks ``function(shared, argument)``, results
    asked for by ticket, in any order. Use as a context manager, and create it once
    ``shared`` holds everything the workers need (they inherit it when they fork).

    With ``processes`` below 1, or where ``fork`` is unavailable, there are no workers and
    every task runs in this process when its result is asked for."""

    def __init__(self, processes: int, shared: Any = None) -> None:
        self.shared = shared
        self._workers: list[_Worker] = []
        self._tasks: dict[int, tuple[Callable[[Any, Any], Any], Any]] = {}  # not answered yet
        self._waiting: collections.deque[tuple[int, bytes]] = collections.deque()  # no worker yet
        self._done: dict[int, Any] = {}  # answered by a worker
        self._redo: set[int] = set()  # failed in a worker, or lost with it: to run here
        self._next_ticket = 0
        if processes < 1 or not CAN_FORK:
            return
        parent = os.getpid()
        try:
            for _ in range(processes):
                self._fork(parent)
        except BaseException:
            self.kill()
            raise

    @property
    def processes(self) -> int:
        """How many workers are alive (0: every task runs in this process)."""
        return len(self._workers)

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
            _serve(self.shared, task_read, result_write)
        except BaseException:  # noqa: BLE001 - the parent sees the closed pipe and redoes the task
            status = 1
        finally:
            os._exit(status)

    def __enter__(self) -> Parallel:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()

    def submit(self, function: Callable[[Any, Any], Any], argument: Any) -> int:
        """Queue ``function(shared, argument)``; return the ticket to ask :meth:`result` for."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._tasks[ticket] = (function, argument)
        if self._workers:
            self._waiting.append((ticket, pickle.dumps((function, argument), pickle.HIGHEST_PROTOCOL)))
            self._dispatch()
        return ticket

    def map(self, function: Callable[[Any, Any], Any], arguments: Iterable[Any]) -> Iterator[Any]:
        """``function(shared, argument)`` for each, results in order; all are queued at once."""
        tickets = [self.submit(function, argument) for argument in arguments]
        return (self.result(ticket) for ticket in tickets)

    def result(self, ticket: int) -> Any:
        """The task's result: a worker's, or — when there is no worker for it, or its worker
        failed or died — computed here now (its exception, if any, raised)."""
        # While a worker is alive, every task not answered yet is held by one or waits for one.
        while ticket not in self._done and ticket not in self._redo and self._workers:
            self._receive()
        function, argument = self._tasks.pop(ticket)
        if ticket in self._done:
            return self._done.pop(ticket)
        self._redo.discard(ticket)
        return function(self.shared, argument)

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
            if worker not in self._workers:
                continue  # lost a moment ago, through its other pipe
            if fd == worker.task_fd:
                worker.flush()
                continue
            try:
                (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
                ok, value = pickle.loads(_read_exactly(fd, length))
            except EOFError:
                self._lose(worker)
                continue
            ticket = worker.tickets.popleft()
            if ok:
                self._done[ticket] = value
            else:
                self._redo.add(ticket)
        self._dispatch()

    def _lose(self, worker: _Worker) -> None:
        """A worker died: reap it; the tasks it held are redone here, the waiting ones go to
        the other workers (or here, when none is left)."""
        self._workers.remove(worker)
        self._redo.update(worker.tickets)
        os.close(worker.task_fd)
        os.close(worker.result_fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(worker.pid, 0)
        if not self._workers:
            self._waiting.clear()  # no one left to take them: each runs here when asked for

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
        self._waiting.clear()
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            os.close(worker.task_fd)
            os.close(worker.result_fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)


def _apply(function: Callable[[Part], Result], part: Part) -> Result:
    """A :func:`parallel_map` task: the pool's shared object is the function itself."""
    return function(part)


def parallel_map(function: Callable[[Part], Result], parts: Sequence[Part]) -> list[Result]:
    """``[function(part) for part in parts]``: the first part in this process, each other in a
    forked worker of its own, all at once; a part whose worker fails is redone here.

    ``function`` may be any callable (a closure, a partial): the workers inherit it. It must
    be pure — its effects in a worker vanish — and the caller chooses how many parts to
    make (usually by :func:`govern.runtime.jobs.default_jobs`)."""
    if len(parts) <= 1:
        return [function(part) for part in parts]
    with Parallel(len(parts) - 1, shared=function) as pool:
        tickets = [pool.submit(_apply, part) for part in parts[1:]]
        return [function(parts[0]), *(pool.result(ticket) for ticket in tickets)]
