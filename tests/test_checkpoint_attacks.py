"""The attack transparency exists for (issue 14): whoever can write the runs root rewrites history
and re-seals every build consistently — ``verify --log`` alone passes — but ``verify --log
--checkpoint`` against a checkpoint handed out earlier fails, naming where history diverges.
Likewise truncation, reordering and a fork (two different extensions of one checkpoint).

Each build of the history is signed the way a build with ``GOVERN_SIGNING_KEY`` signs: its
``checkpoint`` (a C2SP checkpoint of its log's RFC 9162 root, as a signed note) sealed in the
run; the checkpoints handed out are copies of those, kept outside the runs root. The forger has
write access to the runs root, not the signing key: what they re-seal is unsigned.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from delta_workspace import LOG_NAME, DeltaWorkspace, build_at, build_id
from govern.format.checkpoint import CHECKPOINT_NAME, Checkpoint, parse_checkpoint
from govern.format.jsonio import dump_canonical
from govern.format.merkle import CompactRange, leaf_hashes_of, root_of_records
from govern.format.note import add_signatures, parse_note, sign_note
from govern.format.note_keys import generate_key, parse_signer_key
from govern.runtime import environment
from govern.store.factory import StorageOptions, open_store
from govern.testing import invoke_cli

REGISTRIES = {
    "alpha": {"kind": "sealed", "artifact": "ALPHA_v0_1.json"},
    "beta": {"kind": "sealed", "artifact": "beta"},
}
B1, B2, B3 = (build_id(build_at(day)) for day in (1, 2, 3))
#: The origin of a checkpoint this test signs when the build wrote none of its own.
TEST_ORIGIN = "govern.test/delta-log"


def falsify(line: bytes) -> bytes:
    """A record with its history quietly changed: schema-valid, every link intact (a forger
    who moves the time a change was recorded)."""
    forged = line.replace(b'T00:00:00Z"', b'T00:00:01Z"', 1)
    assert forged != line
    return forged


def log_lines(ws: DeltaWorkspace, build: str) -> list[bytes]:
    return (ws.runs / build / LOG_NAME).read_bytes().splitlines()


def stored_origin(folder: Path) -> str:
    """The origin of the build's own checkpoint (once builds write one), else the test's."""
    path = folder / CHECKPOINT_NAME
    if not path.exists():
        return TEST_ORIGIN
    data = path.read_bytes()
    text = parse_note(data).text if b"\n\n" in data else data
    return parse_checkpoint(text).origin


def checkpoint_text(ws: DeltaWorkspace, build: str) -> bytes:
    """The checkpoint of a build's log: its origin, size and Merkle root."""
    lines = log_lines(ws, build)
    return Checkpoint(stored_origin(ws.runs / build), len(lines), root_of_records(lines)).text()


def reseal_builds(ws: DeltaWorkspace, builds: list[str]) -> None:
    """Re-seal ``builds`` (oldest first) consistently, as a forger's own tool would: each run.json
    names the previous build's new ROOT_SHA256 and counts its records (its compact range redone
    when it keeps one), and every head object names the new roots."""
    roots: dict[str, str] = {}
    for build in builds:
        folder = ws.runs / build
        envelope = json.loads((folder / "run.json").read_bytes())
        previous = envelope["inputs"].get("previous_build")
        if previous and previous["run_id"] in roots:
            previous["manifest_sha256"] = roots[previous["run_id"]]
        lines = log_lines(ws, build)
        envelope["outputs"]["records_total"] = len(lines)
        if "log_tree" in envelope["outputs"]:
            envelope["outputs"]["log_tree"] = CompactRange.of(leaf_hashes_of(lines)).to_json()
        (folder / "run.json").write_bytes(dump_canonical(envelope))
        roots[build] = ws.reseal(build)
    for head_path in (ws.runs / "_log").glob("*.json"):
        head = json.loads(head_path.read_bytes())
        if head.get("run_id") in roots:
            head["root_sha256"] = roots[head["run_id"]]
            head_path.write_bytes(dump_canonical(head))


def sign_latest_build(ws: DeltaWorkspace, signer_key: str, handed_out: Path) -> Path:
    """Seal the latest build's signed checkpoint into it, and hand a copy out."""
    build = ws.builds()[-1]
    note = sign_note(checkpoint_text(ws, build), [parse_signer_key(signer_key)])
    (ws.runs / build / CHECKPOINT_NAME).write_bytes(note)
    reseal_builds(ws, [build])
    handed_out.parent.mkdir(parents=True, exist_ok=True)
    handed_out.write_bytes(note)
    return handed_out


