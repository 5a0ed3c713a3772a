"""Built-in plugin: the honest fallback — basis ``unknown``, counts null, and the reason.

Registered ``trylast``, so it answers only when no other plugin could compute a delta.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    from govern.config.workspace import Registry
    from govern.format.models import Delta
    from govern.runs.views import Snapshot


def _why(snapshot: Snapshot, role: str) -> str | None:
    if snapshot.status == "sealed":
        return None
    return f"{role} snapshot {snapshot.run_id}: {snapshot.problem or snapshot.status}"


@hookimpl
def govern_delta_bases() -> list[str]:
    """Declare basis ``unknown``."""
    return ["unknown"]


@hookimpl(trylast=True)
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta:
    """Basis ``unknown`` with the reason the delta cannot be derived from sealed evidence."""
    from govern.format.models import Delta

    reasons = [r for r in (_why(before, "from") if before else None, _why(after, "to")) if r]
    reason = "; ".join(reasons) or f"no plugin can compute a delta for registry kind {registry.kind!r}"
    return Delta("unknown", unknown_reason=reason)
