"""``govern log keygen | checkpoint | prove | consistency | verify-proof | cosign``: the delta log as a transparency log."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.checkpoint_json import checkpoint_json, checkpoint_line
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import GovernError

if TYPE_CHECKING:
    from govern.format.checkpoint import Checkpoint
    from govern.format.merkle import ConsistencyProof, InclusionProof

log_app = typer.Typer(help="The delta log as a transparency log: keys, checkpoints, proofs, witnesses.", no_args_is_help=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_output(out: Path, data: bytes) -> None:
    """Write a command's output file atomically (E_IO naming it)."""
    from govern.store.atomic import write_atomic

    write_atomic(out, data)


def _read_input(path: Path) -> bytes:
    """The bytes of an input file (a checkpoint, a proof: small), E_IO naming it when unreadable."""
    from govern.store.files import read_bytes_capped

    return read_bytes_capped(path, 1 << 20)


def _note_lines(note: bytes) -> list[str]:
    """A note printed as text: exactly its bytes once the lines are joined with newlines."""
    return note.decode("utf-8").split("\n")[:-1]


# --- keygen ------------------------------------------------------------------------------------


@attrs.frozen
class KeygenResult(CommandResult):
    """A new signer key written to ``key_file``, and its public keys."""

    name: str
    key_file: Path
    verifier_key: str
    cosigner_key: str


@text_renderer(KeygenResult)
def keygen_text(result: KeygenResult) -> list[str]:
    """The verifier key alone (so ``> NAME.vkey`` keeps it); the rest goes to stderr as a note."""
    return [result.verifier_key]


@json_renderer(KeygenResult)
def keygen_json(result: KeygenResult) -> dict[str, Any]:
    """The key's name, where the signer key is, its verifier key and its witness (cosigner) key."""
    return {"name": result.name, "key_file": str(result.key_file), "verifier_key": result.verifier_key, "cosigner_key": result.cosigner_key}


@log_app.command("keygen", short_help="Make a signer key file (mode 0600) and print its verifier key")
def keygen(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The key's name (no spaces, no '+'), e.g. example.com/govern.")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write the signer key (never overwritten).")],
) -> None:
    """Write a new Ed25519 signer key in Go x/mod's form (PRIVATE+KEY+name+hexid+base64) to
    FILE, mode 0600, refusing an existing FILE (E_OUTPUT_EXISTS); print the verifier key
    (name+hexid+base64), which checks the checkpoints signed with it."""
    from govern.format.cosignature import cosigner_key_text
    from govern.format.note_keys import NoteError, generate_key, parse_signer_key
    from govern.store.atomic import create_exclusive

    state: CliState = ctx.obj
    try:
        signer_text, verifier_text = generate_key(name)
    except NoteError as exc:
        raise GovernError("E_USAGE", f"NAME: {exc}") from None
    try:
        create_exclusive(out, signer_text.encode("ascii") + b"\n", mode=0o600)
    except FileExistsError:
        raise GovernError("E_OUTPUT_EXISTS", f"{out}: already exists; a key file is never overwritten (choose another --out)") from None
    signer = parse_signer_key(signer_text)
    state.output.show(KeygenResult(name, out, verifier_text, cosigner_key_text(name, signer.public_key)))


# --- checkpoint --------------------------------------------------------------------------------


@attrs.frozen
class CheckpointResult(CommandResult):
    """The latest build's checkpoint note (signed again now when --key was given)."""

    build: str
    checkpoint: Checkpoint
    note: bytes
    signed_by: list[str]
    out: Path | None = None


@text_renderer(CheckpointResult)
def checkpoint_text(result: CheckpointResult) -> list[str]:
    """The note itself (byte for byte), or with --out a line saying what was written."""
    if result.out is None:
        return _note_lines(result.note)
    return [f"{result.out}: {checkpoint_line(result.checkpoint, result.signed_by)} (build {result.build})"]


@json_renderer(CheckpointResult)
def checkpoint_json_result(result: CheckpointResult) -> dict[str, Any]:
    """The checkpoint (origin, size, root, signed_by), the build, the note's text and where it was written."""
    return {
        **checkpoint_json(result.checkpoint, result.signed_by),
        "build": result.build,
        "note": result.note.decode("utf-8"),
        "out": None if result.out is None else str(result.out),
    }


