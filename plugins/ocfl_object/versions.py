"""An OCFL object's versions as govern's source versions: validated first
(:mod:`.validation`; the reading cached under the object's fingerprint, :mod:`.validation_cache`), then each version of the root inventory, oldest first, with its logical
state as path -> SHA-256 and the SHA-256 of its inventory as its pin.

Where the SHA-256 of a content file comes from, in this order (never from md5 or sha1 fixity:
two different files can share an md5): the inventory's own digests when its
``digestAlgorithm`` is sha256; a ``sha256`` fixity block when it covers every content file;
else the file is hashed, once per unique content digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError
from govern.format.jsonio import dump_canonical
from govern.format.models import SourceVersion
from govern.plugins.ocfl_object.layouts import find_object, inventory_id, is_storage_root, walk_objects
from govern.plugins.ocfl_object.validation import validate_object
from govern.plugins.ocfl_object.validation_cache import ObjectReading, cached_reading, object_fingerprint, store_reading
from govern.runtime.progress import Progress

INVENTORY = "inventory.json"
#: The name of the one version an object whose inventory lists none is read as (it carries the problem).
UNREADABLE_VERSION = "invalid-object"
_VERSION_NAME = re.compile(r"^v(\d+)$")
_CHUNK = 1 << 20


def _location(path: Path, workspace: Workspace) -> str:
    """``path`` relative to the workspace (POSIX), absolute when outside it. Symbolic links
    are not resolved: the location is where the configuration says the object is."""
    try:
        return path.relative_to(os.path.abspath(workspace.root)).as_posix()
    except ValueError:
        return path.as_posix()


def object_root(registry: Registry, workspace: Workspace) -> Path:
    """The object's root: the registry's ``path``, or under that storage root the object
    ``object_id`` (E_OCFL_OBJECT_NOT_FOUND / E_CONFIG_INVALID naming what is wrong)."""
    config = registry.config
    path = Path(os.path.abspath(workspace.root / str(config.path)))
    object_id = config.object_id
    where = f"{workspace.config_path}: registries.{registry.id}"
    if not path.is_dir():
        raise GovernError("E_OCFL_OBJECT_NOT_FOUND", f"{where}.path: {path} is not a folder (an OCFL object or storage root)")
    if is_storage_root(path):
        if object_id is None:
            ids = ", ".join(sorted(repr(i) for i in map(inventory_id, walk_objects(path)) if i is not None)) or "none"
            raise GovernError(
                "E_CONFIG_INVALID", f"{where}.path: {path} is an OCFL storage root: set object_id to one of its objects ({ids})"
            )
        return find_object(path, object_id)
    if object_id is not None and object_id != inventory_id(path):
        raise GovernError("E_CONFIG_INVALID", f"{where}.object_id: {object_id!r}, but the object at {path} has id {inventory_id(path)!r}")
    return path


def _version_number(name: str) -> int:
    match = _VERSION_NAME.match(name)
    return int(match.group(1)) if match else -1


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _sha256_file(path: Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read (an invalid object's missing file)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _lowered(block: Any) -> dict[str, list[str]]:
    """A digest -> paths block with lower-cased digests (OCFL digests are case-insensitive)."""
    if not isinstance(block, dict):
        return {}
    lowered: dict[str, list[str]] = {}
    for digest, paths in block.items():
        if isinstance(digest, str) and isinstance(paths, list):
            lowered.setdefault(digest.lower(), []).extend(p for p in paths if isinstance(p, str))
    return lowered


def content_sha256(inventory: Mapping[str, Any], root: Path) -> dict[str, str]:
    """manifest digest (lower-case) -> SHA-256 of that content, by this module's rule."""
    manifest = _lowered(inventory.get("manifest"))
    algorithm = str(inventory.get("digestAlgorithm", "")).lower()
    if algorithm == "sha256":
        return {digest: digest for digest in manifest}
    fixity = inventory.get("fixity")
    sha256_block = _lowered(fixity.get("sha256")) if isinstance(fixity, dict) else {}
    by_content_path = {path: digest for digest, paths in sha256_block.items() for path in paths}
    if manifest and all(path in by_content_path for paths in manifest.values() for path in paths):
        return {digest: by_content_path[paths[0]] for digest, paths in manifest.items() if paths}
    computed: dict[str, str] = {}
    for digest, paths in manifest.items():
        for path in paths:  # one readable copy per unique content is enough
            sha256 = _sha256_file(root / path)
            if sha256 is not None:
                computed[digest] = sha256
                break
    return computed


def _created(value: Any) -> str | None:
    """An OCFL ``created`` date as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pin(root: Path, name: str, head: str, block: Any) -> str:
    """``sha256:`` of the bytes that fix version ``name``: its ``vN/inventory.json`` (the root
    inventory for the head, identical to it in a valid object); a version folder without its
    inventory (allowed, a warning) is pinned by its block of the root inventory, canonical."""
    inventory = root / (INVENTORY if name == head else f"{name}/{INVENTORY}")
    try:
        data = inventory.read_bytes()
    except OSError:
        data = dump_canonical({"version": name, "block": block})
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_object(root: Path, inventory: Any, fingerprint: str, workspace: Workspace) -> ObjectReading:
    """The object's validation and content SHA-256 (by ``inventory``, its root inventory read
    after ``fingerprint`` was taken), from the workspace's cache when the object's fingerprint
    is unchanged (:mod:`.validation_cache`), else validated and hashed."""
    reading = cached_reading(workspace.root, root, fingerprint)
    if reading is None:
        content = content_sha256(inventory, root) if isinstance(inventory, dict) else {}
        reading = ObjectReading(validate_object(root), content)
        store_reading(workspace.root, root, fingerprint, reading)
    return reading


def object_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion]:
    """The versions of the registry's object, oldest first; each carries the object's first
    OCFL error code (and the others found) as its problem when the object does not validate.
    The object's warnings (``W0xx``) go with its head version: they are what validating the
    object as it is now found, shown by the build that records that version."""
    root = object_root(registry, workspace)
    location = _location(root, workspace)
    # Fingerprinted before anything is read: an object changed while it is read is cached
    # under the older fingerprint, so the next build misses and reads it again.
    fingerprint = object_fingerprint(root)
    inventory = _read_json(root / INVENTORY)
    reading = read_object(root, inventory, fingerprint, workspace)
    validation = reading.validation
    problem = validation.problem()
    versions = inventory.get("versions") if isinstance(inventory, dict) else None
    if not isinstance(inventory, dict) or not isinstance(versions, dict) or not versions:
        # Nothing to read versions from: one version stands for the object, with its problem.
        reason = problem or "E063: the object has no readable inventory listing its versions"
        return [SourceVersion(UNREADABLE_VERSION, location, _pin(root, UNREADABLE_VERSION, "", None), {}, reason)]
    head = inventory.get("head") if isinstance(inventory.get("head"), str) else ""
    sha256_of = reading.content_sha256
    found = []
    for name in sorted(versions, key=lambda n: (_version_number(n), n)):
        block = versions[name]
        state = _lowered(block.get("state")) if isinstance(block, dict) else {}
        entries = {path: sha256_of[digest] for digest, paths in state.items() if digest in sha256_of for path in paths}
        created = _created(block.get("created")) if isinstance(block, dict) else None
        warnings = validation.warnings if name == head else ()
        found.append(SourceVersion(name, location, _pin(root, name, str(head), block), entries, problem, created, warnings))
    return found
