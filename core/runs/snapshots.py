"""Snapshots of file-artifact registries: finding them among runs, reading their sealed bytes,
and the manifest diff between two of them.

A run is a snapshot of a registry when it holds the registry's artifact (a file, or a folder:
any file under it). The built-in ``sealed`` kind is exactly this; a plugin adding a kind whose
snapshots are found the same way (``jsonl_records`` in ``examples/``) calls
:func:`discover_artifact_snapshots` instead of re-implementing it, and builds a finer delta on
top of :func:`manifest_delta` with bytes read through :func:`sealed_file_bytes`.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence

from govern.errors import GovernError
from govern.format.artifact_paths import artifact_bounds
from govern.format.manifest import ManifestEntry
from govern.format.models import Delta
from govern.format.renames import pair_exact_renames
from govern.runs.views import RunView, Snapshot


def _holds_artifact(run: RunView, artifact: str) -> bool:
    return run.runs.holds(run.run_id, artifact)


def _lists_artifact(paths: Sequence[str], artifact: str) -> bool:
    """True when a path-sorted manifest lists ``artifact`` or a file under it."""
    exact, start, stop = artifact_bounds(paths, artifact)
    return exact is not None or start < stop


def classify_run(run: RunView, registry_id: str, artifact: str) -> Snapshot | None:
    """The snapshot ``run`` is of the registry, or None if it does not hold the artifact.

    A run whose seal verifies is a snapshot when its manifest lists the artifact (or a file
    under it). A run whose seal is broken, or that has no seal, cannot be trusted to say what
    it holds, so the artifact's presence in the run decides, and the snapshot is marked
    ``broken`` (with the first seal problem) or ``unsealed`` for the host to stop on or record
    as ``unknown``.
    """
    seal = run.seal
    if seal.ok and seal.manifest is not None:
        if _lists_artifact(seal.manifest.paths, artifact):
            return Snapshot(registry_id, run, artifact, "sealed")
        return None
    if not _holds_artifact(run, artifact):
        return None
    if not seal.sealed:
        return Snapshot(registry_id, run, artifact, "unsealed", "the run has no seal (MANIFEST.sha256)")
    first = seal.problems[0]
    more = f" (+{len(seal.problems) - 1} more)" if len(seal.problems) > 1 else ""
    return Snapshot(registry_id, run, artifact, "broken", f"seal does not verify: {first}{more}")


def discover_artifact_snapshots(registry_id: str, artifact: str, runs: Sequence[RunView]) -> list[Snapshot]:
    """Every run among ``runs`` holding ``artifact``, as snapshots, in the order of ``runs``."""
    found = (classify_run(run, registry_id, artifact) for run in runs)
    return [snapshot for snapshot in found if snapshot is not None]


def sealed_file_bytes(snapshot: Snapshot, path: str) -> bytes | None:
    """The bytes of ``path`` in a sealed snapshot, only if they are what its manifest pins.

    Returns None when the snapshot is not sealed, the manifest does not list ``path``, the
    file cannot be read, or its size or SHA-256 differs from the manifest entry (a file changed
    after sealing is not evidence). Callers fall back to what the manifest alone can say.
    """
    if snapshot.status != "sealed":
        return None
    entry = snapshot.artifact_entries().get(path)
    if entry is None:
        return None
    try:
        return snapshot.run.runs.read_sealed_file(snapshot.run.seal, path)
    except GovernError:
        return None


def diff_entries(before: Mapping[str, ManifestEntry], after: Mapping[str, ManifestEntry]) -> Delta:
    """The ``manifest_diff`` delta between two ``path -> ManifestEntry`` maps.

    Present only after: added; only before: removed; in both with different SHA-256: modified;
    a removed and an added path with the same SHA-256: renamed (paired by
    :func:`~govern.format.renames.pair_exact_renames`). This is the rule's plain statement;
    :func:`diff_sorted_columns` computes the same delta for path-sorted columns (a test proves
    they agree).
    """
    added = [(path, after[path].sha256) for path in after.keys() - before.keys()]
    removed = [(path, before[path].sha256) for path in before.keys() - after.keys()]
    modified = [path for path, entry in after.items() if path in before and before[path].sha256 != entry.sha256]
    renamed, still_removed, still_added = pair_exact_renames(removed, added)
    return Delta("manifest_diff", added=still_added, removed=still_removed, modified=modified, renamed=renamed)


#: The first window :func:`diff_sorted_columns` compares in bulk; it doubles while entries agree.
_FIRST_WINDOW = 32
_LAST_WINDOW = 4096


def diff_sorted_columns(before: tuple[Sequence[str], Sequence[str]], after: tuple[Sequence[str], Sequence[str]]) -> Delta:
    """:func:`diff_entries` of two ``(paths, sha256s)`` column pairs, each sorted by path.

    One merge of the two sorted lists (no dict or set of a million paths is built, and the
    results come out sorted). Where the two sides are aligned — the same paths at the same
    offsets, most of a snapshot that changed little — a window of them is compared at once,
    in C, and the window doubles while they keep agreeing. Renames are paired among the
    removed and added paths only, by their digests.
    """
    before_paths, before_digests = before
    after_paths, after_digests = after
    # Indexes into the columns: the digests of removed and added paths are needed for renames.
    added: list[int] = []
    removed: list[int] = []
    modified: list[str] = []
    i = j = 0
    before_count, after_count = len(before_paths), len(after_paths)
    window = _FIRST_WINDOW
    while i < before_count and j < after_count:
        if before_paths[i : i + window] == after_paths[j : j + window]:
            # Aligned: the same paths. Modified are those whose digests differ (usually none).
            old_digests, new_digests = before_digests[i : i + window], after_digests[j : j + window]
            if old_digests != new_digests:
                paths = after_paths[j : j + window]
                modified.extend(itertools.compress(paths, map(operator.ne, old_digests, new_digests)))
            step = min(window, before_count - i, after_count - j)
            i += step
            j += step
            window = min(window * 2, _LAST_WINDOW)
            continue
        window = _FIRST_WINDOW
        old, new = before_paths[i], after_paths[j]
        if old == new:
            if before_digests[i] != after_digests[j]:
                modified.append(new)
            i += 1
            j += 1
        elif old < new:
            removed.append(i)
            i += 1
        else:
            added.append(j)
            j += 1
    removed.extend(range(i, before_count))
    added.extend(range(j, after_count))
    if not removed or not added:
        # Nothing can be renamed (a bootstrap adds everything): no pairs of a million paths built.
        return Delta("manifest_diff", added=[after_paths[k] for k in added], removed=[before_paths[k] for k in removed], modified=modified)
    renamed, still_removed, still_added = pair_exact_renames(
        [(before_paths[k], before_digests[k]) for k in removed], [(after_paths[k], after_digests[k]) for k in added]
    )
    return Delta("manifest_diff", added=still_added, removed=still_removed, modified=modified, renamed=renamed)


def manifest_delta(before: Snapshot | None, after: Snapshot) -> Delta | None:
    """The manifest diff of the artifact from ``before`` (None: bootstrap) to ``after``.

    None unless both snapshots are sealed: a diff is only derived from sealed manifests.
    """
    if after.status != "sealed" or (before is not None and before.status != "sealed"):
        return None
    return diff_sorted_columns(((), ()) if before is None else before.artifact_columns(), after.artifact_columns())
