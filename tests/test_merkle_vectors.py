"""The Merkle tree of the transparency log against every case of the RFC 6962 / RFC 9162 vectors (issue 14).

The vectors (``tests/vectors/tlog/vectors.json``, copied unedited; see its README) come from
transparency-dev/merkle, google/certificate-transparency and sigstore-python: hashing, the
8-leaf reference tree, valid and invalid proofs, two proofs from real logs, and every proof of
the 8-leaf tree as Go's ``sumdb/tlog`` generates it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from govern.format.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ConsistencyProof,
    InclusionProof,
    MerkleFormatError,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_of,
    root_of_records,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "tlog" / "vectors.json").read_text("utf-8"))
TREE = VECTORS["reference_tree"]
LEAVES = [bytes.fromhex(leaf) for leaf in TREE["leaves_hex"]]
LEAF_HASHES = [leaf_hash(leaf) for leaf in LEAVES]
GENERATED = VECTORS["generated_all_proofs_8leaf"]


def _hashes(hex_list: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in hex_list]


def _case_id(case: dict[str, Any]) -> str:
    if "why" in case:
        return case["why"]
    if "size1" in case:
        return f"{case['size1']}-{case['size2']}"
    return f"{case['leaf_index']}-of-{case['tree_size']}"


def _cases(section: str) -> Any:
    cases = VECTORS[section]
    return pytest.mark.parametrize("case", cases, ids=[_case_id(case) for case in cases])


# --- hashing and roots -------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["hasher"], ids=lambda case: case["kind"])
def test_hasher_cases(case: dict[str, Any]) -> None:
    want = bytes.fromhex(case["want"])
    if case["kind"] == "empty_tree":
        assert EMPTY_ROOT == want
        assert root_of([]) == want
        assert CompactRange.empty().root() == want
    elif case["kind"] == "leaf":
        assert leaf_hash(bytes.fromhex(case["data_hex"])) == want
    else:
        assert case["kind"] == "node"
        assert node_hash(bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"])) == want


@pytest.mark.parametrize("size", range(9))
def test_reference_tree_roots(size: int) -> None:
    want = bytes.fromhex(TREE["roots"][str(size)])
    assert root_of(LEAF_HASHES[:size]) == want
    assert root_of_records(LEAVES[:size]) == want
    assert CompactRange.of(LEAF_HASHES[:size]).root() == want


def test_reference_tree_node_hashes() -> None:
    """Every perfect subtree of the 8-leaf tree, level by level, is the root of its leaves."""
    for level, nodes in enumerate(TREE["node_hashes_by_level"]):
        width = 1 << level
        for position, node in enumerate(nodes):
            assert root_of(LEAF_HASHES[position * width : (position + 1) * width]).hex() == node


def test_compact_range_edges_are_the_reference_tree_nodes() -> None:
    """The right edge of size n is the perfect subtrees of n's set bits, largest first."""
    levels = TREE["node_hashes_by_level"]
    for size in range(9):
        want, start = [], 0
        for level in reversed(range(4)):
            if size & (1 << level):
                want.append(levels[level][start >> level])
                start += 1 << level
        assert [node.hex() for node in CompactRange.of(LEAF_HASHES[:size]).hashes] == want


# --- upstream proofs ---------------------------------------------------------------------------


@_cases("inclusion_proofs")
def test_valid_inclusion_proofs_are_accepted(case: dict[str, Any]) -> None:
    verify_inclusion(
        bytes.fromhex(case["leaf_hash"]),
        case["leaf_index"],
        case["tree_size"],
        _hashes(case["proof"]),
        bytes.fromhex(case["root"]),
    )


@_cases("consistency_proofs")
def test_valid_consistency_proofs_are_accepted(case: dict[str, Any]) -> None:
    verify_consistency(
        case["size1"], case["size2"], bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"]), _hashes(case["proof"])
    )


@_cases("invalid_inclusion")
def test_invalid_inclusion_probes_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(
            bytes.fromhex(case["leaf_hash"]),
            case["leaf_index"],
            case["tree_size"],
            _hashes(case["proof"]),
            bytes.fromhex(case["root"]),
        )


@_cases("invalid_consistency")
def test_invalid_consistency_probes_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        verify_consistency(
            case["size1"], case["size2"], bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"]), _hashes(case["proof"])
        )


