"""C2SP signed notes, note keys, checkpoints and cosignatures against the conformance vectors (issue 14).

The vectors (``tests/vectors/tlog/signed_notes.json``, see its README) were checked upstream
with Go's ``golang.org/x/mod/sumdb/note``; govern must agree with it byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.format.checkpoint import Checkpoint, CheckpointError, format_checkpoint, parse_checkpoint
from govern.format.cosignature import (
    CosignatureSigner,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    cosigner_key_text,
    parse_cosigner_key,
)
from govern.format.note import MAX_SIGNATURES, NoteError, NoteSignature, add_signatures, open_note, parse_note, sign_note
from govern.format.note_keys import (
    Ed25519Signer,
    ecdsa_verifier,
    generate_key,
    key_id,
    key_text,
    parse_signer_key,
    parse_verifier_key,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "tlog" / "signed_notes.json").read_text("utf-8"))
VALID = {case["name"]: case for case in VECTORS["valid"]}
KEYS = VECTORS["test_keys_transparency_dev_formats"]
REKOR = VECTORS["rekor_ecdsa_checkpoint"]
_SKEY_KNOWN = KEYS["Known"][1]


def _case_ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


# --- the valid vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["valid"], ids=_case_ids(VECTORS["valid"]))
def test_every_valid_note_verifies_with_its_key(case: dict[str, Any]) -> None:
    verifier = parse_verifier_key(case["vkey"])
    note = open_note(case["note"].encode("utf-8"), [verifier])
    assert [(s.name, s.key_id) for s in note.verified] == [(verifier.name, verifier.key_id)]
    assert note.text == case["note"].encode("utf-8")[: len(note.text)]
    assert verifier.text() == case["vkey"]  # the key text round-trips


@pytest.mark.parametrize("name", [n for n, case in VALID.items() if "skey" in case])
def test_signing_reproduces_the_published_note_byte_for_byte(name: str) -> None:
    case = VALID[name]
    signer = parse_signer_key(case["skey"])
    assert signer.text() == case["skey"]
    assert signer.verifier().text() == case["vkey"]
    text = parse_note(case["note"].encode("utf-8")).text
    if "text" in case:
        assert text == case["text"].encode("utf-8")
    assert sign_note(text, [signer]) == case["note"].encode("utf-8")


def test_the_go_x_mod_example_is_reproduced_from_its_private_key() -> None:
    case = VALID["go-x-mod-PeterNeumann"]
    signed = sign_note(case["text"].encode("utf-8"), [parse_signer_key(case["skey"])])
    assert signed.decode("utf-8") == case["note"]


@pytest.mark.parametrize("case", [c for c in VECTORS["valid"] if c["is_checkpoint"]], ids=lambda c: c["name"])
def test_every_checkpoint_vector_parses_and_formats_back(case: dict[str, Any]) -> None:
    note = open_note(case["note"].encode("utf-8"), [parse_verifier_key(case["vkey"])])
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint == Checkpoint(case["origin"], case["size"], bytes.fromhex(case["root_hex"]), tuple(case.get("extension_lines", ())))
    assert format_checkpoint(checkpoint) == note.text


def test_the_real_sum_golang_org_checkpoint_verifies() -> None:
    case = VALID["sum.golang.org-real-checkpoint"]
    note = open_note(case["note"].encode("utf-8"), [parse_verifier_key(case["vkey"])])
    assert note.verified[0].name == "sum.golang.org"
    checkpoint = parse_checkpoint(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6476701)


def test_multi_signature_checkpoint_unknown_signers_ignored_known_cosigner_verified() -> None:
    case = VALID["reference-tree-7-extension-line-3-signatures"]
    data = case["note"].encode("utf-8")
    alone = open_note(data, [parse_verifier_key(case["vkey"])])
    assert [s.name for s in alone.unverified] == ["Known", "Unknown"]
    both = open_note(data, [parse_verifier_key(case["vkey"]), parse_verifier_key(case["cosigner_vkey"])])
    assert [s.name for s in both.verified] == ["example.com/reference-tree", "Known"]
    assert [s.name for s in both.unverified] == ["Unknown"]
    assert parse_checkpoint(both.text).extensions == ("an opaque extension line",)


# --- rejection --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=_case_ids(VECTORS["invalid"]))
def test_every_invalid_note_is_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(NoteError) as caught:
        open_note(case["note"].encode("utf-8"), [parse_verifier_key(case["vkey"])])
    expected = "invalid signature by known key" if "tampered" in case["name"] else "no signature from a known key"
    assert expected in str(caught.value)


def test_a_known_signer_with_a_bad_signature_rejects_the_note_even_beside_a_valid_one() -> None:
    case = VALID["reference-tree-7-extension-line-3-signatures"]
    parsed = parse_note(case["note"].encode("utf-8"))
    known = parsed.signatures[1]
    forged = NoteSignature(known.name, known.key_id, bytes([known.signature[0] ^ 1]) + known.signature[1:])
    note = parsed.text + b"\n" + "".join(s.line() + "\n" for s in (parsed.signatures[0], forged)).encode()
    verifiers = [parse_verifier_key(case["vkey"]), parse_verifier_key(case["cosigner_vkey"])]
    with pytest.raises(NoteError, match=r"invalid signature by known key Known\+451c786d"):
        open_note(note, verifiers)


def test_a_key_sharing_only_the_name_or_only_the_id_is_unknown() -> None:
    case = VALID["c2sp-signed-note-example"]
    note = case["note"].encode("utf-8")
    same_name_other_key = Ed25519Signer("example.com/foo", bytes(32)).verifier()
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [same_name_other_key])
    # the same key under another name has another id as well: unknown too
    other_name = parse_verifier_key(case["vkey"])
    renamed = type(other_name)("example.com/bar", other_name.public_key)
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [renamed])


def test_a_repeated_signature_line_counts_once() -> None:
    case = VALID["c2sp-signed-note-example"]
    note = case["note"].encode("utf-8")
    doubled = note + note[note.rindex(b"\xe2\x80\x94") :]
    opened = open_note(doubled, [parse_verifier_key(case["vkey"])])
    assert len(opened.verified) == 1


def test_two_verifiers_with_one_name_and_id_are_ambiguous() -> None:
    case = VALID["c2sp-signed-note-example"]
    verifier = parse_verifier_key(case["vkey"])
    with pytest.raises(NoteError, match="two verifier keys named example.com/foo"):
        open_note(case["note"].encode("utf-8"), [verifier, verifier])


_GOOD = VALID["c2sp-signed-note-example"]["note"]
_SIG_LINE = _GOOD[_GOOD.index("\u2014") :]


@pytest.mark.parametrize(
    "note, reason",
    [
        (_GOOD[:-1], "does not end with a newline"),
        ("text\n" + _SIG_LINE, "no blank line"),
        ("text\n\n", "no signature lines"),
        ("te\txt\n\n" + _SIG_LINE, "control character U+0009"),
        ("text\r\n\n" + _SIG_LINE, "control character U+000D"),
        ("text\n\n- " + _SIG_LINE[2:], "does not start with an em dash"),
        ("text\n\n\u2014 exa+mple AAAAAAA=\n", "invalid key name 'exa+mple'"),
        ("text\n\n\u2014 example.com/foo\n", "no signature after the key name"),
        ("text\n\n\u2014 example.com/foo not*base64\n", "not standard base64"),
        ("text\n\n\u2014 example.com/foo AAAAAA==\n", "4-byte key id and at least one byte"),
        ("text\n\n\u2014 example.com/foo AAAAAAB=\n", "not canonical base64"),
        ("text\n\n" + _SIG_LINE * (MAX_SIGNATURES + 1), f"more than the limit of {MAX_SIGNATURES}"),
        ("x" * (1 << 20) + "\n\n" + _SIG_LINE, "more than the limit"),
    ],
    ids=[
        "no-final-newline", "no-blank-line", "no-signatures", "tab", "carriage-return", "hyphen-not-em-dash",
        "plus-in-name", "no-signature", "bad-base64", "short-signature", "stray-base64-bits", "too-many-signatures", "too-big",
    ],
)
def test_malformed_notes_are_refused_saying_why(note: str, reason: str) -> None:
    verifier = parse_verifier_key(VALID["c2sp-signed-note-example"]["vkey"])
    with pytest.raises(NoteError, match=reason.replace("+", r"\+").replace("(", r"\(")):
        open_note(note.encode("utf-8"), [verifier])


def test_invalid_utf8_is_refused() -> None:
    verifier = parse_verifier_key(VALID["c2sp-signed-note-example"]["vkey"])
    with pytest.raises(NoteError, match="not valid UTF-8"):
        open_note(b"caf\xe9\n\n" + _SIG_LINE.encode("utf-8"), [verifier])


def test_signing_refuses_what_a_verifier_would_refuse() -> None:
    signer = parse_signer_key(_SKEY_KNOWN)
    with pytest.raises(NoteError, match="does not end with a newline"):
        sign_note(b"no newline", [signer])
    with pytest.raises(NoteError, match="control character U\\+0000"):
        sign_note(b"nul\x00\n", [signer])
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note(b"text\n", [])
    with pytest.raises(NoteError, match=r"signer Known\+451c786d given twice"):
        sign_note(b"text\n", [signer, signer])
    with pytest.raises(NoteError, match="invalid signer name 'a b'"):
        sign_note(b"text\n", [Ed25519Signer("a b", bytes(32))])
    with pytest.raises(NoteError, match="no signer to add"):
        add_signatures(sign_note(b"text\n", [signer]), [])


def test_a_text_holding_blank_lines_and_dash_lines_round_trips() -> None:
    signer = parse_signer_key(_SKEY_KNOWN)
    text = "first\n\n\u2014 not a signature\n\n\nlast\n".encode()
    note = open_note(sign_note(text, [signer]), [signer.verifier()])
    assert note.text == text


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [k for k in KEYS if k != "source"])
def test_transparency_dev_test_keys_parse_and_print_back(name: str) -> None:
    vkey, skey = KEYS[name]
    signer = parse_signer_key(skey)
    assert (signer.name, signer.text(), signer.verifier().text()) == (name, skey, vkey)
    assert parse_verifier_key(vkey) == signer.verifier()


def test_generated_keys_sign_and_verify_and_follow_the_key_id_rule() -> None:
    skey, vkey = generate_key("example.org/govern-log")
    signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
    assert skey.startswith("PRIVATE+KEY+example.org/govern-log+")
    assert verifier.key_id == key_id("example.org/govern-log", b"\x01" + verifier.public_key)
    assert signer.verifier() == verifier
    assert open_note(sign_note(b"hello\n", [signer]), [verifier]).text == b"hello\n"
    assert generate_key("example.org/govern-log") != (skey, vkey)


_VKEY = KEYS["Known"][0]
_SKEY = KEYS["Known"][1]
_KNOWN_PUBLIC = parse_verifier_key(_VKEY).public_key


def _with_good_id(name: str, typed_key: bytes) -> str:
    """A key text whose id is right for ``typed_key``, so that the check after the id's is the one that fails."""
    return key_text(name, key_id(name, typed_key), typed_key)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("Known", "expected 'name\\+hexid\\+base64key'"),
        ("Kn own+451c786d+" + _VKEY.split("+", 2)[2], "invalid key name 'Kn own'"),
        ("+451c786d+" + _VKEY.split("+", 2)[2], "invalid key name ''"),
        ("Known+451c786+" + _VKEY.split("+", 2)[2], "'451c786' is not 8 hexadecimal digits"),
        ("Known+451c786e+" + _VKEY.split("+", 2)[2], "key id 451c786e does not match the key \\(it computes 451c786d\\)"),
        ("Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdU", "not standard base64"),
        ("Known+00000000+", "the key is empty"),
        (_with_good_id("Known", b"\x02" + _KNOWN_PUBLIC), "type 0x02, expected 0x01"),
        (_with_good_id("Known", b"\x01" + _KNOWN_PUBLIC[:28]), "32 bytes, not 28"),
    ],
    ids=["no-plus", "space-in-name", "empty-name", "short-id", "wrong-id", "bad-base64", "empty-key", "wrong-type", "short-key"],
)
def test_malformed_verifier_keys_are_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        parse_verifier_key(text)


