"""Built-in plugin: registry kinds excluded from the delta log by design.

``external`` — lives outside the repository (a database): no sealed evidence to diff.
``presentation`` — a rendered view, with no delta semantics.
The configured ``reason`` wins; otherwise the kind's default reason is given. (``collection``
has its own plugin, ``govern.plugins.collection``: excluded the same way until it selects members.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry, Workspace
    from govern.format.models import RegistryKind

DEFAULT_REASONS = {
    "external": "External system — cannot compute manifest diffs from repo evidence",
    "presentation": "Presentation-only — no meaningful delta semantics",
}


@hookimpl
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare kinds ``external`` and ``presentation``."""
    from govern.format.models import RegistryKind

    return [RegistryKind(name, reason, excluded=True) for name, reason in DEFAULT_REASONS.items()]


@hookimpl
def govern_exclusion(registry: Registry, workspace: Workspace) -> str | None:
    """The configured reason, else the kind's default; None for other kinds."""
    default = DEFAULT_REASONS.get(registry.kind)
    if default is None:
        return None
    return registry.config.reason or default