@log_app.command("checkpoint", short_help="Print the latest build's checkpoint (signed note)")
def checkpoint(
    ctx: typer.Context,
    key: Annotated[Optional[Path], typer.Option("--key", metavar="FILE", help="Add a signature by this signer key now.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write the note to FILE instead of stdout.")] = None,
) -> None:
    """The checkpoint the latest delta-log build sealed: its signed note as stored (unsigned:
    the checkpoint text alone). With --key, the note with a signature by that key added (the
    sealed build is never changed). A build made before builds wrote checkpoints gets one
    computed from its log."""
    from govern.config.keys import load_signer
    from govern.log.proofs import latest_checkpoint, signed_again
    from govern.log.transparency import signer_names

    state: CliState = ctx.obj
    workspace = state.workspace(needs_kind_plugins=False)
    signer = load_signer(key) if key is not None else None
    latest = latest_checkpoint(workspace)
    note = latest.note if signer is None else signed_again(latest, signer)
    if out is not None:
        _write_output(out, note)
    state.output.show(CheckpointResult(latest.build, latest.checkpoint, note, signer_names(note), out))


# --- prove / consistency -----------------------------------------------------------------------


@attrs.frozen
class ProofResult(CommandResult):
    """An inclusion or a consistency proof of the latest build's log."""

    build: str
    proof: InclusionProof | ConsistencyProof
    out: Path | None = None


@text_renderer(ProofResult)
def proof_text(result: ProofResult) -> list[str]:
    """What the proof proves, its roots and its hashes, one per line."""
    from govern.format.merkle import InclusionProof

    proof = result.proof
    if isinstance(proof, InclusionProof):
        lines = [
            f"inclusion proof: record {proof.leaf_index} in the tree of {proof.tree_size} records (build {result.build})",
            f"leaf_hash {_b64(proof.leaf_hash)}",
            f"root      {_b64(proof.root)}",
        ]
    else:
        lines = [
            f"consistency proof: the tree of {proof.size2} records extends the tree of {proof.size1} (build {result.build})",
            f"root1     {_b64(proof.root1)}",
            f"root2     {_b64(proof.root2)}",
        ]
    lines.append(f"proof     {len(proof.proof)} hashes")
    lines.extend(f"  {_b64(node)}" for node in proof.proof)
    if result.out is not None:
        lines.append(f"wrote {result.out}")
    return lines


@json_renderer(ProofResult)
def proof_json(result: ProofResult) -> dict[str, Any]:
    """The proof in its JSON shape (transparency-dev/merkle's, base64 hashes)."""
    return result.proof.to_json()


def _show_proof(state: CliState, build: str | None, proof: InclusionProof | ConsistencyProof, out: Path | None) -> None:
    """Write the bare proof JSON to ``out`` (what ``verify-proof`` reads) and show it."""
    from govern.format.jsonio import dump_canonical

    if out is not None:
        _write_output(out, dump_canonical(proof.to_json()))
    state.output.show(ProofResult(build or "", proof, out))


@log_app.command("prove", short_help="Print an inclusion proof for a record of the log")
def prove(
    ctx: typer.Context,
    record: Annotated[Optional[int], typer.Option("--record", metavar="N", help="The record's zero-based index in the log.")] = None,
    run: Annotated[Optional[str], typer.Option("--run", metavar="RUN_ID", help="The record of this snapshot run (with --registry).")] = None,
    registry: Annotated[Optional[str], typer.Option("--registry", metavar="ID", help="The registry of --run.")] = None,
    size: Annotated[Optional[int], typer.Option("--size", metavar="S", help="Prove against the tree of the first S records (default: all).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Also write the proof's JSON to FILE.")] = None,
) -> None:
    """An RFC 9162 inclusion proof of record N (zero-based) in the latest build's log, or in
    the tree of its first S records; JSON with --json or --out (leaf_index, tree_size,
    leaf_hash, root, proof; base64)."""
    from govern.log.proofs import latest_leaves, prove_inclusion, record_index

    state: CliState = ctx.obj
    if (record is None) == (run is None) or (run is None) != (registry is None):
        raise GovernError("E_USAGE", "say which record: --record N, or --run RUN_ID --registry ID")
    leaves = latest_leaves(state.workspace(needs_kind_plugins=False))
    index = record if record is not None else record_index(leaves, run or "", registry or "")
    _show_proof(state, leaves.run_id, prove_inclusion(leaves, index, size), out)


