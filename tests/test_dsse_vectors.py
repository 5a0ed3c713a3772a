"""DSSE v1 envelopes and in-toto Statement v1 against the conformance vectors (issue 14).

``tests/vectors/tlog/dsse_vectors.json`` (see its README): the DSSE specification's PAE and
ECDSA P-256 vector (verify-only in govern), and an Ed25519 envelope around an in-toto
statement, which govern's signer must reproduce byte for byte from its seed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicNumbers
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.format.dsse import (
    DsseError,
    DsseSignature,
    EcdsaDsseKey,
    Ed25519DsseKey,
    Envelope,
    dump_envelope,
    pae,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from govern.format.intoto import PAYLOAD_TYPE, InTotoError, Subject, parse_statement, statement_bytes
from govern.format.signatures import ed25519_public_key

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "tlog" / "dsse_vectors.json").read_text("utf-8"))
SPEC = VECTORS["dsse_spec_vector"]
INTOTO = VECTORS["intoto_statement_ed25519_generated"]
SEED = bytes.fromhex(INTOTO["ed25519_seed_hex"])
PUBLIC = bytes.fromhex(INTOTO["ed25519_pub_hex"])


def _spec_key(keyid: str | None = "66301bbf") -> EcdsaDsseKey:
    numbers = EllipticCurvePublicNumbers(int(SPEC["key"]["x"]), int(SPEC["key"]["y"]), SECP256R1())
    der = numbers.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return EcdsaDsseKey(der, keyid)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


# --- the DSSE specification's vector ------------------------------------------------------------


def test_pae_matches_the_specification_vector() -> None:
    assert pae(SPEC["payloadType"], SPEC["payload_utf8"].encode()) == SPEC["pae_utf8"].encode()


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t\u00e9", "\u2014".encode()) == b"DSSEv1 3 t\xc3\xa9 3 \xe2\x80\x94"


def test_the_specification_ecdsa_envelope_verifies_verify_only() -> None:
    envelope = parse_envelope(_json(SPEC["envelope"]))
    assert envelope.payload == b"hello world" and envelope.signatures[0].keyid == "66301bbf"
    assert verify_envelope(envelope, [_spec_key()]) == (_spec_key(),)


def test_the_specification_envelope_without_keyid_verifies_too() -> None:
    # protocol.md shows the envelope without a keyid; a key without one is tried on every signature
    raw = {**SPEC["envelope"], "signatures": [{"sig": SPEC["envelope"]["signatures"][0]["sig"]}]}
    assert verify_envelope(parse_envelope(_json(raw)), [_spec_key(None)])


def test_a_keyid_hint_for_another_key_means_the_key_is_not_tried() -> None:
    with pytest.raises(DsseError, match="no signature of the envelope \\(1 signatures, '66301bbf'\\) verifies"):
        verify_envelope(parse_envelope(_json(SPEC["envelope"])), [_spec_key("someone-else")])


def test_the_specification_envelope_with_a_changed_payload_or_type_is_rejected() -> None:
    envelope = parse_envelope(_json(SPEC["envelope"]))
    for forged in (
        Envelope(envelope.payload_type, b"hello World", envelope.signatures),
        Envelope("http://example.com/Other", envelope.payload, envelope.signatures),
    ):
        with pytest.raises(DsseError, match="verifies with the given keys"):
            verify_envelope(forged, [_spec_key()])


# --- the Ed25519 in-toto envelope ---------------------------------------------------------------


def test_the_ed25519_intoto_envelope_verifies_and_its_pae_matches() -> None:
    envelope = parse_envelope(_json(INTOTO["envelope"]))
    assert envelope.payload == INTOTO["payload_utf8"].encode("utf-8")
    assert pae(envelope.payload_type, envelope.payload) == base64.b64decode(INTOTO["pae_b64"])
    assert ed25519_public_key(SEED) == PUBLIC
    assert verify_envelope(envelope, [Ed25519DsseKey(PUBLIC, "21fe31dfa154a261")])
    assert verify_envelope(envelope, [Ed25519DsseKey(PUBLIC)])


def test_govern_signer_reproduces_the_vector_signature_byte_for_byte() -> None:
    envelope = parse_envelope(_json(INTOTO["envelope"]))
    signed = sign_envelope(PAYLOAD_TYPE, INTOTO["payload_utf8"].encode("utf-8"), SEED, "21fe31dfa154a261")
    assert signed == envelope
    assert json.loads(dump_envelope(signed)) == INTOTO["envelope"]


def test_the_vector_statement_parses_to_its_fields_and_builds_back() -> None:
    statement = parse_statement(INTOTO["payload_utf8"].encode("utf-8"))
    expected = INTOTO["statement"]
    assert statement.subjects == tuple(Subject(s["name"], s["digest"]["sha256"]) for s in expected["subject"])
    assert statement.predicate_type == expected["predicateType"]
    assert statement.predicate == expected["predicate"]
    built = statement_bytes(statement.subjects, statement.predicate_type, statement.predicate)
    assert json.loads(built) == expected
    assert built.endswith(b"}\n") and b'\n  "_type"' in built  # govern's canonical JSON: sorted, indent 2


def test_statement_subjects_are_sorted_by_name_and_the_bytes_are_deterministic() -> None:
    a, b = Subject("b.txt", "1" * 64), Subject("a.txt", "2" * 64)
    first = statement_bytes([a, b], "https://govern.example/run/v1", {"run_id": "r"})
    assert first == statement_bytes([b, a], "https://govern.example/run/v1", {"run_id": "r"})
    assert [s.name for s in parse_statement(first).subjects] == ["a.txt", "b.txt"]


def _statement(**changes: Any) -> bytes:
    value = {**INTOTO["statement"], **changes}
    return _json({k: v for k, v in value.items() if v is not None})


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"[]", "must be a JSON object"),
        (b'{"_type": 1, "_type": 2}', "not valid JSON: duplicate key"),
        (_statement(_type="https://in-toto.io/Statement/v0.1"), "_type is 'https://in-toto.io/Statement/v0.1'"),
        (_statement(predicate=None), "missing \\['predicate'\\]"),
        (_statement(extra=1), "unknown \\['extra'\\]"),
        (_statement(subject=[]), "subject must be a non-empty array"),
        (_statement(subject=[{"name": "a"}]), "subject\\[0\\] must be an object with exactly 'name' and 'digest'"),
        (_statement(subject=[{"name": "", "digest": {"sha256": "0" * 64}}]), "subject\\[0\\].name must be a non-empty string"),
        (_statement(subject=[{"name": "a", "digest": {"sha256": "0" * 64, "sha512": "0"}}]), "digest must be exactly"),
        (_statement(subject=[{"name": "a", "digest": {"sha256": "A" * 64}}]), "64 lowercase hex digits"),
        (_statement(subject=[{"name": "a", "digest": {"sha256": "0" * 64}}] * 2), "names 'a' twice"),
        (_statement(predicateType=""), "predicateType must be a non-empty string"),
        (_statement(predicate=[1]), "predicate must be a JSON object"),
    ],
    ids=[
        "array", "duplicate-key", "old-type", "no-predicate", "unknown-member", "no-subjects", "subject-no-digest",
        "empty-name", "other-digest", "uppercase-digest", "duplicate-subject", "empty-predicate-type", "predicate-array",
    ],
)
def test_malformed_statements_are_refused_naming_the_member(data: bytes, reason: str) -> None:
    with pytest.raises(InTotoError, match=reason):
        parse_statement(data)


# --- envelope JSON ------------------------------------------------------------------------------


def _reencoded(encode: Any) -> bytes:
    raw = INTOTO["envelope"]
    return _json(
        {
            "payloadType": raw["payloadType"],
            "payload": encode(base64.b64decode(raw["payload"])),
            "signatures": [{"keyid": raw["signatures"][0]["keyid"], "sig": encode(base64.b64decode(raw["signatures"][0]["sig"]))}],
        }
    )


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: base64.b64encode(b).decode(),
        lambda b: base64.b64encode(b).decode().rstrip("="),
        lambda b: base64.urlsafe_b64encode(b).decode(),
        lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
    ],
    ids=["standard-padded", "standard-unpadded", "url-safe-padded", "url-safe-unpadded"],
)
def test_both_base64_alphabets_padded_or_not_are_read(encode: Any) -> None:
    envelope = parse_envelope(_reencoded(encode))
    assert envelope == parse_envelope(_json(INTOTO["envelope"]))
    assert verify_envelope(envelope, [Ed25519DsseKey(PUBLIC)])


def test_the_written_envelope_is_canonical_and_omits_an_absent_keyid() -> None:
    envelope = sign_envelope(PAYLOAD_TYPE, b"{}", SEED)
    data = dump_envelope(envelope)
    assert json.loads(data) == {
        "payloadType": PAYLOAD_TYPE,
        "payload": "e30=",
        "signatures": [{"sig": base64.b64encode(envelope.signatures[0].sig).decode()}],
    }
    assert data.endswith(b"\n") and parse_envelope(data) == envelope


_SIG = INTOTO["envelope"]["signatures"][0]


@pytest.mark.parametrize(
    "value, reason",
    [
        ([], "envelope must be a JSON object"),
        ({"payloadType": "t", "payload": ""}, "envelope lacks 'signatures'"),
        ({"payloadType": "t", "payload": "", "signatures": [_SIG], "extra": 1}, "unknown member\\(s\\) 'extra'"),
        ({"payloadType": "t", "payload": "", "signatures": []}, "'signatures' must be a non-empty array"),
        ({"payloadType": 1, "payload": "", "signatures": [_SIG]}, "'payloadType' must be a string"),
        ({"payloadType": "t", "payload": "", "signatures": [{"keyid": "k"}]}, "signatures\\[0\\] lacks 'sig'"),
        ({"payloadType": "t", "payload": "", "signatures": [{"sig": "", "key": "k"}]}, "signatures\\[0\\] has unknown member\\(s\\) 'key'"),
        ({"payloadType": "t", "payload": "ab+_", "signatures": [_SIG]}, "payload is not base64 \\(standard or URL-safe\\)"),
        ({"payloadType": "t", "payload": "a", "signatures": [_SIG]}, "payload is not base64 \\(wrong length or padding\\)"),
        ({"payloadType": "t", "payload": "ab=", "signatures": [_SIG]}, "payload is not base64 \\(wrong length or padding\\)"),
        ({"payloadType": "t", "payload": "a b", "signatures": [_SIG]}, "payload is not base64"),
    ],
    ids=["array", "no-signatures", "unknown-member", "empty-signatures", "type-not-string", "no-sig", "unknown-sig-member", "mixed-alphabets", "one-char", "bad-padding", "space"],
)
def test_malformed_envelopes_are_refused_naming_the_member(value: Any, reason: str) -> None:
    with pytest.raises(DsseError, match=reason):
        parse_envelope(_json(value))


def test_an_envelope_that_is_not_json_is_refused() -> None:
    with pytest.raises(DsseError, match="envelope is not valid JSON"):
        parse_envelope(b"{")


def test_verifying_needs_a_key_and_a_seed_of_32_bytes() -> None:
    with pytest.raises(DsseError, match="no verifier key given"):
        verify_envelope(parse_envelope(_json(INTOTO["envelope"])), [])
    with pytest.raises(DsseError, match="32 bytes, not 31"):
        sign_envelope(PAYLOAD_TYPE, b"{}", SEED[:31])


def test_an_unknown_signature_beside_a_valid_one_is_ignored() -> None:
    good = sign_envelope(PAYLOAD_TYPE, b"{}", SEED, "mine")
    stranger = DsseSignature(b"\x00" * 64, "stranger")
    envelope = Envelope(good.payload_type, good.payload, (stranger, *good.signatures))
    assert verify_envelope(envelope, [Ed25519DsseKey(PUBLIC, "mine")]) == (Ed25519DsseKey(PUBLIC, "mine"),)


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(payload_type=st.text(max_size=40), payload=st.binary(max_size=200), keyid=st.none() | st.text(min_size=1, max_size=10))
def test_property_sign_write_read_verify(payload_type: str, payload: bytes, keyid: str | None) -> None:
    envelope = parse_envelope(dump_envelope(sign_envelope(payload_type, payload, SEED, keyid)))
    assert (envelope.payload_type, envelope.payload) == (payload_type, payload)
    assert verify_envelope(envelope, [Ed25519DsseKey(PUBLIC, keyid)])


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200), data=st.data())
def test_property_any_flipped_byte_of_payload_or_signature_is_rejected(payload: bytes, data: st.DataObject) -> None:
    envelope = sign_envelope(PAYLOAD_TYPE, payload, SEED)
    in_payload = data.draw(st.booleans(), label="flip the payload")
    target = bytearray(payload if in_payload else envelope.signatures[0].sig)
    target[data.draw(st.integers(0, len(target) - 1), label="index")] ^= data.draw(st.integers(1, 255), label="xor")
    if in_payload:
        forged = Envelope(envelope.payload_type, bytes(target), envelope.signatures)
    else:
        forged = Envelope(envelope.payload_type, envelope.payload, (DsseSignature(bytes(target)),))
    with pytest.raises(DsseError):
        verify_envelope(forged, [Ed25519DsseKey(PUBLIC)])
