"""The environment of the govern invocation running in this thread.

``govern.cli.main(argv, environ=…)`` binds the environment it was given for the length of
the invocation; everything below the CLI that reads a variable while a command runs
(``SOURCE_DATE_EPOCH`` for the clock, ``GOVERN_JOBS``, the fault-injection variables) reads it
through :func:`current`, never ``os.environ``. The binding is per thread (a
:class:`contextvars.ContextVar`, which threads do not share), so two invocations running
in-process side by side each see their own environment, and nothing is swapped in
``os.environ``. Outside an invocation (library use), :func:`current` is this process's
environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping

_invocation: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("govern_environment", default=None)


def current() -> Mapping[str, str]:
    """The running invocation's environment (this process's outside an invocation)."""
    bound = _invocation.get()
    return os.environ if bound is None else bound


@contextlib.contextmanager
def binding(environ: Mapping[str, str]) -> Iterator[None]:
    """Make ``environ`` the environment :func:`current` returns in this thread, for the block."""
    token = _invocation.set(environ)
    try:
        yield
    finally:
        _invocation.reset(token)