@log_app.command("consistency", short_help="Print a consistency proof between two sizes of the log")
def consistency(
    ctx: typer.Context,
    from_size: Annotated[int, typer.Option("--from", metavar="M", help="The older tree's size (1 or more).")],
    to_size: Annotated[Optional[int], typer.Option("--to", metavar="N", help="The newer tree's size (default: the whole log).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Also write the proof's JSON to FILE.")] = None,
) -> None:
    """An RFC 9162 consistency proof that the log's tree of N records extends its tree of M
    (the latest build's log); JSON with --json or --out (size1, size2, root1, root2, proof)."""
    from govern.log.proofs import latest_leaves, prove_consistency

    state: CliState = ctx.obj
    leaves = latest_leaves(state.workspace(needs_kind_plugins=False))
    _show_proof(state, leaves.run_id, prove_consistency(leaves, from_size, to_size), out)


# --- verify-proof ------------------------------------------------------------------------------


@attrs.frozen
class ProofCheckResult(CommandResult):
    """A proof that verified against a checkpoint signed by a known key."""

    proof_file: Path
    checkpoint_file: Path
    checkpoint: Checkpoint
    signed_by: list[str]
    proof: InclusionProof | ConsistencyProof


@text_renderer(ProofCheckResult)
def proof_check_text(result: ProofCheckResult) -> list[str]:
    """One line per thing checked."""
    from govern.format.merkle import InclusionProof

    proof = result.proof
    what = (
        f"record {proof.leaf_index} (leaf_hash {_b64(proof.leaf_hash)}) is in the tree of {proof.tree_size}"
        if isinstance(proof, InclusionProof)
        else f"the tree of {proof.size2} extends the tree of {proof.size1}"
    )
    return [
        f"OK  {result.checkpoint_file}: {checkpoint_line(result.checkpoint, result.signed_by)}",
        f"OK  {result.proof_file}: {what}",
    ]


@json_renderer(ProofCheckResult)
def proof_check_json(result: ProofCheckResult) -> dict[str, Any]:
    """The checkpoint that was trusted (and by whom) and the proof that verified against it."""
    return {"checkpoint": checkpoint_json(result.checkpoint, result.signed_by), "proof": result.proof.to_json(), "verified": True}


@log_app.command("verify-proof", short_help="Check a proof against a signed checkpoint, offline (no workspace)")
def verify_proof(
    ctx: typer.Context,
    proof_file: Annotated[Path, typer.Argument(metavar="PROOF", help="A proof's JSON ('govern log prove --out', or its --json document).")],
    checkpoint_file: Annotated[Path, typer.Option("--checkpoint", metavar="FILE", help="The signed checkpoint to check against.")],
    vkey: Annotated[list[str], typer.Option("--vkey", metavar="KEY", help="A verifier key, its text or a file (repeatable).")],
) -> None:
    """Check PROOF against the checkpoint in FILE: first the checkpoint's signature by a known
    key (E_CHECKPOINT_INVALID), then the proof's hashes against the checkpoint's root
    (E_PROOF_INVALID). Needs no workspace: an auditor's check."""
    from govern.config.keys import load_verifiers
    from govern.format.jsonio import StrictJSONError, loads_strict
    from govern.log.proofs import check_proof, open_checkpoint, parse_proof

    state: CliState = ctx.obj
    verifiers = load_verifiers(vkey)
    cp, signed_by = open_checkpoint(_read_input(checkpoint_file), verifiers, str(checkpoint_file))
    try:
        value = loads_strict(_read_input(proof_file))
    except StrictJSONError as exc:
        raise GovernError("E_PROOF_INVALID", f"{proof_file}: not JSON: {exc}") from None
    proof = parse_proof(value, str(proof_file))
    check_proof(proof, cp, str(proof_file))
    state.output.show(ProofCheckResult(proof_file, checkpoint_file, cp, signed_by, proof))


# --- cosign ------------------------------------------------------------------------------------


@attrs.frozen
class CosignResult(CommandResult):
    """A checkpoint a witness verified, found consistent, cosigned and recorded."""

    checkpoint: Checkpoint
    note: bytes
    signed_by: list[str]
    witness: str
    basis: str
    previous_size: int | None
    timestamp: int
    out: Path | None = None


@text_renderer(CosignResult)
def cosign_text(result: CosignResult) -> list[str]:
    """The cosigned note itself, or with --out a line saying what was cosigned."""
    if result.out is None:
        return _note_lines(result.note)
    since = "first checkpoint of its origin" if result.previous_size is None else f"consistent with size {result.previous_size}"
    return [f"{result.out}: cosigned by {result.witness} ({since}): {checkpoint_line(result.checkpoint, result.signed_by)}"]