def test_the_probes_fail_for_the_reason_they_name() -> None:
    """A few probes whose reason is unambiguous: the error says which rule the proof broke."""
    by_why = {case["why"]: case for case in VECTORS["invalid_inclusion"]}
    removed = by_why["removed-component"]
    with pytest.raises(ProofError, match="bad proof length: leaf 0 in a tree of size 8 needs 3 hashes, the proof has 2"):
        verify_inclusion(bytes.fromhex(removed["leaf_hash"]), 0, 8, _hashes(removed["proof"]), bytes.fromhex(removed["root"]))
    with pytest.raises(ProofError, match="leaf index 18446744073709551615 is out of range for a tree of size 8"):
        case = by_why["leafIdx-sub-@1"]
        verify_inclusion(
            bytes.fromhex(case["leaf_hash"]), case["leaf_index"], 8, _hashes(case["proof"]), bytes.fromhex(case["root"])
        )
    with pytest.raises(ProofError, match="wrong root"):
        case = by_why["random-root"]
        verify_inclusion(bytes.fromhex(case["leaf_hash"]), 0, 8, _hashes(case["proof"]), bytes.fromhex(case["root"]))


@pytest.mark.parametrize("case", VECTORS["real_log_inclusion"], ids=["certificate-transparency-2013", "rekor-staging"])
def test_real_log_inclusion_proofs(case: dict[str, Any]) -> None:
    """A 2013 CT log entry and a Rekor entry: their leaf hashes from the leaf input, and their proofs verify."""
    leaf_input = bytes.fromhex(case["leaf_input_hex"]) if "leaf_input_hex" in case else base64.b64decode(case["leaf_input_b64"])
    assert leaf_hash(leaf_input).hex() == case["leaf_hash"]
    proof, root = _hashes(case["proof"]), bytes.fromhex(case["root"])
    verify_inclusion(leaf_hash(leaf_input), case["leaf_index"], case["tree_size"], proof, root)
    with pytest.raises(ProofError, match="wrong root"):
        verify_inclusion(leaf_hash(leaf_input + b"!"), case["leaf_index"], case["tree_size"], proof, root)


# --- every proof of the 8-leaf tree, generated byte for byte -----------------------------------


