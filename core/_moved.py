"""Old module paths that keep working for one release, with a DeprecationWarning.

govern 0.1's plugins imported from flat modules (``govern.models``, ``govern.snapshots``, …).
Those modules moved into layered packages (docs/architecture.md); each old path is now a
small module whose attributes are looked up in the new homes on first use, so importing it
costs nothing and names the new place. The old paths go in govern 0.2.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable

# Not `from typing import Any`: typing costs ~2 ms that verify's quick answer (which reads
# govern.config.root) does not otherwise pay; type checkers know the name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The release that removes the old paths.
REMOVED_IN = "0.2"


def forwarding(old: str, *homes: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the old module ``old``: a name is looked up in ``homes``
    in order and returned with a DeprecationWarning that names where to import it from
    (``govern.api`` when the public API exports it)."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        for home in homes:
            module = importlib.import_module(home)
            if hasattr(module, name):
                api = importlib.import_module("govern.api")
                where = "govern.api" if name in api.__all__ else home
                warnings.warn(
                    f"{old}.{name} has moved: import it from {where} (the old path goes in govern {REMOVED_IN})",
                    DeprecationWarning,
                    stacklevel=2,
                )
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
