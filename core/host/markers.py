"""pluggy markers for the ``govern`` project: decorate hook implementations with :data:`hookimpl`."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("govern")
hookimpl = pluggy.HookimplMarker("govern")
