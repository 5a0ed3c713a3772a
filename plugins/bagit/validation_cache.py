"""The workspace's cache of bag readings, so a build does not re-hash every bag every time.

One file per bag, ``<workspace>/.govern/cache/bagit/<sha256 of the bag's absolute path>.json``,
holding the bag's fingerprint and its :class:`~govern.plugins.bagit.reading.BagReading`,
through the shared protocol of :mod:`govern.store.folder_cache` (what the fingerprint covers
and cannot see is described there and in docs/registry-kinds.md, "bagit"); the fingerprint is
salted with this cache's format and the bagit-python version.
"""

from __future__ import annotations

from pathlib import Path

from govern.plugins.bagit.reading import BagReading
from govern.store.folder_cache import FolderCache, folder_fingerprint

#: Bumped whenever a reading's meaning or the fingerprint's makeup changes.
CACHE_FORMAT = "govern-bagit-cache/1"
KIND = "bagit"


def bag_fingerprint(bag_dir: Path) -> str:
    """The fingerprint of ``bag_dir``, a SHA-256 hex."""
    import bagit

    return folder_fingerprint(bag_dir, f"{CACHE_FORMAT}\0bagit {bagit.VERSION}")


def cached_reading(workspace_root: Path, bag_dir: Path, fingerprint: str) -> BagReading | None:
    """The stored reading of the bag when its fingerprint is still ``fingerprint``, else None."""
    reading = FolderCache(workspace_root, KIND, CACHE_FORMAT).reading(bag_dir, fingerprint)
    if reading is None:
        return None
    try:
        return BagReading(
            entries=dict(reading["entries"]),
            pin=reading["pin"],
            problem=reading["problem"],
            warnings=tuple(reading["warnings"]),
            info=dict(reading["info"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):  # not a reading of this format
        return None


def store_reading(workspace_root: Path, bag_dir: Path, fingerprint: str, reading: BagReading) -> None:
    """Keep ``reading`` for the bag under ``fingerprint``."""
    document = {
        "entries": reading.entries,
        "pin": reading.pin,
        "problem": reading.problem,
        "warnings": list(reading.warnings),
        "info": reading.info,
    }
    FolderCache(workspace_root, KIND, CACHE_FORMAT).store(bag_dir, fingerprint, document)
