"""Properties of the transparency log's Merkle tree (issue 14), checked against RFC 9162 written out here.

Everything govern computes is compared with code of this file that follows the RFC's text
(§2.1.1 MTH, §2.1.3 PATH, §2.1.4 PROOF/SUBPROOF, and the verification algorithms of §2.1.3.2
and §2.1.4.2) step by step, sharing nothing with ``govern.format.merkle`` but SHA-256: for
random logs and sizes m <= n, every proof govern generates is the RFC's proof and verifies with
the RFC's verifier; no proof verifies for a modified leaf or root; a compact range extended
in random chunks has the root of the whole log.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.format.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    root_of_records,
    verify_consistency,
    verify_inclusion,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- RFC 9162, written from its text -----------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of §2.1.1, recursively, over the leaves' data (not their hashes)."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _h(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return rfc_path(m, leaves[:k]) + [rfc_mth(leaves[k:])]
    return rfc_path(m - k, leaves[k:]) + [rfc_mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if b else [rfc_mth(leaves)]
    k = _k(n)
    if m <= k:
        return rfc_subproof(m, leaves[:k], b) + [rfc_mth(leaves[k:])]
    return rfc_subproof(m - k, leaves[k:], False) + [rfc_mth(leaves[:k])]


def rfc_verify_inclusion(leaf_index: int, tree_size: int, hash_: bytes, inclusion_path: list[bytes], root_hash: bytes) -> bool:
    """The verification algorithm of §2.1.3.2, step by step."""
    if leaf_index >= tree_size:  # step 1
        return False
    fn, sn = leaf_index, tree_size - 1  # step 2
    r = hash_  # step 3
    for p in inclusion_path:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = _h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash  # step 5


def rfc_verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]) -> bool:
    """The verification algorithm of §2.1.4.2, step by step (defined for 0 < first < second)."""
    if not path:  # step 1
        return False
    if first & (first - 1) == 0:  # step 2: first is an exact power of 2
        path = [first_hash] + path
    fn, sn = first - 1, second - 1  # step 3
    if fn & 1:  # step 4
        while fn & 1:
            fn >>= 1
            sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _h(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0  # step 7


# --- strategies --------------------------------------------------------------------------------

records = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@st.composite
def log_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """A log of at least one record and sizes 1 <= m <= n <= its length."""
    log = draw(records)
    n = draw(st.integers(1, len(log)))
    m = draw(st.integers(1, n))
    return log, m, n


def _modified(log: list[bytes], position: int) -> list[bytes]:
    return log[:position] + [log[position] + b"\x00"] + log[position + 1 :]


# --- the tree ----------------------------------------------------------------------------------


@SETTINGS
@given(log=st.lists(st.binary(max_size=12), max_size=70), chunks=st.lists(st.integers(0, 9), max_size=20))
def test_a_compact_range_extended_in_chunks_has_the_root_of_the_whole_log(log: list[bytes], chunks: list[int]) -> None:
    hashes = [leaf_hash(record) for record in log]
    edge, done = CompactRange.empty(), 0
    for chunk in chunks:
        edge = edge.append(hashes[done : done + chunk])
        done = min(len(log), done + chunk)
        assert edge.size == done
        # What a build seals, read back by the next one, goes on the same.
        edge = CompactRange.from_json(edge.to_json())
        assert edge.root() == rfc_mth(log[:done])
    edge = edge.append(hashes[done:])
    assert edge.root() == root_of(hashes) == root_of_records(log) == rfc_mth(log)
    assert edge == CompactRange.of(hashes)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(0, 1100), cuts=st.lists(st.integers(0, 1100), max_size=4))
def test_long_logs_appended_across_chunk_boundaries_have_the_rfc_root(size: int, cuts: list[int]) -> None:
    """Logs of up to 1,100 records appended at random cuts: the edge is the same whatever the cuts, its root the RFC's MTH."""
    log = [index.to_bytes(2, "big") for index in range(size)]
    hashes = [leaf_hash(record) for record in log]
    edge, done = CompactRange.empty(), 0
    for cut in sorted(min(cut, size) for cut in cuts):
        edge = edge.append(hashes[done:cut])
        done = cut
    edge = edge.append(iter(hashes[done:]))
    assert edge == CompactRange.of(hashes)
    assert edge.root() == root_of_records(log) == rfc_mth(log)


