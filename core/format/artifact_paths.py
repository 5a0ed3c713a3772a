"""Which manifest entries an artifact path selects: the entry at the path, or every entry under
it as a folder. Manifests are path-sorted, so a selection is a bisected range, not a scan."""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Sequence
from typing import Any

from govern.format.manifest import Manifest, ManifestEntry

_PATH_OF = operator.itemgetter(0)


def artifact_bounds(paths: Sequence[Any], relpath: str, key: Callable[[Any], str] | None = None) -> tuple[int | None, int, int]:
    """Where the entries at or under ``relpath`` lie in a path-sorted sequence: the index of
    ``relpath`` itself (None when not listed), and the block ``[start, stop)`` of paths under
    ``relpath/``. ``key`` gives an item's path (items are paths when None).

    Entries under a folder are one contiguous block, found by bisection instead of a scan.
    """
    index = bisect.bisect_left(paths, relpath, key=key)
    listed = index < len(paths) and (paths[index] if key is None else key(paths[index])) == relpath
    exact = index if listed else None
    # Paths under "a/" sort from "a/" up to (not including) "a0", '0' being the character after '/'.
    start = bisect.bisect_left(paths, relpath + "/", key=key)
    stop = bisect.bisect_left(paths, relpath + "0", lo=start, key=key)
    return exact, start, stop


def artifact_entries(files: Sequence[ManifestEntry], relpath: str | None) -> dict[str, ManifestEntry]:
    """Entries whose path is ``relpath`` or lies under it (every entry when relpath is None).

    ``files`` must be sorted by path, as every manifest that verifies is.
    """
    if relpath is None:
        return dict(zip(map(_PATH_OF, files), files))
    found: dict[str, ManifestEntry] = {}
    exact, start, stop = artifact_bounds(files, relpath, key=_PATH_OF)
    if exact is not None:
        found[relpath] = files[exact]
    block = files[start:stop]
    found.update(zip(map(_PATH_OF, block), block))
    return found


def artifact_columns(manifest: Manifest, relpath: str | None) -> tuple[Sequence[str], Sequence[str]]:
    """The paths and SHA-256s of the entries :func:`artifact_entries` selects, as two
    path-sorted columns (no per-entry objects: what a diff of large manifests reads)."""
    paths, digests = manifest.paths, manifest.digests
    if relpath is None:
        return paths, digests
    exact, start, stop = artifact_bounds(paths, relpath)
    if exact is None:
        return paths[start:stop], digests[start:stop]
    # relpath itself sorts before everything under it (a manifest that verifies never has both).
    return (paths[exact], *paths[start:stop]), (digests[exact], *digests[start:stop])


