"""The delta log's head objects: one per committed build, ``_log/<seq:020>.json`` (docs/object-storage.md, "The commit protocol").

A build is committed by the create-if-absent put of the head numbered one past the latest:
of two builders racing for a sequence number exactly one wins. Head 0, the *genesis*, is put
once, before the first build that writes heads: it names the latest build made before the
chain began (a workspace made by govern 0.1 has builds and no heads), or none. Every head is
canonical JSON; the keys and the parser live here, free of I/O, so every backend reads them
the same way.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict
from govern.format.paths import is_run_id

#: The folder of the head objects in a runs root (never a run: no run id starts with ``_``).
LOG_FOLDER = "_log"
HEAD_VERSION = "0.1"
#: The genesis head's sequence number; builds are committed from 1 on.
GENESIS_SEQ = 0
_HEAD_NAME = re.compile(r"(\d{20})\.json", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_FIELDS = {"head_version", "seq", "run_id", "root_sha256", "previous", "writer_id", "created_utc"}


class HeadFormatError(ValueError):
    """A head object that is not a head (bad JSON, a missing or unknown field, a wrong type)."""


def head_key(seq: int) -> str:
    """The key of head ``seq`` in the runs root: ``_log/<seq, 20 digits>.json``."""
    return f"{LOG_FOLDER}/{seq:020d}.json"


def head_seq(name: str) -> int | None:
    """The sequence number of the head object named ``name`` (``<20 digits>.json``), or None."""
    match = _HEAD_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


@attrs.frozen
class HeadLink:
    """Where a head points back to: the previous head's sequence number and build run id."""

    seq: int
    run_id: str | None

    def to_json(self) -> dict[str, Any]:
        """``{"seq", "run_id"}``."""
        return {"seq": self.seq, "run_id": self.run_id}


@attrs.frozen
class LogHead:
    """One head object: head ``seq`` commits build ``run_id`` whose ROOT_SHA256 is ``root_sha256``.

    The genesis (seq 0) names the latest build before the chain began, or none (``run_id`` and
    ``root_sha256`` null); its ``previous`` is null, every other head's is the head before it.
    ``writer_id`` is unique per build attempt: it tells a writer whose put succeeded but whose
    answer was lost that the head there is its own.
    """

    seq: int
    run_id: str | None
    root_sha256: str | None
    previous: HeadLink | None
    writer_id: str
    created_utc: str

    @property
    def link(self) -> HeadLink:
        """The link the next head records as its ``previous``."""
        return HeadLink(self.seq, self.run_id)

    def to_json(self) -> dict[str, Any]:
        """The head's JSON object (every field present)."""
        return {
            "head_version": HEAD_VERSION,
            "seq": self.seq,
            "run_id": self.run_id,
            "root_sha256": self.root_sha256,
            "previous": None if self.previous is None else self.previous.to_json(),
            "writer_id": self.writer_id,
            "created_utc": self.created_utc,
        }

    def to_bytes(self) -> bytes:
        """The head object's bytes: canonical JSON."""
        return dump_canonical(self.to_json(), floats=False)


def parse_head(data: bytes, key: str) -> LogHead:
    """The head stored at ``key``; :class:`HeadFormatError` naming what is wrong."""
    try:
        value = loads_strict(data)
    except StrictJSONError as exc:
        raise HeadFormatError(f"{key}: not JSON: {exc}") from None
    if not isinstance(value, dict) or set(value) != _FIELDS:
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise HeadFormatError(f"{key}: a head has exactly the fields {sorted(_FIELDS)}, found {found}")
    if value["head_version"] != HEAD_VERSION:
        raise HeadFormatError(f"{key}: head_version {value['head_version']!r} is not {HEAD_VERSION!r}")
    seq, run_id, root, previous = value["seq"], value["run_id"], value["root_sha256"], value["previous"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or key != head_key(seq):
        raise HeadFormatError(f"{key}: seq {seq!r} does not match the key")
    if seq != GENESIS_SEQ and (run_id is None or root is None):
        raise HeadFormatError(f"{key}: only the genesis head (seq 0) may name no build")
    if (run_id is None) != (root is None):
        raise HeadFormatError(f"{key}: run_id and root_sha256 are both set or both null")
    if run_id is not None and not (isinstance(run_id, str) and is_run_id(run_id)):
        raise HeadFormatError(f"{key}: run_id {run_id!r} is not a run id")
    if root is not None and not (isinstance(root, str) and _SHA256.fullmatch(root)):
        raise HeadFormatError(f"{key}: root_sha256 {root!r} is not a sha256")
    if not isinstance(value["writer_id"], str) or not isinstance(value["created_utc"], str):
        raise HeadFormatError(f"{key}: writer_id and created_utc are strings")
    link = None
    if previous is not None:
        if not (isinstance(previous, dict) and set(previous) == {"seq", "run_id"} and isinstance(previous["seq"], int)):
            raise HeadFormatError(f"{key}: previous is null or {{'seq', 'run_id'}}")
        link = HeadLink(previous["seq"], previous["run_id"])
    if (seq == GENESIS_SEQ) != (link is None):
        raise HeadFormatError(f"{key}: the genesis head, and only it, has no previous head")
    return LogHead(seq, run_id, root, link, value["writer_id"], value["created_utc"])
