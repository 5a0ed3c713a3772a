"""C2SP signed notes (https://c2sp.org/signed-note): parse, verify, sign. Pure bytes, no I/O.

A signed note is a text ending in a newline, a blank line, and one or more signature lines
``— <key name> <base64(4-byte key id || signature)>`` (em dash U+2014, space, name, space,
base64, newline). The text is separated from the signatures by the *last* blank line, so a
text may hold blank lines of its own. The whole note is UTF-8 without ASCII control
characters other than newline.

Verification (:func:`open_note`) follows the specification and Go's
``golang.org/x/mod/sumdb/note.Open``:

- a signature whose (name, key id) no given verifier has is *unknown* and ignored (kept in
  :attr:`Note.unverified`), even if it shares the name or the id (not both) with a known key;
- a signature from a known key is verified, and one that fails rejects the whole note;
- at least one known signature must verify;
- a signature line repeated by the same key counts once;
- at most :data:`MAX_SIGNATURES` signature lines and :data:`MAX_NOTE_BYTES` bytes are read
  (the specification asks a verifier for a limit, and at least 16 signatures).

Keys and the one exception type, :class:`NoteError`, live in :mod:`govern.format.note_keys`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence

import attrs

from govern.format.note_keys import NoteError, Signer, Verifier, decode_base64, is_valid_key_name

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Note",
    "NoteError",
    "NoteSignature",
    "ParsedNote",
    "add_signatures",
    "check_note_text",
    "open_note",
    "parse_note",
    "sign_note",
    "verifier_index",
]

#: The most signature lines read from one note (Go's note package: 100; C2SP: at least 16).
MAX_SIGNATURES = 100
#: The largest note read: room for 100 post-quantum signatures (~5 kB each) and a long text.
MAX_NOTE_BYTES = 1 << 20

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_SEPARATOR = b"\n\n"


@attrs.frozen
class NoteSignature:
    """One signature line: the key name, the key id and the signature bytes after the id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The signature line, without its newline: ``— name base64(key id || signature)``."""
        encoded = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}"


@attrs.frozen
class ParsedNote:
    """A note split into its text and its signature lines, nothing verified yet."""

    text: bytes
    signatures: tuple[NoteSignature, ...]


@attrs.frozen
class Note:
    """A verified note: its text, the signatures known keys verified, and the ones from unknown keys."""

    text: bytes
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def check_note_text(text: bytes, *, what: str = "note text") -> str:
    """The text decoded, or a :class:`NoteError`: UTF-8, ends in a newline, no control character but newline."""
    if len(text) > MAX_NOTE_BYTES:
        raise NoteError(f"{what} is {len(text)} bytes, more than the limit of {MAX_NOTE_BYTES}")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    for offset, ch in enumerate(decoded):
        if ch < " " and ch != "\n":
            raise NoteError(f"{what} holds the control character U+{ord(ch):04X} at character {offset}")
    if not decoded.endswith("\n"):
        raise NoteError(f"{what} does not end with a newline")
    return decoded


def parse_note(note: bytes) -> ParsedNote:
    """Split ``note`` into its text and signature lines, checking the form only (nothing is verified)."""
    check_note_text(note, what="note")
    split = note.rfind(_SEPARATOR)
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines after its last blank line")
    lines = block.decode("utf-8").split("\n")[:-1]  # the block ends with "\n" (checked above)
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines, more than the limit of {MAX_SIGNATURES}")
    return ParsedNote(text, tuple(_parse_signature_line(line, number) for number, line in enumerate(lines, 1)))


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    """One signature line ``— name base64`` (``number`` counts from 1 for the message)."""
    where = f"signature line {number}"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(f"{where} does not start with an em dash (U+2014) and a space: {line[:40]!r}")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space or not encoded:
        raise NoteError(f"{where} has no signature after the key name {name!r}")
    if not is_valid_key_name(name):
        raise NoteError(f"{where}: invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    raw = decode_base64(encoded, what=f"{where} ({name})")
    if len(raw) < 5:
        raise NoteError(f"{where} ({name}): a signature is a 4-byte key id and at least one byte, got {len(raw)} bytes")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def open_note(note: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Verify ``note`` against ``verifiers`` (C2SP rules, see the module's docstring) and return it.

    Raises :class:`NoteError` for a malformed note, two verifiers with one (name, key id), a
    known key whose signature fails (naming it), or no signature from a known key.
    """
    known = verifier_index(verifiers)
    parsed = parse_note(note)
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for signature in parsed.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            if signature not in unverified:
                unverified.append(signature)
            continue
        if any((s.name, s.key_id) == (signature.name, signature.key_id) for s in verified):
            continue  # the same key's line again: Go's note package drops repeats too
        if not verifier.verify(parsed.text, signature.signature):
            raise NoteError(f"invalid signature by known key {signature.name}+{signature.key_id:08x}")
        verified.append(signature)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified) or "none"
        raise NoteError(f"note has no signature from a known key (signed by: {names})")
    return Note(parsed.text, tuple(verified), tuple(unverified))


def verifier_index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    """The verifiers keyed by (name, key id); two with the same pair are ambiguous, a :class:`NoteError`."""
    index: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        pair = (verifier.name, verifier.key_id)
        if pair in index:
            raise NoteError(f"two verifier keys named {verifier.name}+{verifier.key_id:08x}")
        index[pair] = verifier
    return index


def sign_note(text: bytes, signers: Sequence[Signer]) -> bytes:
    """The signed note of ``text`` by ``signers``, one signature line each, in their order.

    Ed25519 is deterministic, so the same text and keys give the same bytes (Go's
    ``note.Sign`` writes exactly these).
    """
    check_note_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    return _assemble(text, _sign_lines(text, signers))


def add_signatures(note: bytes, signers: Sequence[Signer]) -> bytes:
    """``note`` with ``signers``' signature lines appended after its own, each replacing an earlier line by the same key.

    This is how a witness adds its cosignature to a log's checkpoint: the existing lines are
    kept byte for byte and in order (they are not verified here: that is the caller's job).
    """
    parsed = parse_note(note)
    if not signers:
        raise NoteError("no signer to add")
    added = _sign_lines(parsed.text, signers)
    replaced = {(s.name, s.key_id) for s in added}
    kept = [s for s in parsed.signatures if (s.name, s.key_id) not in replaced]
    return _assemble(parsed.text, kept + added)


def _sign_lines(text: bytes, signers: Sequence[Signer]) -> list[NoteSignature]:
    """One signature of ``text`` per signer; a signer given twice or with an invalid name is refused."""
    lines: list[NoteSignature] = []
    for signer in signers:
        if not is_valid_key_name(signer.name):
            raise NoteError(f"invalid signer name {signer.name!r}: it must be non-empty, without spaces or '+'")
        if any((s.name, s.key_id) == (signer.name, signer.key_id) for s in lines):
            raise NoteError(f"signer {signer.name}+{signer.key_id:08x} given twice")
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(text)))
    return lines


def _assemble(text: bytes, signatures: Iterable[NoteSignature]) -> bytes:
    """The note bytes: the text, the blank line, the signature lines."""
    return text + b"\n" + "".join(s.line() + "\n" for s in signatures).encode("utf-8")
