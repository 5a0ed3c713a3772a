"""Keys of C2SP signed notes (https://c2sp.org/signed-note), in Go ``golang.org/x/mod/sumdb/note``'s text form.

- verifier key: ``<name>+<hex key id>+<base64(type byte || public key)>``
- signer key: ``PRIVATE+KEY+<name>+<hex key id>+<base64(type byte || Ed25519 seed)>``

The key id is the first four bytes, big-endian, of SHA-256(name || "\\n" || type byte ||
public key). Type ``0x01`` is an Ed25519 note signature, ``0x04`` an Ed25519 witness
cosignature (c2sp.org/tlog-cosignature, :mod:`govern.format.cosignature`): the same Ed25519
key gives a different key id under each type, so a log's signature and a witness's
cosignature can never be mistaken for each other. ``0x02`` (ECDSA, as Rekor signs its
checkpoints) has no verifier-key text form; it is verify-only, built from the log's DER
public key by :func:`ecdsa_verifier` with the key id SHA-256(DER SPKI)[:4].

A key text is checked whole when it is read (name, hex id, base64, type byte, length, and
that the id is the one the key computes): a malformed key is a :class:`NoteError` saying
which part is wrong, never a note that silently fails to verify later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Protocol

import attrs

from govern.format import signatures

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_ECDSA = 0x02
SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04

_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


class NoteError(ValueError):
    """A malformed or unverifiable signed note, checkpoint, cosignature or key; the message says what is wrong."""


class Verifier(Protocol):
    """A key that verifies note signatures: the (name, key id) pair names it in signature lines."""

    @property
    def name(self) -> str:
        """The key name, as it appears in signature lines."""
        ...

    @property
    def key_id(self) -> int:
        """The 32-bit key id, the first four bytes of every signature by this key."""
        ...

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (the bytes after the key id) signs the note ``text``."""
        ...