@pytest.mark.parametrize(
    "text, reason",
    [
        (_SKEY.removeprefix("PRIVATE+KEY+"), "must start with 'PRIVATE\\+KEY\\+'"),
        (_SKEY.replace("451c786d", "451c786e"), "key id 451c786e does not match the key \\(it computes 451c786d\\)"),
        (_SKEY.replace("+AQPR", "+AgPR"), "type 0x02, expected 0x01"),
        ("PRIVATE+KEY+Known+451c786d+AQPRoE2*", "not standard base64"),
    ],
    ids=["no-private-prefix", "wrong-id", "wrong-type", "bad-base64"],
)
def test_malformed_signer_keys_are_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason) as caught:
        parse_signer_key(text)
    assert "AQPRoE2" not in str(caught.value)  # never a piece of the secret in a message


def test_a_signer_key_is_never_printed_by_its_repr() -> None:
    assert "seed" not in repr(parse_signer_key(_SKEY))


# --- the Rekor ECDSA checkpoint: verify-only ---------------------------------------------------


def test_the_rekor_ecdsa_checkpoint_verifies_with_its_der_key() -> None:
    verifier = ecdsa_verifier("rekor.sigstage.dev", base64.b64decode(REKOR["pubkey_der_b64"]))
    assert f"{verifier.key_id:08x}" == "d32f30a3"  # SHA-256(DER SPKI)[:4], not the Ed25519 rule
    note = open_note(REKOR["note"].encode("utf-8"), [verifier])
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == "rekor.sigstage.dev - 8050909264565447525"  # spaces: allowed, only discouraged
    assert checkpoint.size == 25901179


