"""Built-in plugin: the registry delta log's governance footprint.

Declares operation OP-QA11 "Registry Delta Log Build" (the ``govern delta build`` command,
coverage C3 with enforcement points E1, E2, E5, E6, E7) and contributes the
``registry_delta_log`` registry (kind ``sealed``) to the registry catalog. The build itself is
part of govern's evidence engine (:mod:`govern.log.build`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Workspace
    from govern.format.models import CatalogEntry, Operation


@hookimpl
def govern_operations() -> list[Operation]:
    """OP-QA11, the delta-log build."""
    from govern.format.models import Operation
    from govern.log.delta_log import BUILD_OP_ID, BUILD_OP_TITLE

    return [
        Operation(
            op_id=BUILD_OP_ID,
            title=BUILD_OP_TITLE,
            executables=("govern delta build",),
            coverage="C3",
            enforcement=("E1", "E2", "E5", "E6", "E7"),
        )
    ]


@hookimpl
def govern_catalog_addenda(workspace: Workspace) -> list[CatalogEntry]:
    """The delta log itself is a sealed registry."""
    from govern.format.models import CatalogEntry
    from govern.log.delta_log import DELTA_LOG_REGISTRY_ID

    return [
        CatalogEntry(
            registry_id=DELTA_LOG_REGISTRY_ID,
            kind="sealed",
            sealed=True,
            artifact=workspace.config.workspace.delta_log_artifact,
            description="Append-only JSONL log of registry snapshot transitions (govern delta build)",
        )
    ]
