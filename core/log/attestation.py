"""In-toto attestations of sealed runs (``govern attest``, ``govern verify --attestation``; docs/attestations.md).

An attestation is an in-toto Statement v1 in a DSSE envelope signed with a note key
(Ed25519): its subjects are every file of the run's manifest with its SHA-256, its predicate
(:data:`PREDICATE_TYPE`) names the run, its operation, its ROOT_SHA256 and, for a delta-log
build, the build's checkpoint. The envelope's ``keyid`` is the verifier key's
``name+hexid`` (the first two fields of the key text), so a verifier tries only the key a
signature names. Signing is deterministic (Ed25519, canonical JSON, no clock): the same run
and key give the same bytes.

The envelope lives beside the run's seal, outside its manifest
(:data:`~govern.format.paths.ATTESTATION_NAME`): it signs the manifest's files, so it cannot
be one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from govern.errors import GovernError, Problem
from govern.format.checkpoint import CHECKPOINT_NAME
from govern.format.dsse import DsseError, Ed25519DsseKey, dump_envelope, parse_envelope, sign_envelope, verify_envelope
from govern.format.envelope import ENVELOPE_NAME
from govern.format.intoto import PAYLOAD_TYPE, InTotoError, Statement, Subject, parse_statement, statement_bytes
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.manifest import MANIFEST_NAME, ManifestEntry, parse_manifest, seal_line
from govern.format.note_keys import Ed25519Signer, Ed25519Verifier, Verifier
from govern.format.paths import ATTESTATION_NAME, manifest_path_problem
from govern.log.delta_log import BUILD_OP_ID
from govern.runs.run_store import OBJECT_READERS, RunStore
from govern.runtime.progress import NO_PROGRESS, Progress

#: The predicate type of govern's run attestations (the predicate's members: docs/attestations.md).
PREDICATE_TYPE = "https://govern.dev/attestation/run/v1"


def dsse_keyid(name: str, key_id: int) -> str:
    """The DSSE ``keyid`` of a note key: ``name+hexid``, the start of its verifier key text."""
    return f"{name}+{key_id:08x}"


def _sign(run_id: str, root_sha256: str, files: Sequence[ManifestEntry], run_json: bytes | None, checkpoint: bytes | None, signer: Ed25519Signer) -> bytes:
    """The signed envelope bytes of the statement about a run whose seal and files were checked."""
    op_id = None
    if run_json is not None:
        try:
            envelope = loads_strict(run_json)
        except StrictJSONError:
            envelope = None
        op_id = envelope.get("op_id") if isinstance(envelope, dict) else None
    predicate: dict[str, Any] = {"run_id": run_id, "op_id": op_id, "root_sha256": root_sha256}
    if op_id == BUILD_OP_ID and checkpoint is not None:
        predicate["checkpoint"] = checkpoint.decode("utf-8")
    statement = statement_bytes((Subject(entry.path, entry.sha256) for entry in files), PREDICATE_TYPE, predicate)
    return dump_envelope(sign_envelope(PAYLOAD_TYPE, statement, signer.seed, dsse_keyid(signer.name, signer.key_id)))


@attrs.frozen
class AttestedRun:
    """What ``govern attest`` signed: the run, its root, how many subjects, under which key id."""

    run_id: str
    root_sha256: str
    subjects: int
    keyid: str
    envelope: bytes = attrs.field(repr=False)


def attest_run(runs: RunStore, run_id: str, signer: Ed25519Signer, where: str, progress: Progress = NO_PROGRESS) -> AttestedRun:
    """The signed attestation of ``run_id``, after its seal and every file verify (deep).

    A run that does not verify is not attested: the first problem's code (exit 1), every
    problem listed. ``where`` names the run in messages.
    """
    check = runs.check_stored_run(run_id, progress)
    if not check.ok or check.manifest is None or check.root_sha256 is None:
        first = check.problems[0]
        raise GovernError.found(first.code, f"{where}: not attested, its seal does not verify: {first.where}: {first.message}", problems=check.problems)
    listed = check.manifest.by_path()
    run_json = runs.read_sealed_file(check, ENVELOPE_NAME) if ENVELOPE_NAME in listed else None
    checkpoint = runs.read_sealed_file(check, CHECKPOINT_NAME) if CHECKPOINT_NAME in listed else None
    files = check.manifest.files
    envelope = _sign(run_id, check.root_sha256, files, run_json, checkpoint, signer)
    return AttestedRun(run_id, check.root_sha256, len(files), dsse_keyid(signer.name, signer.key_id), envelope)


def build_attestation(staging: Path, run_id: str, signer: Ed25519Signer | None) -> dict[str, bytes]:
    """The files a delta-log build run is published with beside its seal: its attestation
    (``{ATTESTATION_NAME: envelope}``) when a key is configured, else none.

    ``staging`` is the build's folder, sealed a moment ago by this process as ``run_id``
    (so its manifest is taken as written, not re-verified); its ``checkpoint``, when it holds
    one, goes into the predicate.
    """
    if signer is None:
        return {}
    manifest_bytes = (staging / MANIFEST_NAME).read_bytes()
    manifest, problems = parse_manifest(manifest_bytes, run_id, f"{staging}/{MANIFEST_NAME}")
    if manifest is None or problems:  # sealing wrote it: anything else is a bug, never signed
        raise GovernError("E_MANIFEST_INVALID", f"{staging}/{MANIFEST_NAME}: {problems[0] if problems else 'unreadable'}")
    listed = manifest.by_path()

    def sealed(name: str) -> bytes | None:
        return (staging / name).read_bytes() if name in listed else None

    envelope = _sign(run_id, seal_line(manifest_bytes)[0], manifest.files, sealed(ENVELOPE_NAME), sealed(CHECKPOINT_NAME), signer)
    return {ATTESTATION_NAME: envelope}


@attrs.frozen
class OpenedAttestation:
    """An attestation whose signature verified: its statement and the key ids that signed it."""

    statement: Statement
    signed_by: tuple[str, ...]

    @property
    def run_id(self) -> str:
        """The run the predicate names."""
        return str(self.statement.predicate["run_id"])

    @property
    def root_sha256(self) -> str:
        """The run's ROOT_SHA256 when it was attested."""
        return str(self.statement.predicate["root_sha256"])