def forge(ws: DeltaWorkspace, change: Callable[[list[bytes]], list[bytes]], builds: list[str]) -> None:
    """Rewrite the logs of ``builds`` line by line, write each stored checkpoint anew — unsigned:
    the forger has no key — and re-seal every build consistently."""
    for build in builds:
        path = ws.runs / build / LOG_NAME
        path.write_bytes(b"".join(line + b"\n" for line in change(path.read_bytes().splitlines())))
    for build in ws.builds():
        (ws.runs / build / CHECKPOINT_NAME).write_bytes(checkpoint_text(ws, build))
    reseal_builds(ws, ws.builds())


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_key("govern-test-log")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, keys: tuple[str, str]) -> tuple[DeltaWorkspace, dict[str, Path]]:
    """Three signed builds (3, 5, 6 records) and a fork of the second: its own third build."""
    signer, _ = keys
    base = tmp_path_factory.mktemp("attacks")
    ws = DeltaWorkspace.create(base / "ws", REGISTRIES)
    handed: dict[str, Path] = {}
    ws.run("2024-01-01__000000__alpha_one", {"ALPHA_v0_1.json": "1\n", "beta/x.txt": "x\n"})
    ws.run("2024-01-02__000000__alpha_two", {"ALPHA_v0_1.json": "2\n"})
    ws.build_ok(at=build_at(1))
    handed[B1] = sign_latest_build(ws, signer, base / "handed_out" / "b1.checkpoint")
    ws.run("2024-01-03__000000__alpha_three", {"ALPHA_v0_1.json": "3\n", "beta/x.txt": "x2\n", "beta/y.txt": "y\n"})
    ws.build_ok(at=build_at(2))
    handed[B2] = sign_latest_build(ws, signer, base / "handed_out" / "b2.checkpoint")
    fork = ws.copy(base / "fork")
    ws.run("2024-01-04__000000__alpha_four", {"ALPHA_v0_1.json": "4\n"})
    ws.build_ok(at=build_at(3))
    handed[B3] = sign_latest_build(ws, signer, base / "handed_out" / "b3.checkpoint")
    fork.run("2024-01-04__000000__alpha_forked", {"ALPHA_v0_1.json": "4, forked\n"})
    fork.build_ok(at=build_at(3))
    handed["fork"] = sign_latest_build(fork, signer, base / "handed_out" / "fork.checkpoint")
    assert [len(log_lines(ws, b)) for b in (B1, B2, B3)] == [3, 5, 6]
    return ws, handed


@pytest.fixture
def ws(history: tuple[DeltaWorkspace, dict[str, Path]], tmp_path: Path) -> DeltaWorkspace:
    return history[0].copy(tmp_path / "ws")


@pytest.fixture
def handed(history: tuple[DeltaWorkspace, dict[str, Path]]) -> dict[str, Path]:
    return history[1]


def verify_against(ws: DeltaWorkspace, vkey: str, *checkpoints: Path) -> tuple[int, dict]:
    """``govern verify --log --checkpoint … --vkey … --json``: exit code and the checkpoints' result."""
    args = [arg for path in checkpoints for arg in ("--checkpoint", str(path))]
    result = ws.govern("verify", "--log", *args, "--vkey", vkey, "--json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.json()["result"]["checkpoints"]


def problems_of(found: dict, source: Path | str) -> list[tuple[str, str]]:
    heads = {head["source"]: head for head in (*found["given"], *found["stored"])}
    return [(p["code"], p["message"]) for p in heads[str(source)]["problems"]]


def test_an_intact_history_extends_every_checkpoint_handed_out(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]) -> None:
    code, found = verify_against(ws, keys[1], handed[B1], handed[B2], handed[B3])
    assert code == 0, found
    assert [(h["size"], h["signed_by"], h["ok"]) for h in found["given"]] == [(3, ["govern-test-log"], True), (5, ["govern-test-log"], True), (6, ["govern-test-log"], True)]
    assert {h["source"] for h in found["stored"]} >= {f"{b}/{CHECKPOINT_NAME}" for b in (B1, B2, B3)}
    assert all(h["ok"] for h in found["stored"])


def test_a_record_rewritten_deep_in_history_and_every_build_resealed_is_caught(
    ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]
) -> None:
    forge(ws, lambda lines: [lines[0], falsify(lines[1]), *lines[2:]], [B1, B2, B3])
    # Nothing in the runs root betrays it: the chain, the seals and the heads all agree.
    plain = ws.govern("verify", "--log")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    code, found = verify_against(ws, keys[1], handed[B1], handed[B3])
    assert code == 1
    for given in (handed[B1], handed[B3]):
        [(problem_code, message)] = problems_of(found, given)
        assert problem_code == "E_LOG_DIVERGED"
        assert "diverges among records 0..2" in message  # the smallest checkpoint that disagrees bounds it
    text = ws.govern("verify", "--log", "--checkpoint", str(handed[B3]), "--vkey", keys[1])
    assert text.returncode == 1
    assert f"E_LOG_DIVERGED {handed[B3]}: the log's tree at size 6 has another root" in text.stdout
    assert "delta log does NOT extend 1 checkpoint given" in text.stdout


