"""docs/transparency.md stays true: its worked example is what a build of the reference
workspace gives, byte for byte (the key pair, the signed checkpoint, the compact range), and its
``govern verify --log --checkpoint`` example runs and prints what the page shows."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from govern.format.checkpoint import Checkpoint, parse_checkpoint
from govern.format.merkle import CompactRange, leaf_hashes_of, root_of_records
from govern.format.note import open_note, sign_note
from govern.format.note_keys import parse_signer_key, parse_verifier_key
from helpers import run_govern

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from demo import SEED_CLOCK, copy_reference_workspace  # noqa: E402

DOC = (REPO / "docs" / "transparency.md").read_text(encoding="utf-8")
LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"
#: The origin the page's example workspace sets (``[workspace] log_origin``).
ORIGIN = "govern.example/reference-delta-log"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DOC, flags=re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the reference workspace built at the seed's clock (make demo's build)."""
    workspace = tmp_path_factory.mktemp("transparency_doc") / "ws"
    workspace.mkdir()
    copy_reference_workspace(workspace)
    config = workspace / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[workspace]\n", f"[workspace]\nlog_origin = {ORIGIN!r}\n", 1), encoding="utf-8")
    result = run_govern("-C", workspace, "delta", "build", "--at", SEED_CLOCK)
    assert result.returncode == 0, result.stderr
    return workspace


def _log_lines(workspace: Path) -> list[bytes]:
    runs = workspace / ".codex" / "RUNS"
    build = sorted(p for p in runs.iterdir() if p.name.endswith("__registry_delta_log_build"))[-1]
    return (build / LOG_NAME).read_bytes().splitlines()


def test_the_worked_example_is_the_reference_builds_bytes(built: Path) -> None:
    keys, signed_checkpoint = _blocks("text")[:2]
    signer_text, verifier_text = keys.splitlines()
    signer = parse_signer_key(signer_text)
    assert signer.verifier().text() == verifier_text == parse_verifier_key(verifier_text).text()
    lines = _log_lines(built)
    assert len(lines) == 24
    note = signed_checkpoint.encode("utf-8")
    checkpoint = parse_checkpoint(open_note(note, [signer.verifier()]).text)
    expected = Checkpoint(ORIGIN, len(lines), root_of_records(lines))
    assert sign_note(expected.text(), [signer]) == note  # Ed25519 is deterministic
    [compact_range] = _blocks("json")
    tree = CompactRange.of(leaf_hashes_of(lines))
    assert json.loads(compact_range) == tree.to_json()
    assert tree.root() == checkpoint.root_hash


def test_the_verify_example_runs_as_shown(built: Path, tmp_path: Path) -> None:
    [console] = _blocks("console")
    command, *shown = console.splitlines()
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[:4] == ["govern", "verify", "--log", "--checkpoint"]
    checkpoint_file = built / argv[4]
    checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
    checkpoint_file.write_text(_blocks("text")[1], encoding="utf-8")
    result = run_govern(*argv[1:], cwd=built)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = result.stdout.splitlines()
    assert [line for line in shown if line != "..."] == printed[-2:]
