"""Test-only fault injection: crash points and failing system calls, armed by the environment.

Two variables, read at the moment of each call (never at import), from the invocation's
environment (:mod:`govern.runtime.environment`):

``GOVERN_FAULT=<point>[@N]``
    SIGKILL this process the Nth time (default: the first) it reaches the crash point
    ``<point>`` — e.g. ``before-publish:build`` or ``after-replace:atomic@3``. A SIGKILL runs
    no handler, no ``finally`` and no ``atexit``: it is the harshest crash a process can have
    short of a power cut. The points are listed in :data:`CRASH_POINTS`.
``GOVERN_FAULT_ACTION=stop``
    SIGSTOP instead of SIGKILL at that point, so that a harness can let the process run on
    (SIGCONT) and kill it a random moment later — random kills aimed at the write window
    rather than at interpreter start-up.
``GOVERN_FAULT_IO=<call>:<N>:<ERRNO>``
    Make the Nth ``os.write`` / ``os.fsync`` / ``os.replace`` made through govern's write path
    (:func:`write`, :func:`fsync`, :func:`replace`) fail with ``OSError(ERRNO)`` — e.g.
    ``fsync:2:EIO`` or ``write:1:ENOSPC`` — exactly as the kernel would report it.

``GOVERN_FAULT_NO_LOCK=1``
    ``delta build`` takes no workspace lock (and so removes no debris, which only the lock
    makes safe): it acts as a builder on another host, sharing no lock with the others — as
    on object storage — so that the race tests race on a local runs root and prove that the
    head commit alone keeps one build per sequence number (:func:`no_lock`).

With none set, each hook costs one environment lookup next to a system call. The crash
harness (``tests/test_crash_safety.py``) and the I/O-fault tests (``tests/test_io_faults.py``)
drive them; ``docs/reliability.md`` says which promise each proves.
"""

from __future__ import annotations

import errno
import os
import signal

from govern.errors import GovernError
from govern.runtime import environment

FAULT_ENV = "GOVERN_FAULT"
FAULT_ACTION_ENV = "GOVERN_FAULT_ACTION"
FAULT_IO_ENV = "GOVERN_FAULT_IO"
NO_LOCK_ENV = "GOVERN_FAULT_NO_LOCK"

#: The crash points govern passes through, in the order a command reaches them.
CRASH_POINTS: dict[str, str] = {
    "after-create:atomic": "write_atomic: the temporary file exists, still empty",
    "after-write:atomic": "write_atomic: the data is written to the temporary file, not yet fsynced",
    "after-replace:atomic": "write_atomic: the file is replaced, its directory not yet fsynced",
    "after-envelope:seal": "seal: run.json written (when the run had none)",
    "after-stage:reseal": "seal --reseal: the new manifest.json and MANIFEST.sha256 staged beside the run, the old seal untouched",
    "after-swap-manifest:reseal": "seal --reseal: the new manifest.json moved in, the staged MANIFEST.sha256 not yet",
    "after-manifest:seal": "seal: manifest.json written, MANIFEST.sha256 not yet",
    "after-seal:seal": "seal: MANIFEST.sha256 written (the commit point), nothing reported yet",
    "after-staging:build": "delta build: the staging folder exists, empty",
    "after-write:build": "delta build: the log is written in the staging folder, not yet sealed",
    "before-publish:build": "delta build: the staging folder is sealed and read back, nothing published yet",
    "after-publish:build": "delta build: the build run is published, its seal put last, its head not yet (not committed)",
    "after-commit:build": "delta build: the build's head is put (the commit point), nothing reported yet",
    "after-object:publish": "publish: one more object of the run is in the store (@N: the Nth), its seal not yet",
    "before-seal:publish": "publish: every object but MANIFEST.sha256 is in the store, the seal not yet put",
    "after-backup:repair": "repair --log: the backup is written, the log not yet truncated",
    "after-truncate:repair": "repair --log: the log is truncated and fsynced, nothing reported yet",
    "after-journal:governance": "governance change: every new document staged, the journal (commit point) written",
    "apply:governance": "governance change: before each staged document replaces its target (@N: the Nth)",
}

_IO_CALLS = ("write", "fsync", "replace")

#: How many times each crash point / system call was reached in this process.
_reached: dict[str, int] = {}


def reset() -> None:
    """Forget the counts (for in-process tests that arm a fault more than once)."""
    _reached.clear()


def _count(key: str) -> int:
    _reached[key] = _reached.get(key, 0) + 1
    return _reached[key]


def _bad_spec(variable: str, value: str, expected: str) -> GovernError:
    return GovernError("E_USAGE", f"{variable}={value!r}: expected {expected}")


def crash_point(name: str) -> None:
    """SIGKILL (or SIGSTOP) this process if ``GOVERN_FAULT`` arms ``name`` (on its Nth pass)."""
    spec = environment.current().get(FAULT_ENV)
    if not spec:
        return
    point, _, nth = spec.partition("@")
    if point != name:
        return
    if nth and not nth.isdigit():
        raise _bad_spec(FAULT_ENV, spec, "<point>[@N]")
    if _count("crash:" + name) == int(nth or 1):
        action = environment.current().get(FAULT_ACTION_ENV, "kill")
        if action not in ("kill", "stop"):
            raise _bad_spec(FAULT_ACTION_ENV, action, "kill or stop")
        os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)


def _inject(call: str, filename: object) -> None:
    """Raise the OSError ``GOVERN_FAULT_IO`` arms for this pass through ``call``, if any."""
    spec = environment.current().get(FAULT_IO_ENV)
    if not spec:
        return
    parts = spec.split(":")
    code = getattr(errno, parts[2], None) if len(parts) == 3 else None
    if len(parts) != 3 or parts[0] not in _IO_CALLS or not parts[1].isdigit() or not isinstance(code, int):
        raise _bad_spec(FAULT_IO_ENV, spec, "<write|fsync|replace>:<N>:<ERRNO name, e.g. ENOSPC or EIO>")
    if parts[0] == call and _count("io:" + call) == int(parts[1]):
        raise OSError(code, os.strerror(code), filename)


def write(fd: int, data: bytes | memoryview, path: object) -> int:
    """``os.write(fd, data)``, unless a fault is injected (``path`` names the file)."""
    _inject("write", path)
    return os.write(fd, data)


def fsync(fd: int, path: object) -> None:
    """``os.fsync(fd)``, unless a fault is injected (``path`` names the file or directory)."""
    _inject("fsync", path)
    os.fsync(fd)


def replace(source: os.PathLike[str] | str, target: os.PathLike[str] | str) -> None:
    """``os.replace(source, target)``, unless a fault is injected."""
    _inject("replace", target)
    os.replace(source, target)


def no_lock() -> bool:
    """True when ``GOVERN_FAULT_NO_LOCK=1`` asks a builder to take no workspace lock (tests only)."""
    return environment.current().get(NO_LOCK_ENV) == "1"