def open_attestation(data: bytes, verifiers: Iterable[Verifier], where: str) -> OpenedAttestation:
    """The statement of the envelope ``data`` once one of ``verifiers`` verifies its
    signature; E_ATTESTATION_INVALID naming ``where`` when it does not, or when the envelope
    or its statement is not a govern run attestation."""
    # Only note keys (type 0x01) sign attestations; a witness's cosigner key never does.
    keys = [Ed25519DsseKey(v.public_key, dsse_keyid(v.name, v.key_id)) for v in verifiers if isinstance(v, Ed25519Verifier)]
    try:
        envelope = parse_envelope(data)
        if envelope.payload_type != PAYLOAD_TYPE:
            raise DsseError(f"payloadType is {envelope.payload_type!r}, expected {PAYLOAD_TYPE!r}")
        accepted = verify_envelope(envelope, keys)
        statement = parse_statement(envelope.payload)
    except (DsseError, InTotoError) as exc:
        raise GovernError.found("E_ATTESTATION_INVALID", f"{where}: {exc}") from None
    predicate = statement.predicate
    if statement.predicate_type != PREDICATE_TYPE:
        raise GovernError.found("E_ATTESTATION_INVALID", f"{where}: predicateType is {statement.predicate_type!r}, expected {PREDICATE_TYPE!r}")
    for member in ("run_id", "root_sha256"):
        if not isinstance(predicate.get(member), str):
            raise GovernError.found("E_ATTESTATION_INVALID", f"{where}: predicate.{member} must be a string")
    return OpenedAttestation(statement, tuple(sorted(key.keyid or "" for key in accepted)))


def subject_problems(runs: RunStore, run_id: str, opened: OpenedAttestation, progress: Progress = NO_PROGRESS) -> list[Problem]:
    """Every way run ``run_id`` no longer matches ``opened``: a subject whose file is missing
    or hashes differently now (each file re-hashed, never taken from the manifest), a name no
    run may hold, another run id, or a seal whose ROOT_SHA256 is not the attested one (the
    run was re-sealed). Problems are E_ATTESTATION_INVALID, in subject order."""
    problems: list[Problem] = []
    if opened.run_id != run_id:
        problems.append(Problem("E_ATTESTATION_INVALID", run_id, f"the attestation is about run {opened.run_id}"))
    subjects = opened.statement.subjects
    safe = [s for s in subjects if manifest_path_problem(s.name) is None]
    problems.extend(
        Problem("E_ATTESTATION_INVALID", f"subject {s.name!r}", f"not a path inside a run: {manifest_path_problem(s.name)}")
        for s in subjects if manifest_path_problem(s.name) is not None
    )
    progress.start(len(safe), f"re-hashing {run_id}")
    with ThreadPoolExecutor(max_workers=OBJECT_READERS) as pool:
        for subject, stored in zip(safe, pool.map(lambda s: _hash_or_none(runs, run_id, s.name), safe)):
            progress.advance(1)
            if stored is None:
                problems.append(Problem("E_ATTESTATION_INVALID", f"subject {subject.name}", "no such file in the run"))
            elif stored != subject.sha256:
                problems.append(Problem("E_ATTESTATION_INVALID", f"subject {subject.name}", f"sha256 {stored} now, the attestation says {subject.sha256}"))
    seal = runs.read_seal(run_id)
    if seal.root_sha256 != opened.root_sha256:
        now = "no readable seal" if seal.root_sha256 is None else f"ROOT_SHA256 {seal.root_sha256}"
        problems.append(Problem("E_ATTESTATION_INVALID", run_id, f"{now}, the attestation says {opened.root_sha256} (re-sealed since attested)"))
    return problems


def _hash_or_none(runs: RunStore, run_id: str, name: str) -> str | None:
    """The SHA-256 of a run's file read now, or None when there is no such (regular) file."""
    try:
        stored = runs.hash_stored_file(run_id, name)
    except (OSError, GovernError):
        return None
    return None if stored is None else stored[1]

