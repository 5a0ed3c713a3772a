"""govern — seal run folders, keep a sealed append-only delta log of every registry, and
derive the governance books from that evidence.

Plugin authors import from :mod:`govern.api`, the supported public API (``from govern.api
import hookimpl``; ``from govern import hookimpl`` keeps working); the hook specifications,
with their documentation, are in :mod:`govern.host.hookspecs`, and the guide is ``docs/plugins.md``.
"""

from __future__ import annotations

from govern.__about__ import PROJECT_NAME, __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs ~2 ms that `govern --version`
# and verify's quick answer do not otherwise pay (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["__version__", "hookimpl", "hookspec", "PROJECT_NAME"]


def __getattr__(name: str) -> Any:
    # pluggy is imported on first use so `govern --version` stays fast.
    if name in ("hookimpl", "hookspec"):
        from govern.host import markers

        return getattr(markers, name)
    raise AttributeError(f"module 'govern' has no attribute {name!r}")