def test_a_rewrite_after_a_checkpoint_is_located_between_the_checkpoints(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]) -> None:
    """Record 5 (the last build's) rewritten: the checkpoints of size 3 and 5 still hold, so the
    divergence is exactly record 5."""
    forge(ws, lambda lines: [*lines[:5], *map(falsify, lines[5:])], [B3])
    assert ws.govern("verify", "--log").returncode == 0
    code, found = verify_against(ws, keys[1], handed[B1], handed[B2], handed[B3])
    assert code == 1
    assert problems_of(found, handed[B1]) == problems_of(found, handed[B2]) == []
    [(problem_code, message)] = problems_of(found, handed[B3])
    assert problem_code == "E_LOG_DIVERGED"
    assert f"records 0..4 still match {handed[B2]}; history diverges at record 5 (alpha @ 2024-01-04__000000__alpha_four)" in message


def test_a_rewrite_that_keeps_the_signed_checkpoints_fails_verify_log_alone(ws: DeltaWorkspace, keys: tuple[str, str]) -> None:
    """A forger who leaves the builds' signed checkpoints in place (they cannot re-sign them)
    is caught by ``verify --log`` with no checkpoint given: every stored tree head must be the
    latest log's tree at its size."""
    path = ws.runs / B3 / LOG_NAME
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"".join(line + b"\n" for line in [*lines[:5], falsify(lines[5])]))
    reseal_builds(ws, [B3])
    result = ws.govern("verify", "--log", "--json")
    assert result.returncode == 1
    found = result.json()["result"]["checkpoints"]
    [(problem_code, message)] = problems_of(found, f"{B3}/{CHECKPOINT_NAME}")
    assert problem_code == "E_LOG_DIVERGED" and "size 6" in message
    assert problems_of(found, f"{B2}/{CHECKPOINT_NAME}") == []


def test_truncated_history_is_caught(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]) -> None:
    """The last build and its head deleted: the log is a consistent history of 5 records."""
    shutil.rmtree(ws.runs / B3)
    heads = sorted((ws.runs / "_log").glob("*.json"))
    assert json.loads(heads[-1].read_bytes())["run_id"] == B3
    heads[-1].unlink()
    assert ws.govern("verify", "--log").returncode == 0
    code, found = verify_against(ws, keys[1], handed[B2], handed[B3])
    assert code == 1
    assert problems_of(found, handed[B2]) == []
    [(problem_code, message)] = problems_of(found, handed[B3])
    assert problem_code == "E_LOG_DIVERGED"
    assert "the log holds 5 records, the checkpoint 6: history was truncated" in message


def test_reordered_history_is_caught(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]) -> None:
    """The first build's two alpha records swapped (and their links redone to match)."""

    def swap(lines: list[bytes]) -> list[bytes]:
        first, second = json.loads(lines[0]), json.loads(lines[1])
        first["to_ref"], second["to_ref"] = second["to_ref"], first["to_ref"]
        second["from_ref"] = first["to_ref"]
        later = [json.loads(line) for line in lines[2:]]
        for record in later:
            if record["registry_id"] == "alpha" and record["from_ref"] == first["to_ref"]:
                record["from_ref"] = second["to_ref"]
        return [json.dumps(r, sort_keys=True, separators=(",", ":")).encode() for r in (first, second, *later)]

    forge(ws, swap, [B1, B2, B3])
    code, found = verify_against(ws, keys[1], handed[B1], handed[B3])
    assert code == 1
    for given in (handed[B1], handed[B3]):
        assert [c for c, _ in problems_of(found, given)] == ["E_LOG_DIVERGED"]


def test_a_fork_of_a_checkpoint_is_caught(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str]) -> None:
    """Two different extensions of the size-5 checkpoint: this log extends one, the other's
    checkpoint (same size 6, another root) is refused, naming record 5."""
    code, found = verify_against(ws, keys[1], handed[B2], handed["fork"])
    assert code == 1
    assert problems_of(found, handed[B2]) == []
    [(problem_code, message)] = problems_of(found, handed["fork"])
    assert problem_code == "E_LOG_DIVERGED"
    assert f"records 0..4 still match {handed[B2]}; history diverges at record 5" in message


# ------------------------------------------------------------------ the checkpoints' own rules


