"""The workspace's cache of bag readings, so a build does not re-hash every bag every time.

One file per bag, ``<workspace>/.govern/cache/bagit/<sha256 of the bag's absolute path>.json``,
holding the bag's **fingerprint** and its :class:`~govern.plugins.bagit.reading.BagReading`.
A reading is reused only when the fingerprint computed now equals the stored one.

What the fingerprint covers (docs/registry-kinds.md, "bagit"): the cache's format, the
bagit-python version, and for every file, folder and link in the bag (walked without
following links) its path, type, size, modification time and status-change time (both in
nanoseconds), inode and device. Any write to a file changes its modification *and* its
status-change time, and the status-change time cannot be set back from user space (``touch
-d`` sets only the first), so an edit, a replaced file, a renamed, added or removed file all
miss the cache. What it cannot see: an edit on a filesystem that keeps no status-change time,
or one made below the filesystem (a raw disk write) or with the system clock set back so both
times repeat exactly. A copy of the bag elsewhere is a new bag (new path, inodes): read anew.
A cache file that is unreadable, or of another format, is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from govern.errors import GovernError
from govern.format.jsonio import dump_canonical, loads_strict
from govern.plugins.bagit.reading import BagReading
from govern.store.atomic import write_atomic

#: Bumped whenever a reading's meaning or the fingerprint's makeup changes.
CACHE_FORMAT = "govern-bagit-cache/1"
#: Where in the workspace the cache lives.
CACHE_DIR = Path(".govern") / "cache" / "bagit"


def bag_fingerprint(bag_dir: Path) -> str:
    """The fingerprint of ``bag_dir`` (see the module's doc), a SHA-256 hex."""
    import bagit

    digest = hashlib.sha256(f"{CACHE_FORMAT}\0bagit {bagit.VERSION}\0".encode())
    for folder, dirs, files in os.walk(bag_dir):
        dirs.sort()
        for name in sorted([*dirs, *files, "."]):
            path = Path(folder) / name
            st = os.lstat(path)
            relative = path.relative_to(bag_dir).as_posix()
            kind = "d" if stat.S_ISDIR(st.st_mode) else "l" if stat.S_ISLNK(st.st_mode) else "f"
            digest.update(
                f"{relative}\0{kind}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_dev}\n".encode("utf-8", "surrogateescape")
            )
    return digest.hexdigest()


def cache_file(workspace_root: Path, bag_dir: Path) -> Path:
    """The cache file of the bag at ``bag_dir``."""
    key = hashlib.sha256(os.fsencode(os.path.abspath(bag_dir))).hexdigest()
    return workspace_root / CACHE_DIR / f"{key}.json"


def cached_reading(workspace_root: Path, bag_dir: Path, fingerprint: str) -> BagReading | None:
    """The stored reading of the bag when its fingerprint is still ``fingerprint``, else None."""
    try:
        stored = loads_strict(cache_file(workspace_root, bag_dir).read_bytes())
        if stored.get("format") != CACHE_FORMAT or stored.get("fingerprint") != fingerprint:
            return None
        reading = stored["reading"]
        return BagReading(
            entries=dict(reading["entries"]),
            pin=reading["pin"],
            problem=reading["problem"],
            warnings=tuple(reading["warnings"]),
            info=dict(reading["info"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store_reading(workspace_root: Path, bag_dir: Path, fingerprint: str, reading: BagReading) -> None:
    """Keep ``reading`` for the bag under ``fingerprint`` (written atomically)."""
    document = {
        "format": CACHE_FORMAT,
        "fingerprint": fingerprint,
        "bag": os.path.abspath(bag_dir),
        "reading": {
            "entries": reading.entries,
            "pin": reading.pin,
            "problem": reading.problem,
            "warnings": list(reading.warnings),
            "info": reading.info,
        },
    }
    target = cache_file(workspace_root, bag_dir)
    # The cache only saves time: a workspace it cannot be written in (read-only, full) still
    # gets its bags read, every time.
    with contextlib.suppress(OSError, GovernError):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, dump_canonical(document))
