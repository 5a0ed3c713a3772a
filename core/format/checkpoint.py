"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): the body of a signed note.

::

    <origin>                 the log's identity, non-empty
    <tree size>              ASCII decimal, no leading zero (``0`` for the empty tree)
    <root hash>              standard base64 of the 32-byte RFC 6962 / RFC 9162 root
    [<extension line>...]    optional, opaque, each non-empty

every line ending in a newline. A checkpoint is signed as a note (:func:`govern.format.note.sign_note`)
and read back from a verified note's text (:func:`govern.format.note.open_note`, then
:func:`parse_checkpoint`): its text means nothing until a trusted key has signed it.

The origin is taken as written: the specification recommends a schema-less URL without
spaces, but says a client must not assume it (Rekor's origins hold spaces). The log's key
name *should* match the origin; sum.golang.org's does not (``go.sum database tree``), so that
is the caller's policy, not a rule of the format.
"""

from __future__ import annotations

import base64
import re

import attrs

from govern.format.note import check_note_text
from govern.format.note_keys import NoteError, decode_base64

#: The file a delta-log build run holds its checkpoint in: the checkpoint as a signed note
#: (unsigned — the checkpoint text alone — when no signing key is configured).
CHECKPOINT_NAME = "checkpoint"
#: Length of the root hash (SHA-256).
ROOT_HASH_BYTES = 32
#: Largest tree size: the specification's sizes are uint64, Go's tlog keeps them in an int64.
MAX_TREE_SIZE = (1 << 63) - 1

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class CheckpointError(NoteError):
    """A note text that is not a checkpoint; a :class:`NoteError`, so one ``except`` catches both."""


@attrs.frozen
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and the opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> bytes:
        """The checkpoint's note text (the bytes a log signs)."""
        return format_checkpoint(self)


def format_checkpoint(checkpoint: Checkpoint) -> bytes:
    """The note text of ``checkpoint``; refuses one :func:`parse_checkpoint` would refuse."""
    root = base64.b64encode(checkpoint.root_hash).decode("ascii")
    lines = [checkpoint.origin, str(checkpoint.size), root, *checkpoint.extensions]
    text = "".join(line + "\n" for line in lines).encode("utf-8")
    parse_checkpoint(text)  # one set of rules: what is written is exactly what may be read
    return text


def parse_checkpoint(text: bytes) -> Checkpoint:
    """The checkpoint in a note ``text`` (ending in a newline), or a :class:`CheckpointError` naming the line."""
    try:
        decoded = check_note_text(text, what="checkpoint")
    except NoteError as exc:
        raise CheckpointError(str(exc)) from None
    lines = decoded[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint has {len(lines)} lines, at least 3 are needed (origin, tree size, root hash)")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin (line 1) is empty")
    if not _TREE_SIZE.fullmatch(size_text):
        raise CheckpointError(f"checkpoint tree size (line 2) {size_text[:40]!r} is not a decimal without leading zeros")
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint tree size (line 2) {size_text} is larger than 2^63-1")
    try:
        root = decode_base64(root_text, what="checkpoint root hash (line 3)")
    except NoteError as exc:
        raise CheckpointError(str(exc)) from None
    if len(root) != ROOT_HASH_BYTES:
        raise CheckpointError(f"checkpoint root hash (line 3) is {len(root)} bytes, expected {ROOT_HASH_BYTES}")
    for number, line in enumerate(extensions, 4):
        if not line:
            raise CheckpointError(f"checkpoint extension line {number} is empty")
    return Checkpoint(origin, size, root, tuple(extensions))
