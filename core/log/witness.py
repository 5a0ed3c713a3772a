"""A witness for the delta log: cosign a checkpoint only if it extends the last one cosigned.

``govern log cosign`` keeps, per origin, the last checkpoint it cosigned in a state folder
(``<state>/<sha256(origin) hex>.checkpoint``, the cosigned note), and cosigns a new checkpoint
(C2SP tlog-cosignature) only when the log's tree at the new size is consistent with it: a
checkpoint of the same size must have the same root, a smaller one is a rollback, and a larger
one needs a consistency proof — from a ``govern log consistency`` file, or computed from the
workspace's own log. Anything else is E_LOG_DIVERGED, and nothing is cosigned or recorded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import attrs

from govern.errors import GovernError
from govern.format.checkpoint import Checkpoint, parse_checkpoint
from govern.format.cosignature import CosignatureSigner, cosign
from govern.format.merkle import ConsistencyProof, ProofError
from govern.format.note import parse_note
from govern.format.note_keys import NoteError
from govern.store.atomic import write_atomic

#: The suffix of a state file: the last note the witness cosigned for an origin.
STATE_SUFFIX = ".checkpoint"


def state_file(state_dir: Path, origin: str) -> Path:
    """Where the witness keeps the last checkpoint it cosigned for ``origin`` (a safe file name for any origin)."""
    return state_dir / (hashlib.sha256(origin.encode("utf-8")).hexdigest() + STATE_SUFFIX)


def last_cosigned(state_dir: Path, origin: str) -> Checkpoint | None:
    """The last checkpoint cosigned for ``origin``; None before the first (E_CHECKPOINT_INVALID for a damaged state file)."""
    path = state_file(state_dir, origin)
    try:
        note = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read the witness state: {exc.strerror or exc}") from None
    try:
        return parse_checkpoint(parse_note(note).text)
    except NoteError as exc:
        raise GovernError("E_CHECKPOINT_INVALID", f"{path}: the witness state is not a cosigned checkpoint: {exc}") from None


@attrs.frozen
class Consistency:
    """How a new checkpoint was found consistent with the last one cosigned."""

    #: ``first`` (nothing cosigned before for its origin), ``same`` (same size and root) or ``proof``.
    basis: str
    previous_size: int | None = None


def check_extends(previous: Checkpoint | None, checkpoint: Checkpoint, proof: ConsistencyProof | None, where: str) -> Consistency:
    """Whether ``checkpoint`` extends ``previous`` (the last cosigned), by ``proof`` when sizes differ.

    E_LOG_DIVERGED naming ``where`` when it does not (a rollback, another root at the same size,
    a proof that does not chain); E_USAGE when a proof is needed and none was given.
    """
    if previous is None:
        return Consistency("first")
    old, new = previous.size, checkpoint.size
    if new < old:
        raise GovernError("E_LOG_DIVERGED", f"{where}: size {new} is smaller than the last checkpoint cosigned (size {old}): a rollback")
    if new == old:
        if checkpoint.root_hash != previous.root_hash:
            raise GovernError("E_LOG_DIVERGED", f"{where}: size {new} has another root than the last checkpoint cosigned at that size: a fork")
        return Consistency("same", old)
    if proof is None:
        raise GovernError("E_USAGE", f"{where}: proving size {new} extends size {old} needs the workspace's log or --proof FILE")
    try:
        if (proof.size1, proof.root1, proof.size2, proof.root2) != (old, previous.root_hash, new, checkpoint.root_hash):
            raise ProofError(f"the proof is from size {proof.size1} to {proof.size2}, not between the last cosigned ({old}) and this one ({new})")
        proof.verify()
    except ProofError as exc:
        raise GovernError("E_LOG_DIVERGED", f"{where}: not consistent with the last checkpoint cosigned (size {old}): {exc}") from None
    return Consistency("proof", old)


def cosign_checkpoint(note: bytes, signer: CosignatureSigner, where: str) -> bytes:
    """``note`` with ``signer``'s cosignature added (its own signature lines kept)."""
    try:
        return cosign(note, signer)
    except NoteError as exc:
        raise GovernError("E_CHECKPOINT_INVALID", f"{where}: cannot cosign: {exc}") from None


def record_cosigned(state_dir: Path, checkpoint: Checkpoint, cosigned: bytes) -> None:
    """Record ``cosigned`` as the last note cosigned for the checkpoint's origin (atomically:
    the state file is the old note or the new, never a mix)."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GovernError("E_IO", f"{state_dir}: cannot create the witness state folder: {exc.strerror or exc}") from None
    write_atomic(state_file(state_dir, checkpoint.origin), cosigned)


__all__ = ["Consistency", "check_extends", "cosign_checkpoint", "record_cosigned", "last_cosigned", "state_file"]