def test_a_known_signers_bad_signature_rejects_the_checkpoint(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str], tmp_path: Path) -> None:
    text, _, signature_line = handed[B3].read_bytes().rpartition(b"\n\n")
    name, _, encoded = signature_line.rstrip(b"\n").rpartition(b" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1  # one bit of the signature
    bad = tmp_path / "bad.checkpoint"
    bad.write_bytes(text + b"\n\n" + name + b" " + base64.b64encode(bytes(raw)) + b"\n")
    code, found = verify_against(ws, keys[1], bad)
    assert code == 1
    assert problems_of(found, bad) == [("E_CHECKPOINT_INVALID", "invalid signature by known key govern-test-log+" + keys[1].split("+")[1])]


def test_unknown_signers_are_ignored_and_a_known_one_is_needed(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str], tmp_path: Path) -> None:
    witness, _ = generate_key("some-witness")
    cosigned = tmp_path / "cosigned.checkpoint"
    cosigned.write_bytes(add_signatures(handed[B3].read_bytes(), [parse_signer_key(witness)]))
    other_log, _ = generate_key("another-log")
    foreign = tmp_path / "foreign.checkpoint"
    foreign.write_bytes(sign_note(parse_note(handed[B3].read_bytes()).text, [parse_signer_key(other_log)]))
    code, found = verify_against(ws, keys[1], cosigned, foreign)
    assert code == 1
    assert problems_of(found, cosigned) == []
    [(problem_code, message)] = problems_of(found, foreign)
    assert problem_code == "E_CHECKPOINT_INVALID" and "no signature from a known key (signed by: another-log+" in message


def test_checkpoint_usage_errors_are_one_line_and_exit_2(ws: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str], tmp_path: Path) -> None:
    no_key = ws.govern("verify", "--log", "--checkpoint", str(handed[B3]))
    assert no_key.returncode == 2 and no_key.stderr.startswith("govern: error: E_USAGE") and "--vkey" in no_key.stderr
    no_log = ws.govern("verify", "--checkpoint", str(handed[B3]), "--vkey", keys[1])
    assert no_log.returncode == 2 and "--log" in no_log.stderr
    missing = ws.govern("verify", "--log", "--checkpoint", str(tmp_path / "nowhere"), "--vkey", keys[1])
    assert missing.returncode == 2 and str(tmp_path / "nowhere") in missing.stderr
    bad_key = ws.govern("verify", "--log", "--checkpoint", str(handed[B3]), "--vkey", "not-a-key")
    assert bad_key.returncode == 2 and bad_key.stderr.startswith("govern: error: E_KEY_INVALID") and "--vkey #1" in bad_key.stderr
    for result in (no_key, no_log, missing, bad_key):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.fixture
def forged_on_s3(history: tuple[DeltaWorkspace, dict[str, Path]], tmp_path: Path) -> DeltaWorkspace:
    forged = history[0].copy(tmp_path / "forged")
    forge(forged, lambda lines: [lines[0], falsify(lines[1]), *lines[2:]], [B1, B2, B3])
    return forged


def test_checkpoints_are_checked_on_an_s3_runs_root(
    ws: DeltaWorkspace, forged_on_s3: DeltaWorkspace, handed: dict[str, Path], keys: tuple[str, str], seaweedfs
) -> None:
    """The same history uploaded to object storage: read through the run store, the intact log
    extends the checkpoints; a forged one does not."""
    env = seaweedfs.environ()
    storage = f'\n[storage]\nendpoint_url = "{seaweedfs.endpoint}"\nallow_http = true\nmax_retries = 2\n'

    def on_s3(local: DeltaWorkspace, name: str) -> Path:
        prefix = seaweedfs.fresh_prefix(name)
        with environment.binding(env):
            store = open_store(seaweedfs.url(prefix), relative_to=Path("/"), storage=StorageOptions(endpoint_url=seaweedfs.endpoint, allow_http=True))
        for path in sorted(local.runs.rglob("*")):
            if path.is_file() and path.name != ".govern.lock":
                store.put_file(path.relative_to(local.runs).as_posix(), path)
        config = local.root / "registry_config.toml"
        config.write_text(config.read_text().replace('runs_root = ".codex/RUNS"', f'runs_root = "{seaweedfs.url(prefix)}"') + storage)
        return local.root

    intact = on_s3(ws, "intact")
    given = ["--checkpoint", str(handed[B1]), "--checkpoint", str(handed[B3]), "--vkey", keys[1]]
    ok = invoke_cli("-C", intact, "--json", "verify", "--log", *given, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["result"]["checkpoints"]["records"] == 6
    forged = invoke_cli("-C", on_s3(forged_on_s3, "forged"), "--json", "verify", "--log", *given, env=env)
    assert forged.returncode == 1, forged.stdout + forged.stderr
    result = json.loads(forged.stdout)["result"]
    assert result["log"]["ok"]  # the runs root alone is consistent
    assert [[p["code"] for p in head["problems"]] for head in result["checkpoints"]["given"]] == [["E_LOG_DIVERGED"], ["E_LOG_DIVERGED"]]
