"""A tiny registry kind whose versions are kept outside the runs root, for the tests of the
build side of source snapshots (issue 16): ``folder_versions``.

Its ``path`` option names a folder; each sub-folder is one version (named ``v1``, ``v2``, …,
ordered by name), its files the version's logical state. A version holding a file named
``BROKEN`` does not validate: the file's text is its problem. The pin is the SHA-256 of the
version's ``sha256sum`` listing (as a bag's manifest would pin it). Also
:class:`SourceWorkspace`: a scratch workspace writing record version 0.2, which a source kind needs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import tomli_w

from govern import hookimpl
from govern.config.workspace import Registry, Workspace
from govern.format.models import RegistryKind, SourceVersion, source_listing
from govern.runtime.progress import Progress
from govern.testing import ScratchWorkspace

KIND = "folder_versions"
BROKEN = "BROKEN"


def read_versions(folder: Path) -> list[tuple[str, dict[str, str], str | None]]:
    """``(version, entries, problem)`` of every version under ``folder``, by name."""
    versions = []
    for version_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        entries = {
            path.relative_to(version_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(version_dir.rglob("*"))
            if path.is_file() and path.name != BROKEN
        }
        broken = version_dir / BROKEN
        versions.append((version_dir.name, entries, broken.read_text("utf-8").strip() if broken.exists() else None))
    return versions


class FolderVersions:
    """The ``folder_versions`` kind's plugin."""

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        """Declare ``folder_versions``: a third-party kind using the registry-level key ``path``."""
        return [RegistryKind(KIND, "versions as sub-folders of a folder (tests)", requires=("path",), keys=("path",))]

    @hookimpl
    def govern_source_versions(self, registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
        """Every sub-folder of the registry's ``path`` as a version."""
        if registry.kind != KIND:
            return None
        location = str(registry.config.path)
        return [
            SourceVersion(name, location, "sha256:" + hashlib.sha256(source_listing(entries)).hexdigest(), entries, problem)
            for name, entries, problem in read_versions(workspace.root / location)
        ]


class SourceWorkspace(ScratchWorkspace):
    """A :class:`ScratchWorkspace` whose config sets ``[workspace] record_version``."""

    record_version = "0.2"

    def write_config(self) -> None:
        """Write ``registry_config.toml`` with :attr:`record_version`."""
        config: dict[str, Any] = {
            "workspace": {
                "runs_root": ".codex/RUNS",
                "delta_log_artifact": "REGISTRY_DELTA_LOG_v0_1.jsonl",
                "record_version": self.record_version,
            },
            "plugins": {"disable": self.disable},
            "registries": self.registries,
        }
        (self.root / "registry_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
