"""Where a ``git`` registry's history is: its repository, ref and subtree, read from the
registry's keys ``repo``, ``ref`` and ``path`` and checked (docs/registry-kinds.md (git))."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace

#: The registry keys a ``git`` registry may set (``repo`` and ``ref`` required; docs/configuration.md says what they mean).
KEYS = ("repo", "ref", "path")


@attrs.frozen
class GitSource:
    """One ``git`` registry's source: ``repository`` (absolute), ``location`` (how records name
    it: relative to the workspace in POSIX form, absolute when outside it), ``ref``, and
    ``subtree`` (a folder inside the repository, ``""`` for the whole tree)."""

    registry_id: str
    repository: Path
    location: str
    ref: str
    subtree: str

    def describe(self) -> str:
        """How error messages name this source: ``registries.ID: REPOSITORY@REF[:PATH]``."""
        where = f"{self.location}@{self.ref}"
        return f"registries.{self.registry_id}: {where}:{self.subtree}" if self.subtree else f"registries.{self.registry_id}: {where}"


def git_source(registry: Registry, workspace: Workspace) -> GitSource:
    """The registry's keys as a :class:`GitSource`; E_CONFIG_INVALID naming the key when
    one is missing or malformed."""
    from govern.errors import GovernError

    where = f"{workspace.config_path}: registries.{registry.id}"
    values: dict[str, str] = {}
    for name in KEYS:
        value = getattr(registry.config, name)
        if value is None and name != "path":
            raise GovernError("E_CONFIG_INVALID", f"{where}.{name}: required for kind 'git'")
        if value is not None and (not isinstance(value, str) or not value or any(ord(c) < 0x20 for c in value)):
            raise GovernError("E_CONFIG_INVALID", f"{where}.{name}: expected a non-empty string without control characters, got {value!r}")
        if value is not None:
            values[name] = value
    subtree = _subtree(values.get("path", ""), f"{where}.path")
    repository = Path(os.path.normpath(workspace.root / values["repo"]))
    try:
        location = repository.relative_to(Path(os.path.normpath(workspace.root))).as_posix()
    except ValueError:
        location = repository.as_posix()
    return GitSource(registry.id, repository, location, values["ref"], subtree)


def _subtree(path: str, where: str) -> str:
    """A repository folder as a clean relative POSIX path (``""``: the whole tree)."""
    from govern.errors import GovernError

    cleaned = path.strip("/")
    parts = PurePosixPath(cleaned).parts if cleaned else ()
    if "\\" in cleaned or any(part in {".", ".."} for part in cleaned.split("/")) or "//" in cleaned:
        raise GovernError("E_CONFIG_INVALID", f"{where}: {path!r} must be a folder of the repository (no '.', '..', '//' or '\\')")
    return "/".join(parts)
