"""The workspace's cache of OCFL object readings, so a build does not re-validate an object
(every content file's digest re-computed by ocfl-py) when nothing in it changed.

One file per object, ``<workspace>/.govern/cache/ocfl_object/<sha256 of the object root's
absolute path>.json``, through the shared protocol of :mod:`govern.store.folder_cache`: the
object's fingerprint (every file, folder and link under its root, by stat; salted with this
cache's format and ocfl-py's version) and its :class:`ObjectReading` — what ocfl-py's
validator found and the SHA-256 of each content the plugin computed. What the key covers and
what it cannot see: docs/registry-kinds.md, "ocfl_object", "The validation cache".
"""

from __future__ import annotations

from pathlib import Path

import attrs

from govern.plugins.ocfl_object.validation import ObjectValidation
from govern.store.folder_cache import FolderCache, folder_fingerprint

#: Bumped whenever a reading's meaning or the fingerprint's makeup changes.
CACHE_FORMAT = "govern-ocfl-object-cache/1"
KIND = "ocfl_object"


@attrs.frozen
class ObjectReading:
    """What reading one object costs a full pass for: its validation, and manifest digest
    (lower-case) -> SHA-256 of that content (``versions.content_sha256``)."""

    validation: ObjectValidation
    content_sha256: dict[str, str]


def object_fingerprint(root: Path) -> str:
    """The fingerprint of the object at ``root``, a SHA-256 hex."""
    import ocfl

    return folder_fingerprint(root, f"{CACHE_FORMAT}\0ocfl-py {ocfl.__version__}")


def cached_reading(workspace_root: Path, root: Path, fingerprint: str) -> ObjectReading | None:
    """The stored reading of the object when its fingerprint is still ``fingerprint``, else None."""
    stored = FolderCache(workspace_root, KIND, CACHE_FORMAT).reading(root, fingerprint)
    if stored is None:
        return None
    try:
        errors = tuple((str(code), str(message)) for code, message in stored["errors"])
        warnings = tuple(str(warning) for warning in stored["warnings"])
        content = stored["content_sha256"]
        if not isinstance(content, dict) or not all(isinstance(v, str) for v in content.values()):
            return None
        return ObjectReading(ObjectValidation(errors, warnings), dict(content))
    except (ValueError, KeyError, TypeError, AttributeError):  # not a reading of this format
        return None


def store_reading(workspace_root: Path, root: Path, fingerprint: str, reading: ObjectReading) -> None:
    """Keep ``reading`` for the object under ``fingerprint``."""
    document = {
        "errors": [list(error) for error in reading.validation.errors],
        "warnings": list(reading.validation.warnings),
        "content_sha256": reading.content_sha256,
    }
    FolderCache(workspace_root, KIND, CACHE_FORMAT).store(root, fingerprint, document)
