"""The storage interface: a backend moves bytes by key and knows nothing of formats.

Keys are relative, ``/``-separated strings (``<run id>/manifest.json``). A backend lists keys
with their sizes, reads a key (whole, or a byte range), stats it, writes it — plainly, or
**only if it does not exist yet** (``if_absent``: the one atomic step a writer commits by) —
and deletes it. :class:`~govern.store.local.LocalStore` keeps keys as files under a folder,
:class:`~govern.store.memory.MemoryStore` in a dict (for tests); an object store fits the
same calls (S3: ListObjectsV2, GetObject with Range, HeadObject, PutObject with
``If-None-Match: *`` — a file streamed by multipart upload —, DeleteObject). Formats live in :mod:`govern.format`; the run store on
top of a backend in :mod:`govern.runs.run_store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable


class AlreadyExists(Exception):
    """A put with ``if_absent`` found the key already there: another writer got there first."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key}: already exists")
        self.key = key


class KeyNotFound(LookupError):
    """A get of a key the store does not hold."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key}: no such key")
        self.key = key


def check_key(key: str) -> str:
    """``key`` when it is a valid key (relative, ``/``-separated, no empty, ``.`` or ``..``
    segment, no NUL); else ValueError. Every backend checks its keys the same way."""
    parts = key.split("/")
    if not key or "\0" in key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{key!r}: not a store key (relative, '/'-separated, no empty, '.' or '..' segment)")
    return key


@runtime_checkable
class Store(Protocol):
    """Bytes at rest by key. Every method raises OSError (or a backend's own I/O error) when
    the medium fails; the callers above turn that into E_IO naming the key."""

    def list(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every key starting with ``prefix``, with its size in bytes, sorted by key."""
        ...

    def list_level(self, prefix: str = "") -> Iterator[tuple[str, bool]]:
        """One level of the key space under the folder ``prefix`` (``""`` or ending in ``/``):
        each name, and True when it is a folder (keys exist under ``prefix + name + "/"``)
        rather than a key, sorted by name — S3's ListObjectsV2 with ``Delimiter="/"``.
        Lets the run store list thousands of runs without listing every file of each."""
        ...

    def get(self, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of ``key`` (``data[start:end]`` when a range is given); KeyNotFound when absent."""
        ...

    def stat(self, key: str) -> int | None:
        """The size of ``key`` in bytes, or None when the store does not hold it."""
        ...

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` at ``key``, atomically (a reader sees the old bytes or the new, never a
        mix) and durably. With ``if_absent``, raise :class:`AlreadyExists` when ``key`` exists:
        of two writers racing for one key, exactly one succeeds."""
        ...

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        """Store the bytes of the local file ``path`` at ``key``, as :meth:`put` does
        (atomically, durably, ``if_absent`` raising :class:`AlreadyExists`), streamed: the
        file is read in chunks, never whole into memory (a run's payload may be gigabytes).
        A file that cannot be read is E_IO naming ``path``, and ``key`` is left as it was."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is absent."""
        ...
