"""Issue 14 points 2 and 3: ``govern log keygen | checkpoint | cosign | prove | consistency |
verify-proof`` through the console script (docs/transparency.md, docs/cli.md)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from delta_workspace import DeltaWorkspace, assert_refused, build_at
from govern.config.keys import load_signer
from govern.format.checkpoint import parse_checkpoint
from govern.format.cosignature import cosignature_timestamp, cosigner_key_text, parse_cosigner_key
from govern.format.merkle import ConsistencyProof, InclusionProof, leaf_hash
from govern.format.note import open_note
from govern.format.note_keys import parse_verifier_key
from govern.testing import invoke_cli
from helpers import run_govern

KEY_NAME = "audit.example/govern"
WITNESS = "witness.example"
AT = "2026-02-05T00:00:00Z"
AT_EPOCH = 1770249600


def _keygen(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / f"{name.replace('/', '_')}.key"
    made = invoke_cli("log", "keygen", name, "--out", key)
    assert made.returncode == 0, made.stderr
    return key, made.stdout.strip()


def _workspace(root: Path, snapshots: int, key: Path, *, values: str = "v") -> DeltaWorkspace:
    """A workspace of one registry with ``snapshots`` snapshots, built once, signed by ``key``."""
    ws = DeltaWorkspace.create(root, {"alpha": {"kind": "sealed", "artifact": "A.json"}})
    _add(ws, 0, snapshots, values)
    built = ws.build("--key", str(key), at=build_at(1))
    assert built.returncode == 0, built.stderr
    return ws


def _add(ws: DeltaWorkspace, first: int, count: int, values: str = "v") -> None:
    for number in range(first, first + count):
        ws.run(f"2024-01-01__{number:06d}__a", {"A.json": f"{values}{number}\n"})


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {"log": _keygen(folder, KEY_NAME), "witness": _keygen(folder, WITNESS)}


# --- keygen ------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_go_form_key_prints_its_verifier_key_and_never_overwrites(tmp_path: Path):
    key = tmp_path / "audit.key"
    made = run_govern("log", "keygen", KEY_NAME, "--out", key)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text()
    assert text.startswith(f"PRIVATE+KEY+{KEY_NAME}+") and text.count("\n") == 1
    verifier = parse_verifier_key(made.stdout.strip())
    signer = load_signer(key)
    assert (verifier.name, verifier.key_id) == (signer.name, signer.key_id)
    assert text.strip() not in made.stdout + made.stderr  # the secret is never printed

    again = run_govern("log", "keygen", KEY_NAME, "--out", key)
    assert_refused(again, "E_OUTPUT_EXISTS", str(key), exit_code=2)
    assert key.read_text() == text
    bad_name = run_govern("log", "keygen", "has space", "--out", tmp_path / "other.key")
    assert_refused(bad_name, "E_USAGE", "NAME", exit_code=2)
    assert not (tmp_path / "other.key").exists()


# --- checkpoint --------------------------------------------------------------------------------


def test_checkpoint_prints_the_stored_note_and_adds_a_signature_with_key(tmp_path: Path, keys):
    (log_key, log_vkey), (witness_key, witness_vkey) = keys["log"], keys["witness"]
    ws = _workspace(tmp_path / "ws", 3, log_key)
    shown = ws.govern("log", "checkpoint")
    assert shown.returncode == 0, shown.stderr
    stored = next((ws.runs).glob("*__registry_delta_log_build")) / "checkpoint"
    assert shown.stdout.encode() == stored.read_bytes()

    out = tmp_path / "cp"
    both = ws.govern("--json", "log", "checkpoint", "--key", str(witness_key), "--out", str(out))
    assert both.returncode == 0, both.stderr
    assert both.json()["result"]["signed_by"] == [KEY_NAME, WITNESS] and both.json()["result"]["size"] == 3
    note = open_note(out.read_bytes(), [parse_verifier_key(log_vkey), parse_verifier_key(witness_vkey)])
    assert len(note.verified) == 2 and parse_checkpoint(note.text).size == 3
    assert stored.read_bytes() != out.read_bytes()  # the sealed build is never changed


# --- proofs ------------------------------------------------------------------------------------


def test_an_auditor_checks_inclusion_and_consistency_with_only_checkpoint_vkey_and_proof(tmp_path: Path, keys):
    (log_key, log_vkey) = keys["log"]
    ws = _workspace(tmp_path / "ws", 7, log_key)
    auditor = tmp_path / "auditor"  # no workspace anywhere above it
    auditor.mkdir()
    assert ws.govern("log", "checkpoint", "--out", str(auditor / "checkpoint")).returncode == 0
    proved = ws.govern("log", "prove", "--record", "5", "--out", str(auditor / "inclusion.json"))
    assert proved.returncode == 0, proved.stderr
    lines = ws.log_bytes().split(b"\n")
    proof = InclusionProof.from_json(json.loads((auditor / "inclusion.json").read_bytes()))
    assert (proof.leaf_index, proof.tree_size, proof.leaf_hash) == (5, 7, leaf_hash(lines[5]))

    checked = run_govern("log", "verify-proof", "inclusion.json", "--checkpoint", "checkpoint", "--vkey", log_vkey, cwd=auditor)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "record 5" in checked.stdout

    # The --json document of 'log prove' is accepted as it is.
    as_json = ws.govern("--json", "log", "prove", "--run", "2024-01-01__000005__a", "--registry", "alpha")
    (auditor / "doc.json").write_text(as_json.stdout)
    assert as_json.json()["result"] == proof.to_json()
    assert run_govern("log", "verify-proof", "doc.json", "--checkpoint", "checkpoint", "--vkey", log_vkey, cwd=auditor).returncode == 0

    # A modified leaf never verifies.
    forged = proof.to_json() | {"leaf_hash": base64.b64encode(leaf_hash(b"rewritten record")).decode()}
    (auditor / "forged.json").write_text(json.dumps(forged))
    refused = run_govern("log", "verify-proof", "forged.json", "--checkpoint", "checkpoint", "--vkey", log_vkey, cwd=auditor)
    assert_refused(refused, "E_PROOF_INVALID", "forged.json", "inclusion of record 5")

    # A checkpoint no known key signed is refused before any proof is looked at.
    _, other_vkey = _keygen(tmp_path, "other.example")
    unknown = run_govern("log", "verify-proof", "inclusion.json", "--checkpoint", "checkpoint", "--vkey", other_vkey, cwd=auditor)
    assert_refused(unknown, "E_CHECKPOINT_INVALID", "checkpoint", "no signature from a known key")

    consistent = ws.govern("log", "consistency", "--from", "3", "--out", str(auditor / "consistency.json"))
    assert consistent.returncode == 0, consistent.stderr
    parsed = ConsistencyProof.from_json(json.loads((auditor / "consistency.json").read_bytes()))
    assert (parsed.size1, parsed.size2) == (3, 7)
    ok = run_govern("log", "verify-proof", "consistency.json", "--checkpoint", "checkpoint", "--vkey", log_vkey, cwd=auditor)
    assert ok.returncode == 0, ok.stdout + ok.stderr


@pytest.mark.parametrize(
    ("argv", "mention"),
    [
        (["prove", "--record", "7"], "--record 7: out of range"),
        (["prove", "--record", "-1"], "--record -1: out of range"),
        (["prove", "--record", "0", "--size", "8"], "--size 8: out of range"),
        (["prove", "--record", "3", "--size", "3"], "--record 3: out of range"),
        (["prove"], "say which record"),
        (["prove", "--run", "2024-01-01__000099__a", "--registry", "alpha"], "no record of that snapshot"),
        (["consistency", "--from", "0"], "--from 0: out of range"),
        (["consistency", "--from", "5", "--to", "4"], "--from 5: out of range"),
        (["consistency", "--from", "1", "--to", "9"], "--to 9: out of range"),
    ],
)
def test_out_of_range_indexes_and_sizes_are_one_line_usage_errors(tmp_path: Path, keys, argv, mention):
    ws = _workspace(tmp_path / "ws", 7, keys["log"][0])
    assert_refused(ws.govern("log", *argv), "E_USAGE", mention, exit_code=2)


# --- cosign ------------------------------------------------------------------------------------


def _checkpoint_of(ws: DeltaWorkspace, path: Path) -> Path:
    assert ws.govern("log", "checkpoint", "--out", str(path)).returncode == 0
    return path


def test_a_witness_cosigns_consistent_checkpoints_and_refuses_a_fork_or_a_rollback(tmp_path: Path, keys):
    (log_key, log_vkey), (witness_key, _) = keys["log"], keys["witness"]
    ws = _workspace(tmp_path / "ws", 4, log_key)
    state = tmp_path / "witness-state"
    first = _checkpoint_of(ws, tmp_path / "cp4")
    cosign = ("log", "cosign", "--key", str(witness_key), "--state", str(state), "--vkey", log_vkey, "--at", AT)
    signed = ws.govern(*cosign, str(first))
    assert signed.returncode == 0, signed.stderr
    note = open_note(signed.stdout.encode(), [parse_verifier_key(log_vkey), parse_cosigner_key(_cosigner_key(witness_key))])
    assert len(note.verified) == 2
    assert cosignature_timestamp(note.verified[1]) == AT_EPOCH
    assert len(list(state.iterdir())) == 1

    # The log grows: consistency proven from the workspace's log, or from a proof file.
    _add(ws, 4, 3)
    assert ws.build("--key", str(log_key), at=build_at(2)).returncode == 0
    second = _checkpoint_of(ws, tmp_path / "cp7")
    proof = tmp_path / "c.json"
    assert ws.govern("log", "consistency", "--from", "4", "--out", str(proof)).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_proof = run_govern(*cosign, str(second), "--proof", str(proof), "--out", str(tmp_path / "cosigned7"), cwd=elsewhere)
    assert by_proof.returncode == 0, by_proof.stderr
    saved = {path.name: path.read_bytes() for path in state.iterdir()}
    assert list(saved.values()) == [(tmp_path / "cosigned7").read_bytes()]

    # Rollback: the size-4 checkpoint again.
    assert_refused(ws.govern(*cosign, str(first)), "E_LOG_DIVERGED", "a rollback")
    # A fork: another log of the same origin and key, larger, whose history differs.
    fork = _workspace(tmp_path / "fork", 9, log_key, values="w")
    forked = _checkpoint_of(fork, tmp_path / "fork9")
    refused = fork.govern(*cosign, str(forked))
    assert_refused(refused, "E_LOG_DIVERGED", "fork9", "not consistent with the last checkpoint cosigned (size 7)")
    fork_same_size = _workspace(tmp_path / "fork7", 7, log_key, values="x")
    assert_refused(fork_same_size.govern(*cosign, str(_checkpoint_of(fork_same_size, tmp_path / "f7"))), "E_LOG_DIVERGED", "a fork")
    assert {path.name: path.read_bytes() for path in state.iterdir()} == saved  # nothing recorded

    # The log's signature is checked first: a witness never cosigns what it cannot verify.
    _, other_vkey = _keygen(tmp_path, "other.example")
    no_sig = ws.govern("log", "cosign", str(second), "--key", str(witness_key), "--state", str(state), "--vkey", other_vkey)
    assert_refused(no_sig, "E_CHECKPOINT_INVALID", "cp7")


def _cosigner_key(key: Path) -> str:
    """The witness's cosigner verifier key (type 0x04), as 'log keygen --json' gives it."""
    signer = load_signer(key)
    return cosigner_key_text(signer.name, signer.public_key)


def test_keygen_json_gives_the_cosigner_key_too(tmp_path: Path):
    made = run_govern("--json", "log", "keygen", WITNESS, "--out", tmp_path / "w.key")
    result = made.json()["result"]
    assert parse_cosigner_key(result["cosigner_key"]).name == WITNESS
    assert parse_verifier_key(result["verifier_key"]).name == WITNESS
    assert result["cosigner_key"] == _cosigner_key(tmp_path / "w.key")
