"""The SHA-256 of git blobs, computed once per blob and kept in the workspace.

Git names a blob by the SHA-1 (or SHA-256) of its *object* (a header, then the content), not
by the SHA-256 of its content, which is what delta records carry. Hashing every blob of every
snapshot on every build would cost as much as reading the whole history, so each blob's
SHA-256 is kept, by its object id, in ``<workspace>/.govern/cache/git-blobs/digests.txt``:
one line per blob, ``<object id> <sha256> <check>``, where ``<check>`` is the first 16 hex
digits of the SHA-256 of ``"<object id> <sha256>"``. Lines are only ever appended (one write
per build), and a line that is truncated, garbled or whose check does not match is ignored on
read — that blob is simply hashed again. Object ids are content addresses, so one cache serves
every repository of the workspace (SHA-1 and SHA-256 ids never collide: they differ in length).
Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Where the cache lives, relative to the workspace root.
CACHE_FOLDER = Path(".govern") / "cache" / "git-blobs"
CACHE_NAME = "digests.txt"
_HEX = frozenset("0123456789abcdef")


def _check(object_id: str, sha256: str) -> str:
    return hashlib.sha256(f"{object_id} {sha256}".encode("ascii")).hexdigest()[:16]


class BlobDigestCache:
    """Blob object id -> SHA-256 of its content, read from and appended to the workspace's cache file."""

    def __init__(self, workspace_root: Path) -> None:
        self.path = workspace_root / CACHE_FOLDER / CACHE_NAME
        self.digests: dict[str, str] = self._read()
        self._new: dict[str, str] = {}

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_bytes().decode("ascii", errors="replace")
        except OSError:  # none yet, or unreadable: every blob is hashed, as on a first build
            return {}
        digests: dict[str, str] = {}
        for line in text.split("\n"):
            fields = line.split(" ")
            if len(fields) != 3:
                continue  # a torn last line, or garbage: hash that blob again
            object_id, sha256, check = fields
            if len(object_id) in (40, 64) and len(sha256) == 64 and _HEX.issuperset(object_id) and _HEX.issuperset(sha256) and check == _check(object_id, sha256):
                digests[object_id] = sha256
        return digests

    def get(self, object_id: str) -> str | None:
        """The cached SHA-256 of blob ``object_id``, or None."""
        return self.digests.get(object_id)

    def add(self, object_id: str, content: bytes) -> str:
        """Hash ``content`` (the blob ``object_id``), remember it, and return its SHA-256."""
        sha256 = hashlib.sha256(content).hexdigest()
        self.digests[object_id] = sha256
        self._new[object_id] = sha256
        return sha256

    def save(self) -> None:
        """Append the digests computed since the cache was read (one append; a cache that
        cannot be written is only a lost speed-up, never an error)."""
        if not self._new:
            return
        data = "".join(f"{oid} {sha} {_check(oid, sha)}\n" for oid, sha in self._new.items()).encode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size and not _ends_with_newline(fd):
                    data = b"\n" + data  # after a torn line, start a fresh one
                while data:  # a short write is possible for a large append
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)
        except OSError:
            return
        self._new.clear()


def _ends_with_newline(fd: int) -> bool:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n"