@json_renderer(CosignResult)
def cosign_json(result: CosignResult) -> dict[str, Any]:
    """The checkpoint, the witness, how consistency was established, the cosigned note."""
    return {
        "checkpoint": checkpoint_json(result.checkpoint, result.signed_by),
        "witness": result.witness,
        "consistency": result.basis,
        "previous_size": result.previous_size,
        "timestamp": result.timestamp,
        "note": result.note.decode("utf-8"),
        "out": None if result.out is None else str(result.out),
    }


@log_app.command("cosign", short_help="Witness: cosign a checkpoint consistent with the last one cosigned")
def cosign(
    ctx: typer.Context,
    checkpoint_file: Annotated[Path, typer.Argument(metavar="CHECKPOINT", help="The log's signed checkpoint.")],
    key: Annotated[Path, typer.Option("--key", metavar="FILE", help="The witness's signer key file.")],
    state_dir: Annotated[Path, typer.Option("--state", metavar="DIR", help="Where the witness keeps the last checkpoint it cosigned, per origin.")],
    vkey: Annotated[list[str], typer.Option("--vkey", metavar="KEY", help="The log's verifier key, its text or a file (repeatable).")],
    proof_file: Annotated[
        Optional[Path], typer.Option("--proof", metavar="FILE", help="A consistency proof ('govern log consistency --out') instead of the workspace's log.")
    ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write the cosigned note to FILE instead of stdout.")] = None,
    at: Annotated[Optional[str], typer.Option("--at", metavar="T", help="The cosignature's time, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")] = None,
) -> None:
    """Verify CHECKPOINT's log signature (--vkey), check that it extends the last checkpoint
    cosigned for its origin (kept in DIR) — same size and root, or a consistency proof from
    --proof or from the workspace's log — then add a C2SP tlog-cosignature by --key, print
    it (or --out) and record it in DIR atomically. A rollback, a fork or a proof that fails
    is E_LOG_DIVERGED: nothing cosigned, DIR unchanged."""
    from govern.config.keys import cosigner_of, load_signer, load_verifiers
    from govern.format.jsonio import StrictJSONError, loads_strict
    from govern.format.merkle import ConsistencyProof
    from govern.log.proofs import latest_leaves, open_checkpoint, parse_proof, prove_consistency
    from govern.log.transparency import signer_names
    from govern.log.witness import check_extends, cosign_checkpoint, last_cosigned, record_cosigned
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    where = str(checkpoint_file)
    signer = load_signer(key)
    verifiers = load_verifiers(vkey)
    timestamp = int(resolve_clock(at).timestamp())
    note = _read_input(checkpoint_file)
    cp, _ = open_checkpoint(note, verifiers, where)
    previous = last_cosigned(state_dir, cp.origin)
    proof: ConsistencyProof | None = None
    if previous is not None and previous.size < cp.size:
        if proof_file is not None:
            try:
                parsed = parse_proof(loads_strict(_read_input(proof_file)), str(proof_file))
            except StrictJSONError as exc:
                raise GovernError("E_PROOF_INVALID", f"{proof_file}: not JSON: {exc}") from None
            if not isinstance(parsed, ConsistencyProof):
                raise GovernError("E_USAGE", f"--proof {proof_file}: an inclusion proof; a witness needs a consistency proof ('govern log consistency')")
            proof = parsed
        else:
            leaves = latest_leaves(state.workspace(needs_kind_plugins=False))
            if len(leaves.lines) < cp.size:
                raise GovernError(
                    "E_LOG_DIVERGED", f"{where}: size {cp.size}, but the workspace's log holds {len(leaves.lines)} records: it cannot be proven"
                )
            proof = prove_consistency(leaves, previous.size, cp.size)
    consistency = check_extends(previous, cp, proof, where)
    cosigned = cosign_checkpoint(note, cosigner_of(signer, timestamp), where)
    if out is not None:
        _write_output(out, cosigned)
    record_cosigned(state_dir, cp, cosigned)
    state.output.show(
        CosignResult(cp, cosigned, signer_names(cosigned), signer.name, consistency.basis, consistency.previous_size, timestamp, out)
    )


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(log_app, name="log", short_help="The delta log as a transparency log: keys, checkpoints, proofs")
