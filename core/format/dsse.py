"""DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse): PAE, the envelope JSON, Ed25519 signing, verification.

A DSSE signature covers the *pre-authentication encoding* of the payload and its type,
never the envelope's JSON, so no JSON canonicalisation is ever trusted::

    PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body    (lengths: ASCII decimal of the byte count)

The envelope is ``{"payloadType", "payload": base64(body), "signatures": [{"keyid"?, "sig": base64}]}``.
govern writes it as canonical JSON with standard padded base64; on reading it accepts both
base64 alphabets (standard and URL-safe), padded or not, as the specification asks, and
refuses unknown keys and wrong types with :class:`DsseError`.

Verification: a signature whose ``keyid`` names a different key than a verifier's is not
tried with it; the envelope is accepted when at least one signature verifies with one of
the given keys (signatures from keys the verifier does not know are ignored, as DSSE's
threshold of one). Ed25519 signs and verifies; ECDSA P-256 (the specification's own test
vector) only verifies.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

import attrs

from govern.format import signatures
from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict


class DsseError(ValueError):
    """A malformed DSSE envelope, or one no given key verifies; the message says what is wrong."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``."""
    encoded_type = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


@attrs.frozen
class DsseSignature:
    """One signature of an envelope: the signature bytes and the optional key id hint."""

    sig: bytes
    keyid: str | None = None


@attrs.frozen
class Envelope:
    """A DSSE envelope: the payload type, the payload bytes and their signatures."""

    payload_type: str
    payload: bytes
    signatures: tuple[DsseSignature, ...]


@attrs.frozen
class Ed25519DsseKey:
    """An Ed25519 DSSE verifier: a 32-byte public key and the key id it answers to (if any)."""

    public_key: bytes
    keyid: str | None = None

    def verify(self, message: bytes, sig: bytes) -> bool:
        """Whether ``sig`` is this key's Ed25519 signature of ``message`` (the PAE)."""
        return signatures.ed25519_verify(self.public_key, message, sig)


@attrs.frozen
class EcdsaDsseKey:
    """A verify-only ECDSA P-256 DSSE verifier, from its DER SubjectPublicKeyInfo."""

    spki_der: bytes
    keyid: str | None = None

    def verify(self, message: bytes, sig: bytes) -> bool:
        """Whether ``sig`` (raw ``r || s`` or DER) is this key's ECDSA P-256/SHA-256 signature of ``message``."""
        return signatures.ecdsa_p256_verify(self.spki_der, message, sig)


DsseKey = Ed25519DsseKey | EcdsaDsseKey


def sign_envelope(payload_type: str, payload: bytes, seed: bytes, keyid: str | None = None) -> Envelope:
    """An envelope of ``payload`` signed with the Ed25519 ``seed`` (deterministic), ``keyid`` optional."""
    if len(seed) != signatures.ED25519_SEED_BYTES:
        raise DsseError(f"an Ed25519 seed is {signatures.ED25519_SEED_BYTES} bytes, not {len(seed)}")
    sig = signatures.ed25519_sign(seed, pae(payload_type, payload))
    return Envelope(payload_type, payload, (DsseSignature(sig, keyid),))


def verify_envelope(envelope: Envelope, keys: Iterable[DsseKey]) -> tuple[DsseKey, ...]:
    """The keys whose signature verifies; :class:`DsseError` when none does (naming what was tried)."""
    key_list = list(keys)
    if not key_list:
        raise DsseError("no verifier key given")
    message = pae(envelope.payload_type, envelope.payload)
    accepted: list[DsseKey] = []
    for signature in envelope.signatures:
        for key in key_list:
            if signature.keyid and key.keyid and signature.keyid != key.keyid:
                continue  # the hint names another key: do not try this one
            if key not in accepted and key.verify(message, signature.sig):
                accepted.append(key)
    if not accepted:
        ids = ", ".join(repr(s.keyid) for s in envelope.signatures if s.keyid) or "no key ids"
        raise DsseError(f"no signature of the envelope ({len(envelope.signatures)} signatures, {ids}) verifies with the given keys")
    return tuple(accepted)


