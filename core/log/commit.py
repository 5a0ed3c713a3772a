"""Committing a build by its head object: one protocol for every store (docs/object-storage.md, "The commit protocol").

A build run is uploaded (sealed) first; it becomes a build only when the head numbered one
past the latest, ``_log/<seq:020>.json``, is put create-if-absent naming it. Of builders
racing for one sequence number exactly one put succeeds, without any lock: the others learn
who won and take back their run. The first build that writes heads puts the genesis head
(seq 0) first, naming the latest build made before the chain began.

A writer id, unique per build attempt, is in every head: when a put's answer is lost (a
timeout after the store wrote it, or a retry answered "already exists" for the writer's own
first attempt), the head read back tells whether this writer committed.
"""

from __future__ import annotations

import contextlib
import uuid

from govern.format.heads import GENESIS_SEQ, HeadLink, LogHead, head_key
from govern.log.heads import read_head
from govern.store.backend import AlreadyExists, Store

#: How many times a head put whose answer was lost (an error, the head still absent) is tried.
PUT_ATTEMPTS = 3


class CommitRaceLost(Exception):
    """Another writer's head holds the sequence number this build wanted."""

    def __init__(self, winner: LogHead) -> None:
        super().__init__(f"another build committed first: {winner.run_id} at seq {winner.seq}")
        self.winner = winner


def new_writer_id() -> str:
    """A writer id for one build attempt: random, never reused."""
    return uuid.uuid4().hex


def ensure_genesis(backend: Store, latest_before: str | None, root: str | None, writer_id: str, created_utc: str) -> LogHead:
    """The genesis head, put now naming ``latest_before`` (the latest build before the chain,
    its ROOT_SHA256 ``root``) when the runs root has none; the one already there otherwise
    (another writer may name another build: its genesis is the chain's)."""
    existing = read_head(backend, GENESIS_SEQ)
    if existing is not None:
        return existing
    genesis = LogHead(GENESIS_SEQ, latest_before, root, None, writer_id, created_utc)
    try:
        return put_head(backend, genesis)
    except CommitRaceLost as lost:
        return lost.winner  # put by another writer meanwhile: the chain's genesis all the same


def commit_build(backend: Store, base: HeadLink, run_id: str, root_sha256: str, writer_id: str, created_utc: str) -> LogHead:
    """Commit build ``run_id`` (uploaded and sealed) as the head after ``base``; return the head.

    Raises :class:`CommitRaceLost` when another writer's head took the sequence number first.
    """
    return put_head(backend, LogHead(base.seq + 1, run_id, root_sha256, base, writer_id, created_utc))


def put_head(backend: Store, head: LogHead) -> LogHead:
    """Put ``head`` create-if-absent and return it, telling a lost answer from a lost race by
    the writer id of the head read back. Raises :class:`CommitRaceLost` naming the head there,
    or the store's error when the put failed and no head was written."""
    key = head_key(head.seq)
    for attempt in range(1, PUT_ATTEMPTS + 1):
        try:
            backend.put(key, head.to_bytes(), if_absent=True)
            return head
        except AlreadyExists:
            pass
        except Exception:
            # The answer is lost, not necessarily the put: look before trying again.
            there = None
            with contextlib.suppress(Exception):
                there = read_head(backend, head.seq)
            if there is not None:
                return _judge(head, there)
            if attempt == PUT_ATTEMPTS:
                raise
            continue
        there = read_head(backend, head.seq)
        if there is None:  # deleted since? (only by hand) — try again
            continue
        return _judge(head, there)
    raise AlreadyExists(key)


def _judge(ours: LogHead, there: LogHead) -> LogHead:
    """``there`` when it is this writer's own head (its put landed), else CommitRaceLost."""
    if there.writer_id == ours.writer_id:
        return there
    raise CommitRaceLost(there)
