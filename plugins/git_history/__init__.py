"""Built-in plugin: registry kind ``git`` — a repository's history, governed where it is.

Every commit of a ref's first-parent history that changes the registry's folder (the whole
tree by default) is a snapshot, oldest first: version = the commit id, pin =
``git:<commit id>``, entries = the folder's files at that commit -> SHA-256 of their content
(:mod:`.history`). Nothing is copied into the runs root: the build reads the versions through
``govern_source_versions`` and records them as source_refs. docs/registry-kinds.md (git)
describes the kind for users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace
    from govern.format.models import RegistryKind, SourceVersion
    from govern.runtime.progress import Progress

KIND = "git"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``git`` and its registry keys (``repo``, ``ref``, optional ``path``)."""
    from govern.format.models import RegistryKind
    from govern.plugins.git_history.source import KEYS

    return [
        RegistryKind(
            KIND,
            "a git repository's first-parent history: every commit that changes the folder is a snapshot, read where it is",
            requires=("repo", "ref"),
            keys=KEYS,
        )
    ]


@hookimpl
def govern_source_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
    """The registry's snapshot commits, oldest first, each with its whole state."""
    if registry.kind != KIND:
        return None
    from govern.plugins.git_history.history import read_versions
    from govern.plugins.git_history.source import git_source

    return read_versions(git_source(registry, workspace), workspace.root, progress)