def test_the_rekor_checkpoint_is_an_unknown_signer_to_ed25519_verifiers_and_tampering_is_caught() -> None:
    data = REKOR["note"].encode("utf-8")
    with pytest.raises(NoteError, match=r"no signature from a known key \(signed by: rekor.sigstage.dev\+d32f30a3\)"):
        open_note(data, [parse_verifier_key(VALID["c2sp-signed-note-example"]["vkey"])])
    verifier = ecdsa_verifier("rekor.sigstage.dev", base64.b64decode(REKOR["pubkey_der_b64"]))
    with pytest.raises(NoteError, match="invalid signature by known key rekor.sigstage.dev"):
        open_note(data.replace(b"25901179", b"25901180"), [verifier])


def test_an_ecdsa_verifier_refuses_a_key_that_is_not_p256() -> None:
    with pytest.raises(NoteError, match="not a DER SubjectPublicKeyInfo"):
        ecdsa_verifier("rekor.sigstage.dev", b"not a key")


# --- checkpoints ------------------------------------------------------------------------------

_ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text, reason",
    [
        (f"origin\n5\n{_ROOT}", "does not end with a newline"),
        ("origin\n5\n", "2 lines, at least 3"),
        (f"\n5\n{_ROOT}\n", "origin \\(line 1\\) is empty"),
        (f"origin\n05\n{_ROOT}\n", "'05' is not a decimal without leading zeros"),
        (f"origin\n-1\n{_ROOT}\n", "'-1' is not a decimal"),
        (f"origin\n{1 << 63}\n{_ROOT}\n", "larger than 2\\^63-1"),
        ("origin\n5\nAAAA\n", "3 bytes, expected 32"),
        ("origin\n5\nnot base64!\n", "not standard base64"),
        (f"origin\n5\n{_ROOT}\n\nafter a blank\n", "extension line 4 is empty"),
    ],
    ids=["no-newline", "two-lines", "empty-origin", "leading-zero", "negative", "too-large", "short-root", "bad-root", "empty-extension"],
)
def test_malformed_checkpoints_are_refused_naming_the_line(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_checkpoint(text.encode("utf-8"))


def test_the_empty_tree_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint("example.org/log", 0, bytes(32))
    assert parse_checkpoint(checkpoint.text()) == checkpoint
    assert checkpoint.text() == f"example.org/log\n0\n{_ROOT}\n".encode()


def test_format_refuses_what_parse_would_refuse() -> None:
    with pytest.raises(CheckpointError, match="3 bytes"):
        format_checkpoint(Checkpoint("example.org/log", 1, b"abc"))


# --- cosignatures (C2SP tlog-cosignature v1) ---------------------------------------------------


def _witness(timestamp: int = 1679315147) -> CosignatureSigner:
    return CosignatureSigner(parse_signer_key(_SKEY), timestamp)


def test_a_witness_cosignature_verifies_beside_the_log_signature() -> None:
    case = VALID["reference-tree-8-checkpoint"]
    witness = _witness()
    cosigned = cosign(case["note"].encode("utf-8"), witness)
    assert cosigned.startswith(case["note"].encode("utf-8"))  # the log's line kept as it was
    cosigner = parse_cosigner_key(cosigner_key_text("Known", witness.key.public_key))
    note = open_note(cosigned, [parse_verifier_key(case["vkey"]), cosigner])
    assert [s.name for s in note.verified] == ["example.com/reference-tree", "Known"]
    assert cosignature_timestamp(note.verified[1]) == 1679315147
    # the cosigner's id is the type-0x04 one, not the key's note id (451c786d)
    assert cosigner.key_id == key_id("Known", b"\x04" + witness.key.public_key) != 0x451C786D
    assert cosigner.text().split("+")[2].startswith("BHAQ")  # base64 of 0x04 || public key


def test_the_cosigned_message_is_the_header_the_time_and_the_checkpoint() -> None:
    body = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == b"cosignature/v1\ntime 1679315147\n" + body
    signature = _witness().sign(body)
    assert signature[:8] == (1679315147).to_bytes(8, "big") and len(signature) == 72


def test_a_cosignature_with_a_changed_timestamp_is_rejected() -> None:
    case = VALID["reference-tree-8-checkpoint"]
    witness = _witness()
    parsed = parse_note(cosign(case["note"].encode("utf-8"), witness))
    line = parsed.signatures[1]
    moved = NoteSignature(line.name, line.key_id, (1679315148).to_bytes(8, "big") + line.signature[8:])
    note = parsed.text + b"\n" + "".join(s.line() + "\n" for s in (parsed.signatures[0], moved)).encode()
    with pytest.raises(NoteError, match="invalid signature by known key Known"):
        open_note(note, [parse_verifier_key(case["vkey"]), parse_cosigner_key(cosigner_key_text("Known", witness.key.public_key))])


def test_cosigning_again_replaces_the_witness_earlier_cosignature() -> None:
    case = VALID["reference-tree-8-checkpoint"]
    once = cosign(case["note"].encode("utf-8"), _witness(100))
    twice = cosign(once, _witness(200))
    signatures = parse_note(twice).signatures
    assert [s.name for s in signatures] == ["example.com/reference-tree", "Known"]
    assert cosignature_timestamp(signatures[1]) == 200


def test_a_cosigner_signs_only_checkpoints_and_only_valid_timestamps() -> None:
    with pytest.raises(CheckpointError):
        _witness().sign(b"If you think cryptography is the answer to your problem,\n")
    with pytest.raises(NoteError, match="outside 0..2\\^63-1"):
        _witness(1 << 63)


def test_a_cosigner_key_is_not_a_note_key_and_back() -> None:
    text = cosigner_key_text("Known", parse_signer_key(_SKEY).public_key)
    with pytest.raises(NoteError, match="type 0x04, expected 0x01 \\(a witness cosigner key"):
        parse_verifier_key(text)
    with pytest.raises(NoteError, match="type 0x01, expected 0x04"):
        parse_cosigner_key(_VKEY)


# --- properties -------------------------------------------------------------------------------

_SIGNER = Ed25519Signer("example.org/prop", bytes(range(32)))
_note_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, range(32)))) | st.just("\n"),
    max_size=200,
).map(lambda s: (s + "\n").encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(text=_note_text)
def test_property_sign_then_verify(text: bytes) -> None:
    note = open_note(sign_note(text, [_SIGNER]), [_SIGNER.verifier()])
    assert note.text == text


@settings(max_examples=150, deadline=None)
@given(text=_note_text, data=st.data())
def test_property_any_flipped_byte_is_rejected(text: bytes, data: st.DataObject) -> None:
    note = bytearray(sign_note(text, [_SIGNER]))
    index = data.draw(st.integers(0, len(note) - 1), label="index")
    note[index] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(NoteError):
        open_note(bytes(note), [_SIGNER.verifier()])


def test_the_transparency_formats_import_cryptography_only_when_they_sign_or_verify() -> None:
    # govern's start-up must not pay for cryptography: every command imports govern.format
    import subprocess
    import sys

    code = (
        "import sys, govern.cli, govern.format.note, govern.format.checkpoint, govern.format.cosignature, "
        "govern.format.dsse, govern.format.intoto; print('cryptography' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
