"""A workspace's cache of what was read from a local folder, kept under the folder's fingerprint.

Reading a registry kept outside the runs root (an OCFL object, a BagIt bag) means validating it,
which hashes every file; a build would otherwise pay that for the whole history every time. So
each kind keeps what it read from each folder in one file,
``<workspace>/.govern/cache/<kind>/<sha256 of the folder's absolute path>.json``, holding the
cache's format, the folder's **fingerprint** and the reading (any canonical JSON), and reuses it
only when the fingerprint computed now equals the stored one.

What the fingerprint covers (docs/registry-kinds.md, "bagit" and "ocfl_object"): the caller's
salt (its cache format and the version of the validating library), and for every file, folder
and link in the folder (walked without following links) its path, type, size, modification
time and status-change time (both in nanoseconds), inode and device. Any write to a file
changes its modification *and* its status-change time, and the status-change time cannot be
set back from user space (``touch -d`` sets only the first), so an edit, a replaced file, a
renamed, added or removed file all miss the cache. What it cannot see: an edit on a filesystem
that keeps no status-change time, or one made below the filesystem (a raw disk write) or with
the system clock set back so both times repeat exactly. A copy of the folder elsewhere is a new
folder (new path, inodes): read anew. A cache file that is unreadable, or of another format, is
ignored and rewritten; one that cannot be written only costs the next build a new reading.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from govern.errors import GovernError
from govern.format.jsonio import dump_canonical, loads_strict
from govern.store.atomic import write_atomic

#: Where in the workspace the caches live, one folder per kind.
CACHE_ROOT = Path(".govern") / "cache"


def folder_fingerprint(folder: Path, salt: str) -> str:
    """The fingerprint of ``folder`` under ``salt`` (see the module's doc), a SHA-256 hex."""
    digest = hashlib.sha256(f"{salt}\0".encode())
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted([*dirs, *files, "."]):
            path = Path(parent) / name
            st = os.lstat(path)
            relative = path.relative_to(folder).as_posix()
            kind = "d" if stat.S_ISDIR(st.st_mode) else "l" if stat.S_ISLNK(st.st_mode) else "f"
            digest.update(
                f"{relative}\0{kind}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_dev}\n".encode("utf-8", "surrogateescape")
            )
    return digest.hexdigest()


class FolderCache:
    """The cache of one kind's readings in one workspace; ``cache_format`` names (and
    versions) what a reading means, so a reading of another format is never believed."""

    def __init__(self, workspace_root: Path, kind: str, cache_format: str) -> None:
        self.folder = workspace_root / CACHE_ROOT / kind
        self.cache_format = cache_format

    def cache_file(self, folder: Path) -> Path:
        """The cache file of the folder at ``folder``."""
        key = hashlib.sha256(os.fsencode(os.path.abspath(folder))).hexdigest()
        return self.folder / f"{key}.json"

    def reading(self, folder: Path, fingerprint: str) -> Any | None:
        """The stored reading of ``folder`` when its fingerprint is still ``fingerprint``, else
        None (also when the cache file is missing, unreadable or of another format)."""
        try:
            stored = loads_strict(self.cache_file(folder).read_bytes())
        except (OSError, ValueError, GovernError):
            return None
        if not isinstance(stored, dict) or stored.get("format") != self.cache_format or stored.get("fingerprint") != fingerprint:
            return None
        return stored.get("reading")

    def store(self, folder: Path, fingerprint: str, reading: Any) -> None:
        """Keep ``reading`` (canonical JSON) for ``folder`` under ``fingerprint``, written atomically."""
        document = {"format": self.cache_format, "fingerprint": fingerprint, "folder": os.path.abspath(folder), "reading": reading}
        target = self.cache_file(folder)
        # The cache only saves time: a workspace it cannot be written in (read-only, full)
        # still gets its folders read, every time.
        with contextlib.suppress(OSError, GovernError):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, dump_canonical(document))
