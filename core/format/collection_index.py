"""The collection index: the member runs of a ``collection`` registry at one instant (docs/registry-kinds.md (collection)).

A collection index run holds ``collection/index.jsonl``: one canonical JSONL line per member
run, sorted by run id, ``{"files": N, "manifest_sha256": "<ROOT_SHA256>", "run_id": "…"}``.
Same members → same bytes. The delta between two indexes names members as the paths
``members/<run id>``. Pure bytes ⇄ models, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from govern.format.jsonio import StrictJSONError, dump_jsonl_line
from govern.format.jsonl import parse_jsonl

#: The folder of an index run that is the collection's snapshot (its artifact).
INDEX_FOLDER = "collection"
#: The index file inside it.
INDEX_PATH = f"{INDEX_FOLDER}/index.jsonl"
#: Where a member appears in a delta record's paths.
MEMBER_PATH_PREFIX = "members/"


@attrs.frozen
class Member:
    """A member run of a collection, as the index records it."""

    run_id: str
    manifest_sha256: str
    files: int

    def to_json(self) -> dict[str, object]:
        """The member's index line, as an object."""
        return {"run_id": self.run_id, "manifest_sha256": self.manifest_sha256, "files": self.files}


def index_bytes(members: Iterable[Member]) -> bytes:
    """The canonical ``index.jsonl`` of ``members`` (sorted by run id)."""
    return b"".join(dump_jsonl_line(m.to_json(), floats=False) for m in sorted(members, key=lambda m: m.run_id))


def parse_index(data: bytes) -> dict[str, Member]:
    """The members of an ``index.jsonl``, by run id; StrictJSONError (with the line) when a
    line is not a member object or a run id repeats."""
    members: dict[str, Member] = {}
    for number, value in parse_jsonl(data):
        if not isinstance(value, dict) or set(value) != {"run_id", "manifest_sha256", "files"}:
            raise StrictJSONError("expected an object with exactly run_id, manifest_sha256 and files", number, 1)
        run_id, digest, files = value["run_id"], value["manifest_sha256"], value["files"]
        if not isinstance(run_id, str) or not isinstance(digest, str) or not isinstance(files, int) or isinstance(files, bool):
            raise StrictJSONError("run_id and manifest_sha256 must be strings, files an integer", number, 1)
        if run_id in members:
            raise StrictJSONError(f"run {run_id} is listed twice", number, 1)
        members[run_id] = Member(run_id, digest, files)
    return members


def member_path(run_id: str) -> str:
    """The delta path naming a member run."""
    return MEMBER_PATH_PREFIX + run_id


@attrs.frozen
class MemberChanges:
    """What changed between two indexes: members added, removed, and re-sealed (same run id,
    another manifest SHA-256 — rewritten history)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    resealed: tuple[tuple[Member, Member], ...]


def compare_indexes(before: Mapping[str, Member], after: Mapping[str, Member]) -> MemberChanges:
    """Members added, removed and re-sealed from ``before`` to ``after``, each sorted by run id."""
    added = tuple(sorted(after.keys() - before.keys()))
    removed = tuple(sorted(before.keys() - after.keys()))
    resealed = tuple(
        (before[run_id], after[run_id])
        for run_id in sorted(before.keys() & after.keys())
        if before[run_id].manifest_sha256 != after[run_id].manifest_sha256
    )
    return MemberChanges(added, removed, resealed)
