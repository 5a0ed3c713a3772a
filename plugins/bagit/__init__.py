"""Built-in plugin: registry kind ``bagit`` — BagIt bags (RFC 8493) governed where they are —
and ``govern export RUN --format bagit DIR``, a sealed run written out as a bag.

A ``bagit`` registry's snapshots are the bags in one folder (its ``path``), each a source
version (:mod:`.source`): validated by bagit-python, read into logical paths and SHA-256
(:mod:`.reading`), the readings cached in the workspace (:mod:`.validation_cache`). Export:
:mod:`.export` (the bag) and :mod:`.export_cli` (the command). docs/registry-kinds.md
describes the kind for users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    import typer

    from govern.config.workspace import Registry, Workspace
    from govern.format.models import RegistryKind, SourceVersion
    from govern.runtime.progress import Progress

KIND = "bagit"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``bagit``: a folder of bags (or of one bag's versions), the registry's ``path``
    (required), in the order of its ``order_by``."""
    from govern.format.models import RegistryKind

    return [
        RegistryKind(
            KIND,
            "BagIt bags in a folder, each bag (or each version folder of one bag) a snapshot, validated by bagit-python",
            requires=("path",),
            keys=("path", "order_by"),
        )
    ]


@hookimpl
def govern_source_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
    """The registry's bags, oldest first; an invalid bag is a version with its ``problem``."""
    if registry.kind != KIND:
        return None
    from govern.plugins.bagit.source import source_versions

    return source_versions(registry, workspace, progress)


@hookimpl
def govern_register_commands(app: typer.Typer) -> None:
    """Mount ``govern export``."""
    from govern.plugins.bagit import export_cli

    export_cli.register(app)
