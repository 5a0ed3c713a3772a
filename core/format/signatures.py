"""The signature primitives the transparency formats share: Ed25519 and ECDSA P-256, over bytes.

``cryptography`` is imported inside each function, never at module level: every govern
command imports ``govern.format``, and only the ones that sign or verify should pay for it.
Verification answers ``False`` for any signature that does not verify, whatever the reason
(wrong length, wrong key, garbage): callers decide what a failure means.
"""

from __future__ import annotations

#: Length of an Ed25519 seed (the private key), a public key and a signature (RFC 8032).
ED25519_SEED_BYTES = 32
ED25519_PUBLIC_BYTES = 32
ED25519_SIGNATURE_BYTES = 64


def ed25519_public_key(seed: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte ``seed``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def ed25519_new_seed() -> bytes:
    """A fresh random 32-byte Ed25519 seed (from the operating system's generator)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``message`` by ``seed`` (deterministic: same input, same bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(public_key) != ED25519_PUBLIC_BYTES or len(signature) != ED25519_SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def ecdsa_p256_check_key(spki_der: bytes) -> None:
    """Raise ``ValueError`` unless ``spki_der`` is a DER SubjectPublicKeyInfo of a NIST P-256 key."""
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(spki_der)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a DER SubjectPublicKeyInfo: {exc}") from None
    if not isinstance(key, EllipticCurvePublicKey) or not isinstance(key.curve, SECP256R1):
        raise ValueError("not an ECDSA NIST P-256 public key")


def ecdsa_p256_verify(spki_der: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid ECDSA P-256 / SHA-256 signature of ``message``.

    The signature may be DER (X.509, Rekor's checkpoints) or the raw ``r || s`` of 64 bytes
    (the DSSE specification's test vector). A 64-byte signature is tried as ``r || s`` first
    and then as DER (a DER signature of short ``r`` and ``s`` can be 64 bytes long too).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = load_der_public_key(spki_der)
    if not isinstance(key, EllipticCurvePublicKey):
        return False
    candidates = [signature]
    if len(signature) == 64:
        raw = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        candidates.insert(0, raw)
    for candidate in candidates:
        try:
            key.verify(candidate, message, ECDSA(SHA256()))
        except (InvalidSignature, ValueError):
            continue
        return True
    return False
