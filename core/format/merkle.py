"""The RFC 9162 Merkle tree of a log: hashes, compact ranges, inclusion and consistency proofs.

The delta log is a Merkle tree in the Certificate Transparency sense (RFC 9162 §2.1, the same
tree as RFC 6962): its leaves are the log's records in order, and

- a leaf hashes as ``SHA-256(0x00 ‖ data)`` (:func:`leaf_hash`; ``data`` is the record's line
  without its newline), an interior node as ``SHA-256(0x01 ‖ left ‖ right)`` (:func:`node_hash`);
- the tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``: its root
  is ``node_hash(MTH(D[0:k]), MTH(D[k:n]))``; the empty tree's root is ``SHA-256("")``
  (:data:`EMPTY_ROOT`).

A :class:`CompactRange` is the *right edge* of a tree: the roots of the perfect subtrees that
make up its ``n`` leaves, largest first (one per set bit of ``n``). It is all a build needs to
extend the tree: appending ``k`` leaves costs O(k + log n) hashes and the root O(log n), without
reading an old record again. It serialises to ``{"size": n, "hashes": [base64, …]}``.

Proofs follow RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency), with zero-based leaf
indexes, and are the proofs transparency-dev/merkle and Go's ``golang.org/x/mod/sumdb/tlog``
produce, node for node. Where RFC 9162 leaves a case to the verifier (its proofs are defined
for ``0 <= index < size`` and ``0 < size1 < size2``) govern decides as transparency-dev/merkle:

- an inclusion proof needs ``index < size``; any other index is refused;
- a consistency proof from size 0 is refused, generated or checked ("meaningless": every
  tree extends the empty one, so there is nothing to prove);
- between equal sizes the proof is empty and checks only that the two roots are equal;
- a proof longer or shorter than its sizes dictate is refused before any hashing.

The JSON of a proof is transparency-dev/merkle's test-data shape with the field names of
issue 14 and of the conformance vectors: ``{"leaf_index", "tree_size", "leaf_hash", "root",
"proof"}`` for inclusion, ``{"size1", "size2", "root1", "root2", "proof"}`` for consistency;
hashes in standard base64 with padding, as checkpoints carry them.

Pure functions over bytes: nothing here reads a file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from govern.format.plurals import plural

#: The length of every hash in the tree (SHA-256).
HASH_SIZE = 32
#: The root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256
_digest = operator.methodcaller("digest")

#: Where proof generation finds leaf hashes: a sequence of them, or a function of the index.
LeafHashes = Sequence[bytes] | Callable[[int], bytes]


class ProofError(ValueError):
    """A proof that does not hold: a wrong root, a proof of the wrong length, an index or size out of range."""


class MerkleFormatError(ValueError):
    """The JSON of a compact range or a proof that is not one (a missing or unknown key, a wrong type, bad base64)."""


# --- hashing -----------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """The leaf hash of one record: ``SHA-256(0x00 ‖ data)``."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 ‖ left ‖ right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


#: Leaves are hashed into perfect subtrees this many at a time (a power of two): a list
#: comprehension per level costs less per hash than the one-leaf-at-a-time carry loop.
_CHUNK_LEVEL = 8
_CHUNK = 1 << _CHUNK_LEVEL


def _push_leaves(stack: list[bytes], size: int, leaf_hashes: Iterable[bytes]) -> int:
    """Append ``leaf_hashes`` to the right edge ``stack`` of a tree of ``size`` leaves, in place; return the new size.

    The hot path of the module (the root of a million-record log). Leaves go one by one until
    the size is a multiple of a chunk, then a chunk at a time (each a perfect subtree, hashed
    level by level), and the last partial chunk one by one: the same tree, fewer Python steps
    per hash. Memory is one chunk plus the edge.
    """
    leaves = iter(leaf_hashes)
    size = _push_nodes(stack, size, itertools.islice(leaves, -size % _CHUNK), 0)
    while chunk := list(itertools.islice(leaves, _CHUNK)):
        if len(chunk) < _CHUNK:
            return _push_nodes(stack, size, chunk, 0)
        size = _push_nodes(stack, size, (_perfect_root(chunk),), _CHUNK_LEVEL)
    return size