def dump_envelope(envelope: Envelope) -> bytes:
    """The envelope as canonical JSON (standard padded base64; ``keyid`` written only when set)."""
    return dump_canonical(
        {
            "payloadType": envelope.payload_type,
            "payload": base64.b64encode(envelope.payload).decode("ascii"),
            "signatures": [_signature_json(s) for s in envelope.signatures],
        },
        floats=False,
    )


def _signature_json(signature: DsseSignature) -> dict[str, str]:
    """One member of ``signatures``."""
    out = {"sig": base64.b64encode(signature.sig).decode("ascii")}
    if signature.keyid is not None:
        out["keyid"] = signature.keyid
    return out


def parse_envelope(data: bytes) -> Envelope:
    """The envelope in ``data`` (strict JSON), or a :class:`DsseError` naming the member that is wrong."""
    try:
        value = loads_strict(data)
    except StrictJSONError as exc:
        raise DsseError(f"envelope is not valid JSON: {exc}") from None
    fields = _object(value, "envelope", required={"payloadType", "payload", "signatures"}, optional=set())
    payload_type = _string(fields["payloadType"], "payloadType")
    payload = decode_any_base64(_string(fields["payload"], "payload"), what="payload")
    raw_signatures = fields["signatures"]
    if not isinstance(raw_signatures, list) or not raw_signatures:
        raise DsseError("envelope member 'signatures' must be a non-empty array")
    return Envelope(payload_type, payload, tuple(_parse_signature(item, i) for i, item in enumerate(raw_signatures)))


def _parse_signature(item: Any, index: int) -> DsseSignature:
    """``signatures[index]``: ``{"sig", "keyid"?}``."""
    where = f"signatures[{index}]"
    fields = _object(item, where, required={"sig"}, optional={"keyid"})
    keyid = fields.get("keyid")
    if keyid is not None:
        keyid = _string(keyid, f"{where}.keyid") or None  # an empty hint is no hint
    return DsseSignature(decode_any_base64(_string(fields["sig"], f"{where}.sig"), what=f"{where}.sig"), keyid)


def _object(value: Any, where: str, *, required: set[str], optional: set[str]) -> dict[str, Any]:
    """``value`` as a JSON object with exactly the ``required`` keys and some ``optional`` ones."""
    if not isinstance(value, dict):
        raise DsseError(f"{where} must be a JSON object")
    missing = sorted(required - value.keys())
    unknown = sorted(value.keys() - required - optional)
    if missing:
        raise DsseError(f"{where} lacks {', '.join(repr(k) for k in missing)}")
    if unknown:
        raise DsseError(f"{where} has unknown member(s) {', '.join(repr(k) for k in unknown)}")
    return value


def _string(value: Any, where: str) -> str:
    """``value`` as a string, else a :class:`DsseError`."""
    if not isinstance(value, str):
        raise DsseError(f"envelope member {where!r} must be a string")
    return value


_BASE64_ANY = re.compile(r"[A-Za-z0-9+/_-]*={0,2}", re.ASCII)


def decode_any_base64(text: str, *, what: str) -> bytes:
    """Base64 in either alphabet (standard ``+/`` or URL-safe ``-_``), padded or not, as DSSE readers must accept."""
    mixed = ("+" in text or "/" in text) and ("-" in text or "_" in text)
    if not _BASE64_ANY.fullmatch(text) or mixed:
        raise DsseError(f"{what} is not base64 (standard or URL-safe)")
    unpadded = text.rstrip("=")
    if len(unpadded) % 4 == 1 or (text != unpadded and len(text) % 4):
        raise DsseError(f"{what} is not base64 (wrong length or padding)")
    try:
        return base64.urlsafe_b64decode(unpadded.replace("+", "-").replace("/", "_") + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise DsseError(f"{what} is not base64") from None

