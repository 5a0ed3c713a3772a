"""Reading the transparency log's keys (govern.config.keys): signer keys from ``--key`` or
``GOVERN_SIGNING_KEY``, verifier keys as text or files; a bad key is one E_KEY_INVALID naming
its file and never echoing a signer key's text."""

from __future__ import annotations

import pytest

from govern.config.keys import SIGNING_KEY_VARIABLE, configured_signer, cosigner_of, load_signer, load_verifiers
from govern.errors import GovernError
from govern.format.cosignature import CosignatureVerifier
from govern.format.note import open_note, sign_note
from govern.format.note_keys import Ed25519Verifier, generate_key
from govern.runtime import environment


def _key_file(tmp_path, text, name="k.key"):
    path = tmp_path / name
    path.write_text(text + "\n")
    return path


def test_a_signer_key_file_signs_notes_its_verifier_key_opens(tmp_path):
    signer_text, verifier_text = generate_key("audit.example/log")
    signer = load_signer(_key_file(tmp_path, signer_text))
    note = sign_note(b"hello\n", [signer])
    (verifier,) = load_verifiers([verifier_text])
    assert open_note(note, [verifier]).text == b"hello\n"
    (from_file,) = load_verifiers([str(_key_file(tmp_path, verifier_text, "v.pub"))])
    assert from_file == verifier


def test_the_option_wins_over_the_environment_and_neither_means_unsigned(tmp_path):
    option_key = _key_file(tmp_path, generate_key("option")[0], "option.key")
    env_key = _key_file(tmp_path, generate_key("environment")[0], "env.key")
    with environment.binding({SIGNING_KEY_VARIABLE: str(env_key)}):
        assert configured_signer(option_key)[0].name == "option"
        signer, source = configured_signer(None)
        assert signer.name == "environment" and source == f"{SIGNING_KEY_VARIABLE}={env_key}"
    with environment.binding({}):
        assert configured_signer(None) == (None, None)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not a key", "must start with 'PRIVATE+KEY+'"),
        ("x" * 5000, "over 4096 bytes"),
    ],
)
def test_a_bad_signer_key_is_one_error_naming_the_file(tmp_path, content, needle):
    path = _key_file(tmp_path, content)
    with pytest.raises(GovernError) as caught:
        load_signer(path)
    assert caught.value.code == "E_KEY_INVALID"
    assert str(path) in str(caught.value) and needle in str(caught.value)


def test_a_missing_key_file_names_it(tmp_path):
    with pytest.raises(GovernError) as caught:
        load_signer(tmp_path / "absent.key")
    assert caught.value.code == "E_KEY_INVALID" and "absent.key" in str(caught.value)


def test_a_signer_key_given_as_a_verifier_is_refused_without_echoing_it(tmp_path):
    signer_text, _ = generate_key("secret")
    with pytest.raises(GovernError) as caught:
        load_verifiers([signer_text])
    assert caught.value.code == "E_KEY_INVALID" and "signer key" in str(caught.value)
    secret = signer_text.split("+", 4)[4]  # PRIVATE+KEY+name+hexid+<base64 seed, may hold "+">
    assert secret not in str(caught.value)
    path = _key_file(tmp_path, signer_text)
    with pytest.raises(GovernError) as from_file:
        load_verifiers([str(path)])
    assert secret not in str(from_file.value) and str(path) in str(from_file.value)


def test_cosigner_keys_are_verifiers_too(tmp_path):
    signer_text, _ = generate_key("witness")
    signer = load_signer(_key_file(tmp_path, signer_text))
    cosigner = cosigner_of(signer, 1_700_000_000)
    (parsed,) = load_verifiers([cosigner.key.verifier().text()])
    assert isinstance(parsed, Ed25519Verifier)
    cosigner_text = CosignatureVerifier(signer.name, signer.public_key).text()
    (witness,) = load_verifiers([cosigner_text])
    assert isinstance(witness, CosignatureVerifier) and witness.key_id == cosigner.key_id != parsed.key_id