class Signer(Protocol):
    """A key that signs notes."""

    @property
    def name(self) -> str:
        """The key name written in the signature line."""
        ...

    @property
    def key_id(self) -> int:
        """The 32-bit key id written before the signature."""
        ...

    def sign(self, text: bytes) -> bytes:
        """The signature of the note ``text`` (without the key id)."""
        ...


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` may name a key: non-empty, no Unicode space, no ``+`` (C2SP signed-note)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, typed_public_key: bytes) -> int:
    """The key id of ``name`` and ``typed_public_key`` (type byte || public key): SHA-256(name || "\\n" || key)[:4]."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + typed_public_key).digest()
    return int.from_bytes(digest[:4], "big")


@attrs.frozen
class Ed25519Verifier:
    """An Ed25519 verifier key of signature type ``0x01`` (note signatures)."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        """SHA-256(name || "\\n" || 0x01 || public key)[:4]."""
        return key_id(self.name, bytes([SIGNATURE_TYPE_ED25519]) + self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``text``."""
        return signatures.ed25519_verify(self.public_key, text, signature)

    def text(self) -> str:
        """The verifier key text: ``name+hexid+base64(0x01 || public key)``."""
        return key_text(self.name, self.key_id, bytes([SIGNATURE_TYPE_ED25519]) + self.public_key)


@attrs.frozen
class Ed25519Signer:
    """An Ed25519 signer key (a 32-byte seed) of signature type ``0x01``."""

    name: str
    seed: bytes = attrs.field(repr=False)  # never printed: it is the secret

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return signatures.ed25519_public_key(self.seed)

    @property
    def key_id(self) -> int:
        """The key id of the matching verifier."""
        return self.verifier().key_id

    def verifier(self) -> Ed25519Verifier:
        """The verifier key of this signer."""
        return Ed25519Verifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        """The Ed25519 signature of ``text`` (deterministic)."""
        return signatures.ed25519_sign(self.seed, text)

    def text(self) -> str:
        """The signer key text: ``PRIVATE+KEY+name+hexid+base64(0x01 || seed)``."""
        return _PRIVATE_PREFIX + key_text(self.name, self.key_id, bytes([SIGNATURE_TYPE_ED25519]) + self.seed)


@attrs.frozen
class EcdsaVerifier:
    """A verify-only ECDSA P-256 key of signature type ``0x02``, as Rekor signs its checkpoints."""

    name: str
    spki_der: bytes

    @property
    def key_id(self) -> int:
        """SHA-256(DER SubjectPublicKeyInfo)[:4] — the ECDSA rule of C2SP signed-note, not the Ed25519 one."""
        return int.from_bytes(hashlib.sha256(self.spki_der).digest()[:4], "big")

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (DER) is this key's ECDSA P-256/SHA-256 signature of ``text``."""
        return signatures.ecdsa_p256_verify(self.spki_der, text, signature)


def ecdsa_verifier(name: str, spki_der: bytes) -> EcdsaVerifier:
    """A verify-only ECDSA P-256 note verifier named ``name`` from its DER SubjectPublicKeyInfo."""
    if not is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    try:
        signatures.ecdsa_p256_check_key(spki_der)
    except ValueError as exc:
        raise NoteError(f"ECDSA key {name!r}: {exc}") from None
    return EcdsaVerifier(name, spki_der)


def generate_key(name: str) -> tuple[str, str]:
    """A new random Ed25519 key named ``name``: ``(signer key text, verifier key text)``."""
    if not is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    signer = Ed25519Signer(name, signatures.ed25519_new_seed())
    return signer.text(), signer.verifier().text()


def parse_verifier_key(text: str) -> Ed25519Verifier:
    """The Ed25519 note verifier of a verifier key text ``name+hexid+base64(0x01 || public key)``.

    A key of type ``0x04`` (a cosigner's) is refused here with a pointer to
    :func:`govern.format.cosignature.parse_cosigner_key`: it must not verify note signatures.
    """
    return Ed25519Verifier(*parse_typed_verifier_key(text, expected_type=SIGNATURE_TYPE_ED25519, what="verifier key"))


def parse_typed_verifier_key(text: str, *, expected_type: int, what: str) -> tuple[str, bytes]:
    """``(name, 32-byte Ed25519 public key)`` of a verifier key text of signature type ``expected_type``."""
    name, key_type, material = _parse_key_text(text.strip(), what=what)
    if key_type != expected_type:
        raise NoteError(_wrong_type(what, name, key_type, expected_type))
    if len(material) != signatures.ED25519_PUBLIC_BYTES:
        raise NoteError(f"{what} {name!r}: an Ed25519 public key is 32 bytes, not {len(material)}")
    return name, material


def parse_signer_key(text: str) -> Ed25519Signer:
    """The Ed25519 signer of a signer key text ``PRIVATE+KEY+name+hexid+base64(0x01 || seed)``.

    The key id is checked against the public key the seed derives, so a key text whose
    parts were mixed up is refused here rather than signing notes nobody can verify.
    """
    text = text.strip()
    if not text.startswith(_PRIVATE_PREFIX):
        raise NoteError("signer key: it must start with 'PRIVATE+KEY+'")
    name, hex_id, typed = _split_key_text(text[len(_PRIVATE_PREFIX) :], what="signer key")
    if not typed or typed[0] != SIGNATURE_TYPE_ED25519:
        raise NoteError(_wrong_type("signer key", name, typed[0] if typed else None))
    seed = typed[1:]
    if len(seed) != signatures.ED25519_SEED_BYTES:
        raise NoteError(f"signer key {name!r}: an Ed25519 seed is 32 bytes, not {len(seed)}")
    signer = Ed25519Signer(name, seed)
    if signer.key_id != hex_id:
        raise NoteError(f"signer key {name!r}: key id {hex_id:08x} does not match the key (it computes {signer.key_id:08x})")
    return signer


def _parse_key_text(text: str, *, what: str) -> tuple[str, int, bytes]:
    """``(name, type byte, key material)`` of ``name+hexid+base64(type || key)``, its id checked."""
    name, hex_id, typed = _split_key_text(text, what=what)
    if not typed:
        raise NoteError(f"{what} {name!r}: the key is empty")
    computed = key_id(name, typed)
    if computed != hex_id:
        raise NoteError(f"{what} {name!r}: key id {hex_id:08x} does not match the key (it computes {computed:08x})")
    return name, typed[0], typed[1:]


def _split_key_text(text: str, *, what: str) -> tuple[str, int, bytes]:
    """``(name, key id, decoded key)`` of ``name+hexid+base64``, each part checked for form."""
    # base64 may hold '+' itself: the name and the id end at the first two '+', the key is the rest
    name, plus1, rest = text.partition("+")
    hex_text, plus2, key64 = rest.partition("+")
    if not (plus1 and plus2):
        raise NoteError(f"{what}: expected 'name+hexid+base64key'")
    if not is_valid_key_name(name):
        raise NoteError(f"{what}: invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    if not _HEX_ID.fullmatch(hex_text):
        raise NoteError(f"{what} {name!r}: key id {hex_text!r} is not 8 hexadecimal digits")
    return name, int(hex_text, 16), decode_base64(key64, what=f"{what} {name!r}")


def decode_base64(text: str, *, what: str) -> bytes:
    """Canonical standard base64 (RFC 4648 §4, padded), as signed notes use it; anything else is a :class:`NoteError`.

    The message names ``what`` and never echoes ``text``: for a signer key that is the secret.
    """
    try:
        decoded = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what}: not standard base64") from None
    # Only the one encoding a signer writes: a last character with stray low bits decodes to
    # the same bytes, and a tampered note must not verify just because the change was there.
    if base64.b64encode(decoded).decode("ascii") != text:
        raise NoteError(f"{what}: not canonical base64 (stray bits in its last character)")
    return decoded


def key_text(name: str, ident: int, typed_key: bytes) -> str:
    """The text form of a key: ``name+hexid+base64(typed_key)`` (``typed_key`` = type byte || key)."""
    return f"{name}+{ident:08x}+{base64.b64encode(typed_key).decode('ascii')}"


def _wrong_type(what: str, name: str, key_type: int | None, expected: int = SIGNATURE_TYPE_ED25519) -> str:
    """The message for a key of a signature type this reader does not take."""
    found = "no type byte" if key_type is None else f"type 0x{key_type:02x}"
    cosigner = key_type == SIGNATURE_TYPE_COSIGNATURE_V1 != expected
    hint = " (a witness cosigner key: read it with parse_cosigner_key)" if cosigner else ""
    return f"{what} {name!r}: {found}, expected 0x{expected:02x}{hint}"