# --- proofs ------------------------------------------------------------------------------------


@SETTINGS
@given(data=log_and_sizes(), position=st.integers(0, 69))
def test_inclusion_proofs_are_the_rfcs_and_verify_independently(data: tuple[list[bytes], int, int], position: int) -> None:
    log, _, n = data
    index = position % n
    hashes = [leaf_hash(record) for record in log]
    root = rfc_mth(log[:n])
    proof = inclusion_proof(index, n, hashes)
    assert proof == rfc_path(index, log[:n])
    assert rfc_verify_inclusion(index, n, hashes[index], proof, root)
    verify_inclusion(hashes[index], index, n, proof, root)
    # A modified leaf, or the root of a log with any leaf modified, is never proven.
    bad_leaf = leaf_hash(log[index] + b"\x00")
    assert not rfc_verify_inclusion(index, n, bad_leaf, proof, root)
    with pytest.raises(ProofError, match="wrong root"):
        verify_inclusion(bad_leaf, index, n, proof, root)
    bad_root = rfc_mth(_modified(log[:n], position % n))
    assert not rfc_verify_inclusion(index, n, hashes[index], proof, bad_root)
    with pytest.raises(ProofError, match="wrong root"):
        verify_inclusion(hashes[index], index, n, proof, bad_root)


@SETTINGS
@given(data=log_and_sizes(), position=st.integers(0, 69))
def test_consistency_proofs_are_the_rfcs_and_verify_independently(data: tuple[list[bytes], int, int], position: int) -> None:
    log, m, n = data
    hashes = [leaf_hash(record) for record in log]
    root1, root2 = rfc_mth(log[:m]), rfc_mth(log[:n])
    proof = consistency_proof(m, n, hashes)
    verify_consistency(m, n, root1, root2, proof)
    if m == n:
        # RFC 9162 defines proofs for m < n only; between equal sizes govern's (transparency-dev's) is empty.
        assert proof == []
        return
    assert proof == rfc_subproof(m, log[:n], True)
    assert rfc_verify_consistency(m, n, root1, root2, proof)
    # One side rewritten: no proof holds between an original root and the root of the log
    # with any one of its first n records modified (or a root that is not a tree's at all).
    modified = _modified(log[:n], position % n)
    bad1, bad2 = rfc_mth(modified[:m]), rfc_mth(modified)
    for old, new in ((root1, bad2), (bad1, root2), (root1, _h(root2)), (_h(root1), root2)):
        if (old, new) != (root1, root2):
            assert not rfc_verify_consistency(m, n, old, new, proof)
            with pytest.raises(ProofError, match="wrong root"):
                verify_consistency(m, n, old, new, proof)
    # The attack: history before m rewritten, a proof made from the rewritten log does not
    # reach the root handed out at size m. (A change at or after m is a genuine extension.)
    if position % n < m:
        rewritten_proof = consistency_proof(m, n, [leaf_hash(record) for record in modified])
        assert not rfc_verify_consistency(m, n, root1, bad2, rewritten_proof)
        with pytest.raises(ProofError, match="wrong root"):
            verify_consistency(m, n, root1, bad2, rewritten_proof)


@SETTINGS
@given(data=log_and_sizes(), position=st.integers(0, 69))
def test_proofs_from_a_leaf_function_match_proofs_from_a_list(data: tuple[list[bytes], int, int], position: int) -> None:
    """A caller that reads leaf hashes on demand gets the same proofs, and is never asked for a leaf past the tree."""
    log, m, n = data
    hashes = [leaf_hash(record) for record in log]
    asked: list[int] = []

    def leaf_hash_at(index: int) -> bytes:
        asked.append(index)
        return hashes[index]

    assert inclusion_proof(position % n, n, leaf_hash_at) == inclusion_proof(position % n, n, hashes)
    assert consistency_proof(m, n, leaf_hash_at) == consistency_proof(m, n, hashes)
    assert all(0 <= index < n for index in asked)
