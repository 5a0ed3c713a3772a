"""Reading the delta log's head chain: ``_log/<seq:020>.json`` in the runs root (docs/object-storage.md, "The commit protocol").

Readers find the latest build from the heads, never from the build runs alone: a build run
without a head was never committed. The latest head is found by probing upward from the last
known sequence number (a listing of ``_log/`` when nothing is known), one ``stat`` per step,
so a reader that kept its position pays one request for "nothing new".
"""

from __future__ import annotations

from govern.errors import GovernError, Problem
from govern.format.heads import GENESIS_SEQ, LOG_FOLDER, HeadFormatError, LogHead, head_key, head_seq, parse_head
from govern.store.backend import KeyNotFound, Store


def read_head(backend: Store, seq: int) -> LogHead | None:
    """Head ``seq``, or None when there is none; E_LOG_INVALID naming the key when it is not a head."""
    key = head_key(seq)
    try:
        data = backend.get(key)
    except KeyNotFound:
        return None
    try:
        return parse_head(data, key)
    except HeadFormatError as exc:
        raise GovernError("E_LOG_INVALID", f"{exc}") from None


def listed_head_seqs(backend: Store) -> list[int]:
    """The sequence numbers of the head objects a listing of ``_log/`` shows, ascending
    (other names there are not heads and are skipped)."""
    seqs = (head_seq(key[len(LOG_FOLDER) + 1 :]) for key, _ in backend.list(LOG_FOLDER + "/"))
    return sorted(seq for seq in seqs if seq is not None)


def latest_head(backend: Store, known: int | None = None) -> LogHead | None:
    """The latest head, or None when the runs root has no head chain yet (no genesis).

    Probes upward from head ``known`` (a sequence number known to exist), else from the last
    head a listing of ``_log/`` shows: a listing may lag behind a put on some stores, a probe
    by key never does.
    """
    if known is None:
        seqs = listed_head_seqs(backend)
        if not seqs:
            known = GENESIS_SEQ if backend.stat(head_key(GENESIS_SEQ)) is not None else None
        else:
            known = seqs[-1]
    if known is None:
        return None
    while backend.stat(head_key(known + 1)) is not None:
        known += 1
    return read_head(backend, known)


def read_chain(backend: Store) -> list[LogHead]:
    """Every head from the genesis on, by sequence number, up to the first gap (a head after a
    gap is not reachable from the genesis: ``verify --log`` reports it, :func:`unreachable_heads`)."""
    heads: list[LogHead] = []
    while (head := read_head(backend, GENESIS_SEQ + len(heads))) is not None:
        heads.append(head)
    return heads


def unreachable_heads(backend: Store) -> list[int]:
    """The sequence numbers of listed heads beyond the first gap in the listed sequence.

    Judged from one listing alone, so that a head a builder commits while a reader checks is
    never taken for one behind a gap: heads are put in order and never deleted, so a gap in a
    listing is a real one."""
    expected = GENESIS_SEQ
    listed = sorted(listed_head_seqs(backend))
    for index, seq in enumerate(listed):
        if seq != expected:
            return listed[index:]
        expected += 1
    return []


def chain_problems(backend: Store, build_roots: dict[str, str | None], chain: list[LogHead] | None = None) -> tuple[int, list[Problem]]:
    """``verify --log``'s check of the head chain: how many heads, and what is wrong.

    The heads are contiguous from the genesis (no gap, nothing unreachable after one), each
    links to the head before it (its ``previous`` is that head's seq and run id), and each
    names a build whose seal has the ROOT_SHA256 the head commits (``build_roots``: each
    committed build's root as verified; the genesis's build is one of them). ``chain`` is the
    chain as read when the builds were listed (heads committed since are not this check's).
    """
    problems: list[Problem] = []
    if chain is None:
        try:
            chain = read_chain(backend)
        except GovernError as error:
            return 0, [Problem(error.code, LOG_FOLDER, error.message)]
    for seq in unreachable_heads(backend):
        problems.append(Problem("E_LOG_TAMPERED", head_key(seq), "follows a gap in the head chain"))
    for before, head in zip([None, *chain], chain):
        key = head_key(head.seq)
        if before is not None and head.previous != before.link:
            problems.append(Problem("E_LOG_TAMPERED", key, f"links to {head.previous}, the head before it is {before.link}"))
        if head.run_id is None:
            continue
        if head.run_id not in build_roots:
            problems.append(Problem("E_LOG_TAMPERED", key, f"commits build {head.run_id}, which is not in the runs root"))
        elif build_roots[head.run_id] != head.root_sha256:
            problems.append(
                Problem("E_LOG_TAMPERED", key, f"commits ROOT_SHA256 {head.root_sha256}, build {head.run_id}'s seal has {build_roots[head.run_id]}")
            )
    return len(chain), problems
