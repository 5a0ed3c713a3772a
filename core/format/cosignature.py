"""Witness cosignatures of checkpoints, C2SP tlog-cosignature v1 (Ed25519): sign and verify.

A cosignature is one more signature line on a checkpoint note, by a *witness* that checked
the checkpoint is consistent with the last one it saw. Its key id uses signature type
``0x04`` (SHA-256(name || "\\n" || 0x04 || public key)[:4]) and its signature bytes are

    8-byte big-endian POSIX timestamp || Ed25519 signature

where the Ed25519 signature covers ``"cosignature/v1\\ntime <timestamp>\\n"`` followed by the
checkpoint's whole note text (extension lines included). The timestamp is the witness's
clock, handed in by the caller: nothing here reads the time.

A witness's key is an ordinary Ed25519 signer key (``PRIVATE+KEY+…``, type ``0x01`` seed);
its *cosigner* verifier key is ``name+hexid+base64(0x04 || public key)``
(:func:`cosigner_key_text`, :func:`parse_cosigner_key`). :class:`CosignatureVerifier` is a
note verifier, so :func:`govern.format.note.open_note` checks log signatures and
cosignatures in one pass.
"""

from __future__ import annotations

import attrs

from govern.format import signatures
from govern.format.checkpoint import parse_checkpoint
from govern.format.note import NoteSignature, add_signatures
from govern.format.note_keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    Ed25519Signer,
    NoteError,
    key_id,
    key_text,
    parse_typed_verifier_key,
)

#: The largest timestamp a cosignature may carry (the specification: at most 2^63 - 1).
MAX_TIMESTAMP = (1 << 63) - 1
_TIMESTAMP_BYTES = 8


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a cosigner signs: ``cosignature/v1``, ``time <timestamp>``, then the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def _cosigner_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || "\\n" || 0x04 || public key)[:4]."""
    return key_id(name, bytes([SIGNATURE_TYPE_COSIGNATURE_V1]) + public_key)


@attrs.frozen
class CosignatureVerifier:
    """A witness's Ed25519 cosigner key (signature type ``0x04``), usable as a note verifier."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        """The type-0x04 key id."""
        return _cosigner_key_id(self.name, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (timestamp || Ed25519) cosigns the checkpoint ``text``."""
        if len(signature) != _TIMESTAMP_BYTES + signatures.ED25519_SIGNATURE_BYTES:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_BYTES], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message = cosigned_message(text, timestamp)
        return signatures.ed25519_verify(self.public_key, message, signature[_TIMESTAMP_BYTES:])

    def text(self) -> str:
        """The cosigner verifier key text ``name+hexid+base64(0x04 || public key)``."""
        return key_text(self.name, self.key_id, bytes([SIGNATURE_TYPE_COSIGNATURE_V1]) + self.public_key)


@attrs.frozen
class CosignatureSigner:
    """A witness signing cosignatures at one ``timestamp`` with an Ed25519 signer key; a note signer."""

    key: Ed25519Signer
    timestamp: int = attrs.field()

    @timestamp.validator
    def _check_timestamp(self, _attribute: object, value: int) -> None:
        if not 0 <= value <= MAX_TIMESTAMP:
            raise NoteError(f"cosignature timestamp {value} is outside 0..2^63-1")

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self.key.name

    @property
    def key_id(self) -> int:
        """The type-0x04 key id (not the key's type-0x01 one)."""
        return _cosigner_key_id(self.key.name, self.key.public_key)

    def sign(self, text: bytes) -> bytes:
        """``timestamp || Ed25519(cosigned message)`` for the checkpoint ``text``."""
        parse_checkpoint(text)  # a cosigner states something about a checkpoint, never about any note
        signature = self.key.sign(cosigned_message(text, self.timestamp))
        return self.timestamp.to_bytes(_TIMESTAMP_BYTES, "big") + signature


def cosigner_key_text(name: str, public_key: bytes) -> str:
    """The cosigner verifier key text of ``name`` and a 32-byte Ed25519 ``public_key``."""
    return CosignatureVerifier(name, public_key).text()


def parse_cosigner_key(text: str) -> CosignatureVerifier:
    """The cosignature verifier of a key text ``name+hexid+base64(0x04 || public key)``."""
    name, public_key = parse_typed_verifier_key(text, expected_type=SIGNATURE_TYPE_COSIGNATURE_V1, what="cosigner key")
    return CosignatureVerifier(name, public_key)


def cosign(note: bytes, signer: CosignatureSigner) -> bytes:
    """``note`` (a signed checkpoint) with ``signer``'s cosignature appended (replacing its earlier one).

    The note's own signatures are kept as they are: checking them, and that the checkpoint
    is consistent with the last one the witness saw, is the caller's job before it cosigns.
    """
    return add_signatures(note, [signer])


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp of a cosignature line (its first 8 bytes), once a :class:`CosignatureVerifier` verified it."""
    if len(signature.signature) < _TIMESTAMP_BYTES:
        raise NoteError(f"signature by {signature.name} is too short to be a cosignature")
    return int.from_bytes(signature.signature[:_TIMESTAMP_BYTES], "big")
