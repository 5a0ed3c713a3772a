"""Inclusion and consistency proofs of the delta log and its latest checkpoint, made from its latest build; proofs checked offline.

``govern log prove`` and ``govern log consistency`` make proofs from the log's lines
(zero-based record indexes, sizes counted in records); ``govern log verify-proof`` checks one
against a checkpoint an auditor holds, with nothing but the proof, the checkpoint and the
verifier key: no workspace, no runs root.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.checkpoint import Checkpoint, parse_checkpoint
from govern.format.merkle import (
    ConsistencyProof,
    InclusionProof,
    MerkleFormatError,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hashes_of,
    root_of,
)
from govern.format.models import ref_label
from govern.format.note import add_signatures, open_note, sign_note
from govern.format.note_keys import NoteError, Signer, Verifier
from govern.log.delta_log import BuildContents, parse_log_lines
from govern.log.recorded_snapshots import read_latest_build
from govern.log.transparency import checkpoint_note, log_lines, log_origin, previous_tree, signer_names
from govern.runs.run_store import workspace_runs


@attrs.frozen
class LogLeaves:
    """The latest build's log as the tree's leaves: its run id and its lines without newlines."""

    run_id: str | None
    lines: tuple[bytes, ...]
    build: BuildContents | None = None


def latest_leaves(workspace: Workspace) -> LogLeaves:
    """The leaves of the workspace's latest build (none before the first build)."""
    latest = read_latest_build(workspace_runs(workspace), workspace.config.workspace.delta_log_artifact)
    if latest is None:
        return LogLeaves(None, ())
    return LogLeaves(latest.run_id, tuple(log_lines(latest.log_bytes)), latest)


@attrs.frozen
class LatestCheckpoint:
    """The latest build's checkpoint: the build, the checkpoint, and its note as sealed."""

    build: str
    checkpoint: Checkpoint
    note: bytes


def latest_checkpoint(workspace: Workspace) -> LatestCheckpoint:
    """The checkpoint the latest build sealed, checked against its sealed tree (E_LOG_TAMPERED
    when they disagree); for a build made before builds wrote checkpoints, the unsigned
    checkpoint of its log. E_USAGE before the first build."""
    latest = latest_leaves(workspace).build
    if latest is None:
        raise GovernError("E_USAGE", "no delta-log build yet: no checkpoint (run 'govern delta build')")
    origin = log_origin(workspace, latest.checkpoint)
    tree = previous_tree(latest, origin)
    checkpoint = Checkpoint(origin, tree.size, tree.root())
    note = latest.checkpoint if latest.checkpoint is not None else checkpoint_note(checkpoint, None)
    return LatestCheckpoint(latest.run_id, checkpoint, note)


def signed_again(latest: LatestCheckpoint, signer: Signer) -> bytes:
    """The latest checkpoint's note with ``signer``'s signature added (the sealed file is never changed)."""
    try:
        if signer_names(latest.note):
            return add_signatures(latest.note, [signer])
        return sign_note(latest.note, [signer])
    except NoteError as exc:
        raise GovernError("E_CHECKPOINT_INVALID", f"{latest.build}/checkpoint: cannot sign: {exc}") from None


def _check_size(size: int, leaves: LogLeaves, option: str, smallest: int) -> None:
    """E_USAGE unless ``smallest <= size <= `` the log's size, naming the option and the range."""
    total = len(leaves.lines)
    if total < smallest:
        raise GovernError("E_USAGE", f"{option} {size}: the log holds {total} records; nothing to prove yet (run 'govern delta build')")
    if not smallest <= size <= total:
        raise GovernError("E_USAGE", f"{option} {size}: out of range; the log holds {total} records ({option} {smallest}..{total})")


def record_index(leaves: LogLeaves, run_id: str, registry_id: str) -> int:
    """The zero-based index of the record of ``registry_id`` whose snapshot is ``run_id`` (E_USAGE when none)."""
    where = f"{leaves.run_id}/log"
    for index, record in enumerate(parse_log_lines(b"".join(line + b"\n" for line in leaves.lines), where)):
        to_ref = record.get("to_ref")
        if record.get("registry_id") == registry_id and ref_label(to_ref) == run_id:
            return index
    raise GovernError("E_USAGE", f"--run {run_id} --registry {registry_id}: the log has no record of that snapshot")