@pytest.mark.parametrize("case", GENERATED["inclusion"], ids=_case_id)
def test_every_inclusion_proof_of_the_8_leaf_tree_is_generated_byte_for_byte(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    assert LEAF_HASHES[index].hex() == case["leaf_hash"]
    assert [node.hex() for node in inclusion_proof(index, size, LEAF_HASHES)] == case["proof"]
    # The same proof from a function, asked only for leaves inside the tree.
    asked: list[int] = []

    def leaf_hash_at(position: int) -> bytes:
        asked.append(position)
        return LEAF_HASHES[position]

    assert [node.hex() for node in inclusion_proof(index, size, leaf_hash_at)] == case["proof"]
    assert all(position < size for position in asked)
    assert len(asked) == len(set(asked))
    verify_inclusion(LEAF_HASHES[index], index, size, _hashes(case["proof"]), bytes.fromhex(case["root"]))


@pytest.mark.parametrize("case", GENERATED["consistency"], ids=_case_id)
def test_every_consistency_proof_of_the_8_leaf_tree_is_generated_byte_for_byte(case: dict[str, Any]) -> None:
    size1, size2 = case["size1"], case["size2"]
    assert [node.hex() for node in consistency_proof(size1, size2, LEAF_HASHES)] == case["proof"]
    assert [node.hex() for node in consistency_proof(size1, size2, LEAF_HASHES.__getitem__)] == case["proof"]
    root1, root2 = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
    assert root_of(LEAF_HASHES[:size1]) == root1
    assert root_of(LEAF_HASHES[:size2]) == root2
    verify_consistency(size1, size2, root1, root2, _hashes(case["proof"]))


def test_generated_sections_cover_every_pair_of_the_8_leaf_tree() -> None:
    pairs = {(case["leaf_index"], case["tree_size"]) for case in GENERATED["inclusion"]}
    assert pairs == {(index, size) for size in range(1, 9) for index in range(size)}
    sizes = {(case["size1"], case["size2"]) for case in GENERATED["consistency"]}
    assert sizes == {(size1, size2) for size2 in range(1, 9) for size1 in range(1, size2 + 1)}


# --- the edge cases of policy_notes ------------------------------------------------------------


def test_policy_a_consistency_proof_from_size_0_is_refused() -> None:
    """transparency-dev/merkle: "consistency proof from empty tree is meaningless"; govern neither makes nor accepts one."""
    with pytest.raises(ProofError, match="from size 0 is meaningless"):
        consistency_proof(0, 8, LEAF_HASHES)
    with pytest.raises(ProofError, match="from size 0 is meaningless"):
        verify_consistency(0, 8, EMPTY_ROOT, root_of(LEAF_HASHES), [])


def test_policy_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    root = root_of(LEAF_HASHES)
    assert consistency_proof(8, 8, LEAF_HASHES) == []
    verify_consistency(8, 8, root, root, [])
    with pytest.raises(ProofError, match="bad proof length"):
        verify_consistency(8, 8, root, root, [root])
    with pytest.raises(ProofError, match="wrong root"):
        verify_consistency(8, 8, root, EMPTY_ROOT, [])


def test_policy_sizes_and_indexes_out_of_range_are_refused() -> None:
    with pytest.raises(ProofError, match="old size 8 is larger than the new size 4"):
        consistency_proof(8, 4, LEAF_HASHES)
    for index, size in ((8, 8), (0, 0), (-1, 8)):
        with pytest.raises(ProofError, match=f"leaf index {index} is out of range for a tree of size {size}"):
            inclusion_proof(index, size, LEAF_HASHES)
    with pytest.raises(ProofError, match="needs 9 leaf hashes, 8 given"):
        inclusion_proof(0, 9, LEAF_HASHES)


# --- serialisation -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_compact_range_json_round_trip(size: int) -> None:
    edge = CompactRange.of(LEAF_HASHES[:size])
    document = json.loads(json.dumps(edge.to_json()))
    assert document == {"size": size, "hashes": [base64.b64encode(node).decode() for node in edge.hashes]}
    assert CompactRange.from_json(document) == edge
    # A range read back extends exactly like the one that was written.
    assert CompactRange.from_json(document).append(LEAF_HASHES[size:]).root() == bytes.fromhex(TREE["roots"]["8"])


@pytest.mark.parametrize(
    "document, reason",
    [
        ([], "must be a JSON object"),
        ({"size": 1}, "needs the key 'hashes'"),
        ({"size": 0, "hashes": [], "root": ""}, "unknown key 'root'"),
        ({"size": True, "hashes": []}, "expected an integer >= 0"),
        ({"size": -1, "hashes": []}, "expected an integer >= 0"),
        ({"size": 2, "hashes": []}, r"size 2 needs 1 hash \(one per set bit\), not 0"),
        ({"size": 1, "hashes": ["not base64!"]}, "not standard base64"),
        ({"size": 1, "hashes": [base64.b64encode(b"short").decode()]}, "not the base64 of a 32-byte hash"),
        ({"size": 1, "hashes": [base64.urlsafe_b64encode(b"\xff" * 32).decode()]}, "not standard base64"),
    ],
)
def test_compact_range_json_is_read_strictly(document: Any, reason: str) -> None:
    with pytest.raises(MerkleFormatError, match=reason):
        CompactRange.from_json(document)


def test_inclusion_proof_json_shape() -> None:
    """transparency-dev/merkle's shape with issue 14's names: leaf_index, tree_size, leaf_hash, root, proof (base64)."""
    case = VECTORS["inclusion_proofs"][1]
    proof = InclusionProof(
        leaf_index=case["leaf_index"],
        tree_size=case["tree_size"],
        leaf_hash=bytes.fromhex(case["leaf_hash"]),
        root=bytes.fromhex(case["root"]),
        proof=_hashes(case["proof"]),
    )
    # The very document transparency-dev/merkle's testdata/inclusion/1/happy-path.json holds (there leafIdx, treeSize, leafHash).
    assert proof.to_json() == {
        "leaf_index": 0,
        "tree_size": 8,
        "leaf_hash": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "root": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "proof": [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    }
    assert InclusionProof.from_json(proof.to_json()) == proof
    proof.verify()
    with pytest.raises(MerkleFormatError, match="unknown key 'leafIdx'"):
        InclusionProof.from_json({**proof.to_json(), "leafIdx": 0})


def test_consistency_proof_json_shape() -> None:
    case = VECTORS["consistency_proofs"][1]
    proof = ConsistencyProof(
        size1=case["size1"],
        size2=case["size2"],
        root1=bytes.fromhex(case["root1"]),
        root2=bytes.fromhex(case["root2"]),
        proof=_hashes(case["proof"]),
    )
    document = proof.to_json()
    assert sorted(document) == ["proof", "root1", "root2", "size1", "size2"]
    assert document["root2"] == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    assert ConsistencyProof.from_json(json.loads(json.dumps(document))) == proof
    proof.verify()
    with pytest.raises(ProofError, match="wrong root"):
        ConsistencyProof.from_json({**document, "root1": document["root2"]}).verify()