def _push_nodes(stack: list[bytes], size: int, nodes: Iterable[bytes], level: int) -> int:
    """Append perfect subtrees of ``2**level`` leaves each to the right edge ``stack`` of a tree of ``size`` leaves.

    ``size`` must be a multiple of ``2**level``. Each node merges with the edge's subtrees as a
    binary counter carries (while the size's bit at that level is one), so ``k`` nodes cost
    ``k`` merges amortised plus at most log n. ``hashlib`` is called directly: a Python-level
    call per hash would cost more than the hash itself.
    """
    sha256, node_prefix, width = _sha256, _NODE_PREFIX, 1 << level
    pop, push = stack.pop, stack.append
    for node in nodes:
        carry = size >> level
        while carry & 1:
            node = sha256(node_prefix + pop() + node).digest()
            carry >>= 1
        push(node)
        size += width
    return size


def _perfect_root(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree (a power-of-two count of hashes), one level at a time."""
    sha256, node_prefix = _sha256, _NODE_PREFIX
    while len(hashes) > 1:
        pairs = iter(hashes)
        hashes = [sha256(node_prefix + left + right).digest() for left, right in zip(pairs, pairs, strict=True)]
    return hashes[0]


def _fold_edge(hashes: Sequence[bytes]) -> bytes:
    """The root of a tree from its right edge (largest subtree first): fold from the right."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 MTH) of all of ``leaf_hashes``, in one streaming pass.

    Memory is the right edge only (log n hashes), so the leaves can come from a generator.
    """
    stack: list[bytes] = []
    _push_leaves(stack, 0, leaf_hashes)
    return _fold_edge(stack)


def root_of_records(records: Iterable[bytes]) -> bytes:
    """The Merkle tree hash of a log whose leaves are ``records`` (its lines without their newlines)."""
    return root_of(leaf_hashes_of(records))


def leaf_hashes_of(records: Iterable[bytes]) -> Iterator[bytes]:
    """The leaf hashes of ``records``, lazily: :func:`leaf_hash` of each, for ``root_of`` or ``CompactRange.append``.

    The same hash as :func:`leaf_hash`, spelt as a chain of C-level maps so a million records
    cost no Python frame each (the bench of issue 14 holds the root to 1.5x bare SHA-256).
    """
    return map(_digest, map(_sha256, map(_LEAF_PREFIX.__add__, records)))


def aligned_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """``(first leaf, level)`` of the perfect subtrees, in order, that take a tree from ``start``
    leaves to ``end``: each the largest that begins on a multiple of its own size and fits —
    the nodes :meth:`CompactRange.append` merges into its edge. Each can be hashed apart (in
    another process) and handed to :meth:`CompactRange.with_subtrees`."""
    found: list[tuple[int, int]] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        found.append((start, level))
        start += 1 << level
    return found


# --- compact ranges ----------------------------------------------------------------------------


def _hash_tuple(hashes: Iterable[bytes]) -> tuple[bytes, ...]:
    """The hashes of an edge or a proof, frozen (the converter of their attrs field)."""
    return tuple(hashes)


def _check_edge(instance: CompactRange, attribute: attrs.Attribute[Any], hashes: tuple[bytes, ...]) -> None:
    """A right edge has one 32-byte hash per set bit of its size."""
    if instance.size < 0:
        raise ValueError(f"a compact range's size must be >= 0, not {instance.size}")
    if len(hashes) != instance.size.bit_count():
        want = plural(instance.size.bit_count(), "hash", "hashes")
        raise ValueError(f"a compact range of size {instance.size} needs {want} (one per set bit), not {len(hashes)}")
    for position, node in enumerate(hashes):
        if len(node) != HASH_SIZE:
            raise ValueError(f"compact range hash {position} is {len(node)} bytes, not {HASH_SIZE}")


@attrs.frozen
class CompactRange:
    """The right edge of a tree of ``size`` leaves: the roots of its perfect subtrees, largest first.

    The subtree of hash ``i`` covers as many leaves as the ``i``-th set bit of ``size``
    (counting from the top), so ``hashes`` has one entry per set bit. The empty range is
    ``CompactRange(0, ())``.
    """

    size: int
    hashes: tuple[bytes, ...] = attrs.field(converter=_hash_tuple, validator=_check_edge)

    @classmethod
    def empty(cls) -> CompactRange:
        """The right edge of the empty tree."""
        return cls(0, ())

    @classmethod
    def of(cls, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """The right edge of the tree of ``leaf_hashes``."""
        return cls.empty().append(leaf_hashes)

    def append(self, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """The right edge after appending ``leaf_hashes``: O(k + log n) hashes for k leaves on a tree of n."""
        stack = list(self.hashes)
        size = _push_leaves(stack, self.size, leaf_hashes)
        return CompactRange(size, stack)

    def with_subtrees(self, subtrees: Iterable[tuple[bytes, int]]) -> CompactRange:
        """The right edge after appending perfect subtrees given as ``(root, level)`` (``2**level``
        leaves each), in order — as :func:`aligned_subtrees` cuts them: each must begin on a
        multiple of its own size (ValueError otherwise)."""
        stack, size = list(self.hashes), self.size
        for node, level in subtrees:
            if size % (1 << level):
                raise ValueError(f"a subtree of {1 << level} leaves cannot begin at leaf {size}")
            size = _push_nodes(stack, size, (node,), level)
        return CompactRange(size, stack)

    def root(self) -> bytes:
        """The tree's root (RFC 9162 MTH), from the edge alone: O(log n) hashes."""
        return _fold_edge(self.hashes)

    def to_json(self) -> dict[str, Any]:
        """``{"size": n, "hashes": [base64, …]}``, the form a build seals to extend its tree next time."""
        return {"size": self.size, "hashes": [_b64(node) for node in self.hashes]}

    @classmethod
    def from_json(cls, value: Any) -> CompactRange:
        """The compact range written by :meth:`to_json`; :class:`MerkleFormatError` for anything else."""
        fields = _fields(value, "compact range", ("size", "hashes"))
        size = _size(fields["size"], "compact range", "size")
        hashes = _hash_list(fields["hashes"], "compact range", "hashes")
        try:
            return cls(size, hashes)
        except ValueError as error:
            raise MerkleFormatError(str(error)) from None


# --- proof generation --------------------------------------------------------------------------


def _leaf_source(leaves: LeafHashes, size: int) -> Callable[[int], bytes]:
    """The leaf hash at an index, from a sequence (which must hold ``size`` leaves) or a function."""
    if callable(leaves):
        return leaves
    if len(leaves) < size:
        raise ProofError(f"a tree of size {size} needs {plural(size, 'leaf hash', 'leaf hashes')}, {len(leaves)} given")
    return leaves.__getitem__


def _subtree_root(leaf_at: Callable[[int], bytes], start: int, end: int) -> bytes:
    """MTH of the leaves ``[start, end)``, streamed: O(end - start) hashes, O(log) memory."""
    return root_of(map(leaf_at, range(start, end)))


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, size: int, leaves: LeafHashes) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of the first ``size`` leaves (RFC 9162 §2.1.3.1).

    ``leaves`` is a sequence of leaf hashes or a function ``leaf_hash_at(i)``; only leaves
    below ``size`` are asked for, each once, so a function can read them from disk on demand.
    The proof lists the sibling subtree roots from the leaf up. :class:`ProofError` unless
    ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for a tree of size {size}")
    leaf_at = _leaf_source(leaves, size)
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, remembering the sibling at each split; the proof is read bottom-up.
    while end - start > 1:
        split = start + _largest_power_below(end - start)
        if index < split:
            path.append(_subtree_root(leaf_at, split, end))
            end = split
        else:
            path.append(_subtree_root(leaf_at, start, split))
            start = split
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, leaves: LeafHashes) -> list[bytes]:
    """The consistency proof that the tree of ``new_size`` leaves extends that of ``old_size`` (RFC 9162 §2.1.4.1).

    ``leaves`` as for :func:`inclusion_proof` (leaves below ``new_size``). Empty when the sizes
    are equal; :class:`ProofError` when ``old_size`` is 0 (a proof from the empty tree is
    meaningless, as transparency-dev/merkle says) or exceeds ``new_size``.
    """
    if old_size <= 0:
        raise ProofError(f"a consistency proof from size {old_size} is meaningless: the old size must be at least 1")
    if old_size > new_size:
        raise ProofError(f"the old size {old_size} is larger than the new size {new_size}")
    leaf_at = _leaf_source(leaves, new_size)
    path: list[bytes] = []
    start, end, whole = 0, new_size, True
    # RFC 9162 SUBPROOF(m, D[start:end], b), unrolled: m counts leaves of the old tree inside the window.
    m = old_size
    while m != end - start:
        split_width = _largest_power_below(end - start)
        if m <= split_width:
            path.append(_subtree_root(leaf_at, start + split_width, end))
            end = start + split_width
        else:
            path.append(_subtree_root(leaf_at, start, start + split_width))
            start += split_width
            m -= split_width
            whole = False
    if not whole:
        # The old tree is not a whole subtree of the new one: the verifier needs this subtree's root.
        path.append(_subtree_root(leaf_at, start, end))
    path.reverse()
    return path