def prove_inclusion(leaves: LogLeaves, index: int, size: int | None = None) -> InclusionProof:
    """The inclusion proof of record ``index`` in the tree of ``size`` records (default: all)."""
    size = len(leaves.lines) if size is None else size
    _check_size(size, leaves, "--size", 1)
    if not 0 <= index < size:
        raise GovernError("E_USAGE", f"--record {index}: out of range; a tree of {size} records has records 0..{size - 1}")
    hashes = list(leaf_hashes_of(leaves.lines[:size]))
    return InclusionProof(index, size, hashes[index], root_of(hashes), inclusion_proof(index, size, hashes))


def prove_consistency(leaves: LogLeaves, old_size: int, new_size: int | None = None) -> ConsistencyProof:
    """The consistency proof that the tree of ``new_size`` records (default: all) extends the one of ``old_size``.

    Sizes start at 1: every tree extends the empty one, so there is nothing to prove from 0.
    """
    new_size = len(leaves.lines) if new_size is None else new_size
    _check_size(new_size, leaves, "--to", 1)
    if not 1 <= old_size <= new_size:
        raise GovernError("E_USAGE", f"--from {old_size}: out of range; sizes 1..{new_size} (--to {new_size})")
    hashes = list(leaf_hashes_of(leaves.lines[:new_size]))
    proof = consistency_proof(old_size, new_size, hashes)
    return ConsistencyProof(old_size, new_size, root_of(hashes[:old_size]), root_of(hashes), proof)


def open_checkpoint(note: bytes, verifiers: Sequence[Verifier], where: str) -> tuple[Checkpoint, list[str]]:
    """The checkpoint of a signed note a known key signed validly, and the names of the keys
    that did (C2SP rules: unknown signers ignored, a bad signature by a known key rejects it);
    E_CHECKPOINT_INVALID naming ``where`` otherwise."""
    try:
        opened = open_note(note, verifiers)
        return parse_checkpoint(opened.text), [signature.name for signature in opened.verified]
    except NoteError as exc:
        raise GovernError("E_CHECKPOINT_INVALID", f"{where}: {exc}") from None


def parse_proof(value: Any, where: str) -> InclusionProof | ConsistencyProof:
    """An inclusion or a consistency proof from its JSON (a ``--json`` document's ``result`` too);
    E_PROOF_INVALID naming ``where`` when it is neither."""
    if isinstance(value, dict) and isinstance(value.get("result"), dict) and "command" in value:
        value = value["result"]  # the whole 'govern --json log prove' document
    try:
        if isinstance(value, dict) and "leaf_index" in value:
            return InclusionProof.from_json(value)
        if isinstance(value, dict) and "size1" in value:
            return ConsistencyProof.from_json(value)
    except MerkleFormatError as exc:
        raise GovernError("E_PROOF_INVALID", f"{where}: {exc}") from None
    raise GovernError("E_PROOF_INVALID", f"{where}: not an inclusion proof (leaf_index…) or a consistency proof (size1…)")


def check_proof(proof: InclusionProof | ConsistencyProof, checkpoint: Checkpoint, where: str) -> None:
    """Check ``proof`` against the root of ``checkpoint`` (E_PROOF_INVALID naming ``where`` and the rule).

    An inclusion proof must be for the checkpoint's tree; a consistency proof must end at it
    (its ``size2``, ``root2``) or start at it (``size1``, ``root1``). Then the proof's hashes
    must chain to those roots: the proof's own roots are never trusted on their own.
    """
    try:
        if isinstance(proof, InclusionProof):
            what = f"inclusion of record {proof.leaf_index} in a tree of {proof.tree_size}"
            if proof.tree_size != checkpoint.size:
                raise ProofError(f"the proof is for a tree of {proof.tree_size}, the checkpoint's has {checkpoint.size}")
            attrs.evolve(proof, root=checkpoint.root_hash).verify()
            return
        what = f"consistency of a tree of {proof.size1} with one of {proof.size2}"
        if (checkpoint.size, checkpoint.root_hash) not in {(proof.size1, proof.root1), (proof.size2, proof.root2)}:
            raise ProofError(f"neither end of the proof is the checkpoint's tree (size {checkpoint.size})")
        proof.verify()
    except ProofError as exc:
        raise GovernError("E_PROOF_INVALID", f"{where}: {what}: {exc}") from None


__all__ = [
    "LatestCheckpoint",
    "LogLeaves",
    "check_proof",
    "latest_checkpoint",
    "latest_leaves",
    "open_checkpoint",
    "parse_proof",
    "prove_consistency",
    "prove_inclusion",
    "record_index",
    "signed_again",
]
