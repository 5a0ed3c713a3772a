"""Signer and verifier keys of the transparency log, read from files or the command line.

A signer key is the secret: it is read from a file named by ``--key`` or, failing that, by the
``GOVERN_SIGNING_KEY`` variable of the invocation's environment — never from
``registry_config.toml``, which is shared. A verifier key is public: ``--vkey`` takes the key
text itself or a file holding it. Both are in Go ``golang.org/x/mod/sumdb/note``'s text form
(:mod:`govern.format.note_keys`), so keys made by other note tools work here and govern's keys
work there. A key that cannot be used is ``E_KEY_INVALID`` naming the file, never its text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from govern.errors import GovernError
from govern.format.cosignature import CosignatureSigner, CosignatureVerifier, parse_cosigner_key
from govern.format.note_keys import (
    Ed25519Signer,
    NoteError,
    Verifier,
    parse_signer_key,
    parse_verifier_key,
)
from govern.runtime import environment

#: The environment variable naming the signer key file a build signs its checkpoint with.
SIGNING_KEY_VARIABLE = "GOVERN_SIGNING_KEY"

#: A key file is a line of text; anything much larger is not a key (and is not read whole).
_MAX_KEY_FILE_BYTES = 4096


def _read_key_file(path: Path, what: str) -> str:
    """The text of the key file ``path`` (E_KEY_INVALID when unreadable, too large or not UTF-8)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise GovernError("E_KEY_INVALID", f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise GovernError("E_KEY_INVALID", f"{path}: not a {what} (over {_MAX_KEY_FILE_BYTES} bytes)")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise GovernError("E_KEY_INVALID", f"{path}: not a {what} (not UTF-8 text)") from None


def load_signer(path: Path) -> Ed25519Signer:
    """The Ed25519 note signer in the key file ``path`` (``PRIVATE+KEY+name+hexid+base64``)."""
    text = _read_key_file(path, "signer key")
    try:
        return parse_signer_key(text)
    except NoteError as exc:
        raise GovernError("E_KEY_INVALID", f"{path}: {exc}") from None


def configured_signer(key_option: Path | None) -> tuple[Ed25519Signer | None, str | None]:
    """The signer a command signs with, and where it came from: ``--key`` when given, else the
    file ``GOVERN_SIGNING_KEY`` names, else ``(None, None)`` (the command writes unsigned and says so)."""
    if key_option is not None:
        return load_signer(key_option), str(key_option)
    named = environment.current().get(SIGNING_KEY_VARIABLE, "").strip()
    if not named:
        return None, None
    return load_signer(Path(named)), f"{SIGNING_KEY_VARIABLE}={named}"


def cosigner_of(signer: Ed25519Signer, timestamp: int) -> CosignatureSigner:
    """The witness cosigner of the same key: a cosignature (type 0x04) has its own key id, so a
    witness's cosignature can never be taken for the log's signature."""
    return CosignatureSigner(signer, timestamp)


def load_verifiers(values: Iterable[str]) -> list[Verifier]:
    """The verifiers of ``--vkey`` values: each the key text itself, or a file holding it.

    A note verifier key (type 0x01) verifies a log's signatures, a cosigner key (type 0x04) a
    witness's cosignatures; both are accepted, so one ``verify`` checks the log and its
    witnesses. E_KEY_INVALID names the value (its file) when it is neither.
    """
    verifiers: list[Verifier] = []
    for number, value in enumerate(values, 1):
        path = Path(value)
        # A key text is named by its place, never echoed: it may be a signer key given by mistake.
        text, where = (_read_key_file(path, "verifier key"), str(path)) if path.is_file() else (value.strip(), f"--vkey #{number}")
        try:
            verifiers.append(_parse_any_verifier(text))
        except NoteError as exc:
            raise GovernError("E_KEY_INVALID", f"{where}: {exc}") from None
    return verifiers


def _parse_any_verifier(text: str) -> Verifier:
    """A note verifier or a cosigner verifier, by the key's type byte."""
    if text.startswith("PRIVATE+KEY+"):
        raise NoteError("this is a signer key (a secret); give the verifier key 'govern log keygen' printed")
    try:
        return parse_verifier_key(text)
    except NoteError as note_error:
        try:
            cosigner: CosignatureVerifier = parse_cosigner_key(text)
        except NoteError:
            raise note_error from None
        return cosigner


__all__ = ["SIGNING_KEY_VARIABLE", "configured_signer", "cosigner_of", "load_signer", "load_verifiers"]
