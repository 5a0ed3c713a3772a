"""The delta log as a transparency log: its Merkle tree, its origin, its checkpoints (docs/transparency.md).

The log's records are the leaves of an RFC 9162 Merkle tree, in log order, each leaf the
record's line without its newline (:mod:`govern.format.merkle`). Every build seals two things
about that tree: ``outputs.log_tree`` in its run.json, the compact range (right edge) of the
tree at the build's size — all the next build needs to extend it without hashing an old
record again — and the file ``checkpoint``, a C2SP tlog-checkpoint (origin, size, root) as a
signed note, signed when a key is configured, the checkpoint text alone otherwise.

The helpers here are what the commands that prove, verify and attest call, so the tree is
computed one way everywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.checkpoint import Checkpoint, parse_checkpoint
from govern.format.merkle import CompactRange, MerkleFormatError, leaf_hashes_of
from govern.format.note import parse_note, sign_note
from govern.format.note_keys import NoteError, Signer
from govern.log.delta_log import LOG_TREE_OUTPUT, BuildContents

#: Prefix of the default origin (the log's identity when ``[workspace] log_origin`` is unset).
DEFAULT_ORIGIN_PREFIX = "govern"


def b64(data: bytes) -> str:
    """Standard base64 with padding: how checkpoints and proofs write hashes."""
    return base64.b64encode(data).decode("ascii")


def log_origin(workspace: Workspace, inherited: bytes | None = None) -> str:
    """The origin line of the workspace's checkpoints: ``[workspace] log_origin`` when set;
    else the origin of ``inherited`` (the latest build's ``checkpoint`` file), so that a log
    keeps its identity wherever its runs root moves (a local folder copied to ``s3://``);
    else, for a log's first checkpoint, ``govern/<runs root>/<delta_log_artifact>`` — the runs
    root as records name it (for ``s3://``, its key prefix), derived from the configuration
    only, never from where the workspace sits on disk.

    Two workspaces whose logs must be told apart set ``log_origin`` (e.g. ``example.com/team/govern``).
    """
    settings = workspace.config.workspace
    if settings.log_origin is not None:
        return settings.log_origin
    if inherited is not None:
        return read_checkpoint(inherited, "the latest build's checkpoint").origin
    runs_root = workspace.recorded_runs_root.removeprefix("./").rstrip("/") or "."
    return f"{DEFAULT_ORIGIN_PREFIX}/{runs_root}/{settings.delta_log_artifact}".replace(" ", "_")


def log_lines(log_bytes: bytes) -> list[bytes]:
    """The leaves of a log: its lines without their newlines (a log ends with a newline, or is empty)."""
    return log_bytes.split(b"\n")[:-1] if log_bytes else []


def log_tree(lines: Iterable[bytes]) -> CompactRange:
    """The compact range of the tree whose leaves are ``lines`` (records without newlines): O(n)."""
    return CompactRange.of(leaf_hashes_of(lines))


def extend_tree(tree: CompactRange, new_lines: Iterable[bytes]) -> CompactRange:
    """``tree`` with ``new_lines`` appended as leaves: O(k + log n) hashes, no old record read."""
    return tree.append(leaf_hashes_of(new_lines))


def checkpoint_text(note: bytes) -> bytes:
    """The checkpoint text of a build's ``checkpoint`` file: the note's text when it is signed
    (a blank line, then signature lines), the whole file when it is the checkpoint alone."""
    return parse_note(note).text if b"\n\n" in note else note


def read_checkpoint(note: bytes, where: str) -> Checkpoint:
    """The checkpoint in a ``checkpoint`` file (signed or not; signatures are not checked
    here); E_CHECKPOINT_INVALID naming ``where`` when it is not one."""
    try:
        return parse_checkpoint(checkpoint_text(note))
    except NoteError as exc:
        raise GovernError("E_CHECKPOINT_INVALID", f"{where}: {exc}") from None


def signer_names(note: bytes) -> list[str]:
    """The key names of a checkpoint file's signature lines (none for an unsigned checkpoint); not verified."""
    if b"\n\n" not in note:
        return []
    try:
        return [signature.name for signature in parse_note(note).signatures]
    except NoteError:
        return []


def checkpoint_note(checkpoint: Checkpoint, signer: Signer | None) -> bytes:
    """The ``checkpoint`` file of a build: the note signed by ``signer``, or the text alone without one.

    Ed25519 is deterministic: the same tree, origin and key give the same bytes.
    """
    text = checkpoint.text()
    return sign_note(text, [signer]) if signer is not None else text


def previous_tree(previous: BuildContents | None, origin: str) -> CompactRange:
    """The tree the next build extends: the previous build's sealed compact range, checked.

    - No previous build: the empty tree.
    - A build made before builds kept ``log_tree`` (an older workspace): computed from its log,
      once (the build after this one extends the range this one seals).
    - Otherwise the stored range, which must have one leaf per record of that build's log and
      the root of that build's checkpoint. Both are sealed under the same seal, which verified,
      so a mismatch means the build run was rewritten and re-sealed, not a fork between two
      histories: E_LOG_TAMPERED (E_LOG_DIVERGED is kept for a log that no longer extends a
      checkpoint handed out, which only a verifier holding that checkpoint can tell).

    A previous checkpoint of another origin is E_CONFIG_INVALID: a log's origin is its
    identity, and changing it would orphan every checkpoint handed out.
    """
    if previous is None:
        return CompactRange.empty()
    where = f"delta-log build {previous.run_id}"
    checkpoint = None
    if previous.checkpoint is not None:
        checkpoint = read_checkpoint(previous.checkpoint, f"{previous.run_id}/checkpoint")
        if checkpoint.origin != origin:
            raise GovernError(
                "E_CONFIG_INVALID",
                f"workspace.log_origin: {origin!r}, but the log's checkpoints have origin {checkpoint.origin!r} "
                f"({previous.run_id}/checkpoint); a log's origin cannot change (set log_origin = {checkpoint.origin!r})",
            )
    if previous.log_tree is None:
        tree = log_tree(log_lines(previous.log_bytes))
    else:
        try:
            tree = CompactRange.from_json(previous.log_tree)
        except MerkleFormatError as exc:
            raise GovernError("E_LOG_TAMPERED", f"{where}: run.json outputs.{LOG_TREE_OUTPUT} is not a compact range: {exc}") from None
        records = previous.log_bytes.count(b"\n")
        if tree.size != records:
            raise GovernError(
                "E_LOG_TAMPERED", f"{where}: run.json outputs.{LOG_TREE_OUTPUT} has size {tree.size}, its log holds {records} records"
            )
    if checkpoint is not None and (checkpoint.size, checkpoint.root_hash) != (tree.size, tree.root()):
        raise GovernError(
            "E_LOG_TAMPERED",
            f"{where}: its checkpoint (size {checkpoint.size}, root {b64(checkpoint.root_hash)}) does not match "
            f"its sealed tree (size {tree.size}, root {b64(tree.root())}): the build run was rewritten and re-sealed",
        )
    return tree


__all__ = [
    "DEFAULT_ORIGIN_PREFIX",
    "b64",
    "checkpoint_note",
    "checkpoint_text",
    "extend_tree",
    "log_lines",
    "log_origin",
    "log_tree",
    "previous_tree",
    "read_checkpoint",
    "signer_names",
]
