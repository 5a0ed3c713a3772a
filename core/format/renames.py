"""Exact renames: a path removed and another added with the same SHA-256 in one transition.

The pairing rule of record version 0.2's ``renamed_paths`` (docs/delta-log.md, "Renames"):
for each digest, the removed paths holding it and the added paths holding it are each sorted
by the paths' UTF-8 bytes, and the i-th removed pairs with the i-th added; the paths left over
stay removed or added. Only content identity counts — never a similar name or similar bytes —
so a rename is exactly what ``git diff -M100%`` finds where the pairing is unambiguous.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

#: A rename: ``(from_path, to_path)``.
Rename = tuple[str, str]


def pair_exact_renames(
    removed: Sequence[tuple[str, str]], added: Sequence[tuple[str, str]]
) -> tuple[list[Rename], list[str], list[str]]:
    """``(renames, still_removed, still_added)`` of ``removed`` and ``added``, each a sequence of
    ``(path, sha256)``: the renames sorted by from-path, the rest sorted by path.

    UTF-8 orders bytes as code points are ordered, so sorting the strings sorts their bytes.
    """
    smaller, larger = (removed, added) if len(removed) <= len(added) else (added, removed)
    digests = {digest for _, digest in smaller}
    # Only a digest on both sides can make a rename: most transitions have none, and then no
    # path is looked at twice.
    shared = {digest for _, digest in larger if digest in digests}
    if not shared:
        return [], sorted(path for path, _ in removed), sorted(path for path, _ in added)
    added_by_digest: dict[str, list[str]] = defaultdict(list)
    for path, digest in sorted(entry for entry in added if entry[1] in shared):
        added_by_digest[digest].append(path)
    renames: list[Rename] = []
    still_removed: list[str] = []
    used: dict[str, int] = defaultdict(int)
    for path, digest in sorted(removed):
        candidates = added_by_digest.get(digest, ())
        if used[digest] < len(candidates):
            # Both sides are visited in sorted order, so the i-th removed path with this digest
            # takes the i-th added one.
            renames.append((path, candidates[used[digest]]))
            used[digest] += 1
        else:
            still_removed.append(path)
    taken = {new for _, new in renames}
    still_added = sorted(path for path, _ in added if path not in taken)
    return renames, still_removed, still_added


def as_written_before_renames(record: dict[str, Any]) -> dict[str, Any]:
    """A v0.2 record (JSON) as a build from before rename detection wrote it: each rename put
    back among the removed and the added paths, counts of a known basis recounted, and no
    ``renamed_paths``. What a check that rebuilds such a build's records compares against."""
    pairs = record.get("renamed_paths")
    if pairs is None:
        return record
    earlier = {key: value for key, value in record.items() if key != "renamed_paths"}
    earlier["added_paths"] = sorted([*record["added_paths"], *(new for _, new in pairs)])
    earlier["removed_paths"] = sorted([*record["removed_paths"], *(old for old, _ in pairs)])
    if record.get("delta_basis") != "unknown":
        earlier["counts"] = {**record["counts"], "added": len(earlier["added_paths"]), "removed": len(earlier["removed_paths"])}
    return earlier