# --- proof verification ------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _check_proof_length(proof: Sequence[bytes], want: int, what: str) -> None:
    if len(proof) != want:
        raise ProofError(f"bad proof length: {what} needs {plural(want, 'hash', 'hashes')}, the proof has {len(proof)}")
    for position, node in enumerate(proof):
        _check_hash(node, f"proof hash {position}")


def _check_root(computed: bytes, expected: bytes, what: str) -> None:
    if computed != expected:
        raise ProofError(f"wrong root: {what} gives {computed.hex()}, not the expected {expected.hex()}")


def _inclusion_shape(index: int, size: int) -> tuple[int, int]:
    """How an inclusion proof splits (transparency-dev's decomposition): inner levels, then border.

    The *inner* part climbs to where the paths to ``index`` and to the last leaf meet, with
    siblings on either side; above it, every *border* node is a left sibling (one per set bit
    of ``index`` above that level).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Climb the inner levels: the sibling is on the right where ``index``'s bit is 0."""
    for level, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if (index >> level) & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Climb the inner levels keeping only left siblings: the old tree's root grows only leftwards."""
    for level, sibling in enumerate(proof):
        if (index >> level) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border(seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Climb the border: every sibling there is on the left."""
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``proof`` proves leaf ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root`` (RFC 9162 §2.1.3.2).

    Returns None when it does; raises :class:`ProofError` naming what is wrong otherwise: an
    index out of range (``index >= size``), a leaf hash or proof hash not 32 bytes, a proof of
    the wrong length, or a proof that leads to another root.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for a tree of size {size}")
    _check_hash(leaf_hash, "the leaf hash")
    inner, border = _inclusion_shape(index, size)
    _check_proof_length(proof, inner + border, f"leaf {index} in a tree of size {size}")
    computed = _chain_border(_chain_inner(leaf_hash, proof[:inner], index), proof[inner:])
    _check_root(computed, root, f"the inclusion proof of leaf {index} in a tree of size {size}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that ``proof`` proves the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``) (RFC 9162 §2.1.4.2).

    Returns None when it does; raises :class:`ProofError` otherwise. Policy, as
    transparency-dev/merkle: ``old_size`` 0 is refused (meaningless), ``old_size > new_size``
    is refused, equal sizes need an empty proof and equal roots.
    """
    if old_size <= 0:
        raise ProofError(f"a consistency proof from size {old_size} is meaningless: the old size must be at least 1")
    if old_size > new_size:
        raise ProofError(f"the old size {old_size} is larger than the new size {new_size}")
    if old_size == new_size:
        _check_proof_length(proof, 0, f"consistency between equal sizes {old_size}")
        _check_root(new_root, old_root, f"the tree of size {new_size}")
        return
    # The proof is, but for its first hash, the tail of the inclusion proof of leaf old_size-1
    # in the new tree from the level of the old tree's last perfect subtree (its lowest set bit).
    inner, border = _inclusion_shape(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1
    inner -= shift
    if old_size == 1 << shift:
        # The old tree is a perfect subtree of the new one: its root is the seed, not sent.
        seed, tail = old_root, proof
        want = inner + border
    else:
        want = 1 + inner + border
        seed, tail = (proof[0] if proof else b""), proof[1:]
    _check_proof_length(proof, want, f"consistency from size {old_size} to {new_size}")
    mask = (old_size - 1) >> shift
    computed_old = _chain_border(_chain_inner_right(seed, tail[:inner], mask), tail[inner:])
    _check_root(computed_old, old_root, f"the consistency proof for the old tree of size {old_size}")
    computed_new = _chain_border(_chain_inner(seed, tail[:inner], mask), tail[inner:])
    _check_root(computed_new, new_root, f"the consistency proof for the new tree of size {new_size}")


# --- JSON shapes -------------------------------------------------------------------------------


@attrs.frozen
class InclusionProof:
    """An inclusion proof with what it proves: leaf ``leaf_hash`` at ``leaf_index`` in the tree (``tree_size``, ``root``)."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    proof: tuple[bytes, ...] = attrs.field(converter=_hash_tuple)

    def verify(self) -> None:
        """:func:`verify_inclusion` of this proof: None, or :class:`ProofError`."""
        verify_inclusion(self.leaf_hash, self.leaf_index, self.tree_size, self.proof, self.root)

    def to_json(self) -> dict[str, Any]:
        """``{"leaf_index", "tree_size", "leaf_hash", "root", "proof"}``, hashes in base64."""
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "root": _b64(self.root),
            "proof": [_b64(node) for node in self.proof],
        }

    @classmethod
    def from_json(cls, value: Any) -> InclusionProof:
        """The proof written by :meth:`to_json`; :class:`MerkleFormatError` for anything else (it does not verify it)."""
        what = "inclusion proof"
        fields = _fields(value, what, ("leaf_index", "tree_size", "leaf_hash", "root", "proof"))
        return cls(
            leaf_index=_size(fields["leaf_index"], what, "leaf_index"),
            tree_size=_size(fields["tree_size"], what, "tree_size"),
            leaf_hash=_hash(fields["leaf_hash"], what, "leaf_hash"),
            root=_hash(fields["root"], what, "root"),
            proof=_hash_list(fields["proof"], what, "proof"),
        )


@attrs.frozen
class ConsistencyProof:
    """A consistency proof with what it proves: the tree (``size2``, ``root2``) extends (``size1``, ``root1``)."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...] = attrs.field(converter=_hash_tuple)

    def verify(self) -> None:
        """:func:`verify_consistency` of this proof: None, or :class:`ProofError`."""
        verify_consistency(self.size1, self.size2, self.root1, self.root2, self.proof)

    def to_json(self) -> dict[str, Any]:
        """``{"size1", "size2", "root1", "root2", "proof"}`` (transparency-dev/merkle's names), hashes in base64."""
        return {
            "size1": self.size1,
            "size2": self.size2,
            "root1": _b64(self.root1),
            "root2": _b64(self.root2),
            "proof": [_b64(node) for node in self.proof],
        }

    @classmethod
    def from_json(cls, value: Any) -> ConsistencyProof:
        """The proof written by :meth:`to_json`; :class:`MerkleFormatError` for anything else (it does not verify it)."""
        what = "consistency proof"
        fields = _fields(value, what, ("size1", "size2", "root1", "root2", "proof"))
        return cls(
            size1=_size(fields["size1"], what, "size1"),
            size2=_size(fields["size2"], what, "size2"),
            root1=_hash(fields["root1"], what, "root1"),
            root2=_hash(fields["root2"], what, "root2"),
            proof=_hash_list(fields["proof"], what, "proof"),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fields(value: Any, what: str, names: tuple[str, ...]) -> dict[str, Any]:
    """``value`` as an object with exactly the keys ``names``."""
    if not isinstance(value, dict):
        raise MerkleFormatError(f"a {what} must be a JSON object, not {type(value).__name__}")
    missing = [name for name in names if name not in value]
    unknown = sorted(set(value) - set(names))
    if missing:
        raise MerkleFormatError(f"a {what} needs the key {missing[0]!r}")
    if unknown:
        raise MerkleFormatError(f"a {what} has the unknown key {unknown[0]!r}")
    return value


def _size(value: Any, what: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MerkleFormatError(f"{what} {key}: expected an integer >= 0, not {value!r}")
    return value


def _hash(value: Any, what: str, key: str) -> bytes:
    """A 32-byte hash in canonical standard base64 (so one hash has one spelling)."""
    if not isinstance(value, str):
        raise MerkleFormatError(f"{what} {key}: expected a base64 string, not {type(value).__name__}")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MerkleFormatError(f"{what} {key}: {value!r} is not standard base64") from None
    if len(decoded) != HASH_SIZE or _b64(decoded) != value:
        raise MerkleFormatError(f"{what} {key}: {value!r} is not the base64 of a {HASH_SIZE}-byte hash")
    return decoded


def _hash_list(value: Any, what: str, key: str) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise MerkleFormatError(f"{what} {key}: expected a list of base64 hashes, not {type(value).__name__}")
    return tuple(_hash(item, what, f"{key}[{position}]") for position, item in enumerate(value))
