"""Built-in plugin: registry kind ``ocfl_object`` — an OCFL object governed where it is.

The registry's snapshots are the object's versions ``v1..vN`` (:mod:`.versions`), each
recorded as a ``source_ref`` (docs/delta-log.md, "Snapshots kept outside the runs root"). The
object is validated first with ocfl-py's validator, in this process, by one validator for
every object (:mod:`.validation`), unless it is unchanged since it was last validated in the
workspace (:mod:`.validation_cache`); an invalid object's versions carry the OCFL code as their
``problem``. The registry's ``path`` is an object's root, or a storage root with
``object_id`` naming the object, found by the root's layout (:mod:`.layouts`: 0002,
0003, 0004, or a walk for ``0=ocfl_object_*``). docs/registry-kinds.md describes the kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace
    from govern.format.models import RegistryKind, SourceVersion
    from govern.runtime.progress import Progress

KIND = "ocfl_object"


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kind ``ocfl_object`` and its registry keys ``path`` (required) and ``object_id``."""
    from govern.format.models import RegistryKind

    return [
        RegistryKind(
            KIND,
            "an OCFL object (or one object of a storage root), governed where it is: its versions are the snapshots",
            requires=("path",),
            keys=("path", "object_id"),
        )
    ]


@hookimpl
def govern_source_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
    """The object's versions, oldest first, each with its logical state (path -> SHA-256)."""
    if registry.kind != KIND:
        return None
    from govern.plugins.ocfl_object.versions import object_versions

    return object_versions(registry, workspace, progress)
