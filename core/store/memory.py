"""An in-memory backend for tests: a dict of keys to bytes, with the local backend's semantics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from govern.store.backend import AlreadyExists, KeyNotFound, check_key
from govern.store.files import file_chunks


class MemoryStore:
    """:class:`~govern.store.backend.Store` in a dict; safe to share between threads."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        #: Makes put-if-absent one atomic step, as the local backend's link is.
        self._lock = threading.Lock()

    def list(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every key starting with ``prefix``, with its size, sorted by key."""
        with self._lock:
            found = sorted((key, len(data)) for key, data in self._data.items() if key.startswith(prefix))
        return iter(found)

    def list_level(self, prefix: str = "") -> Iterator[tuple[str, bool]]:
        """The names one level under the folder ``prefix``, each with True for a folder."""
        with self._lock:
            keys = [key[len(prefix) :] for key in self._data if key.startswith(prefix)]
        level: dict[str, bool] = {}
        for rest in keys:
            name, slash, _ = rest.partition("/")
            level[name] = level.get(name, False) or bool(slash)
        return iter(sorted(level.items()))

    def get(self, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of ``key`` (or ``[start:end]`` of them); KeyNotFound when absent."""
        with self._lock:
            data = self._data.get(check_key(key))
        if data is None:
            raise KeyNotFound(key)
        return data[start:end]

    def stat(self, key: str) -> int | None:
        """The size of ``key``, or None when absent."""
        with self._lock:
            data = self._data.get(check_key(key))
        return None if data is None else len(data)

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` at ``key``; with ``if_absent``, AlreadyExists when it is there."""
        with self._lock:
            if if_absent and check_key(key) in self._data:
                raise AlreadyExists(key)
            self._data[check_key(key)] = bytes(data)

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        """Store the bytes of the local file ``path`` at ``key`` (they end up in memory anyway)."""
        self.put(key, b"".join(file_chunks(Path(path))), if_absent=if_absent)

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        with self._lock:
            self._data.pop(check_key(key), None)
