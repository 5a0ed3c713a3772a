"""``govern attest RUN`` and ``govern verify --attestation`` (issue 14 point 5): an in-toto
statement about every file of a sealed run, in a DSSE envelope beside the seal.

Real run folders in temporary directories; the contract (exit codes, one-line errors) through
the installed console script where it matters, in-process elsewhere.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from delta_workspace import DeltaWorkspace, build_at
from govern.format.note_keys import Ed25519Signer
from govern.testing import invoke_cli
from helpers import RUN_ID, codes, make_run, run_govern, seal_in_process, verify_in_process

ATTESTATION = "attestation.dsse.json"
PREDICATE_TYPE = "https://govern.dev/attestation/run/v1"
FILES = {"report.md": b"# report\n", "data/values.csv": b"a,b\n1,2\n", "data/empty.bin": b""}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two signer keys and their verifier keys, as files."""
    folder = tmp_path_factory.mktemp("keys")
    paths = {}
    # Fixed seeds: every envelope of these tests is the same from run to run (its signature
    # holds a '+' or '/', which the URL-safe test needs).
    for name, seed in (("audit.example/runs", bytes(range(32))), ("someone.else", bytes(32))):
        key = Ed25519Signer(name, seed)
        signer, verifier = key.text(), key.verifier().text()
        stem = name.split(".")[0]
        (folder / f"{stem}.key").write_text(signer + "\n")
        (folder / f"{stem}.pub").write_text(verifier + "\n")
        paths[f"{stem}.key"], paths[f"{stem}.pub"] = folder / f"{stem}.key", folder / f"{stem}.pub"
    return paths


@pytest.fixture
def run_dir(runs_root: Path) -> Path:
    run = make_run(runs_root, RUN_ID, FILES)
    seal_in_process(run)
    return run


def attest(workspace: Path, *args: str | Path, env: dict[str, str] | None = None):
    return invoke_cli("-C", workspace, "attest", *args, env=env)


def verify_attestation(workspace: Path, envelope: Path, vkey: Path | str, *run: str | Path):
    return invoke_cli("-C", workspace, "verify", "--attestation", envelope, "--vkey", vkey, *run)


def statement(envelope: Path) -> dict:
    return json.loads(base64.b64decode(json.loads(envelope.read_bytes())["payload"]))


def test_attest_then_verify_through_the_console_script(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    made = run_govern("-C", workspace, "attest", RUN_ID, "--key", keys["audit.key"])
    assert made.returncode == 0, made.stderr
    envelope = run_dir / ATTESTATION
    body = statement(envelope)
    assert body["predicateType"] == PREDICATE_TYPE
    manifest = json.loads((run_dir / "manifest.json").read_bytes())
    assert body["subject"] == [{"name": f["path"], "digest": {"sha256": f["sha256"]}} for f in manifest["files"]]
    root = (run_dir / "MANIFEST.sha256").read_text().split()[0]
    assert body["predicate"] == {"run_id": RUN_ID, "op_id": None, "root_sha256": root}
    assert json.loads(envelope.read_bytes())["signatures"][0]["keyid"] == "+".join(keys["audit.pub"].read_text().split("+")[:2])

    checked = run_govern("-C", workspace, "--json", "verify", "--attestation", envelope, "--vkey", keys["audit.pub"])
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)["result"]["attestation"]
    assert (result["run_id"], result["subjects"], result["ok"]) == (RUN_ID, len(FILES) + 1, True)  # + run.json


def test_a_changed_file_is_named(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    (run_dir / "data" / "values.csv").write_bytes(b"a,b\n1,3\n")
    checked = run_govern("-C", workspace, "verify", "--attestation", run_dir / ATTESTATION, "--vkey", keys["audit.pub"])
    assert checked.returncode == 1
    first = checked.stderr.splitlines()[0]
    assert first.startswith(f"govern: error: E_ATTESTATION_INVALID: {run_dir / ATTESTATION}: subject data/values.csv: sha256 ")
    assert "Traceback" not in checked.stderr


def test_a_changed_file_resealed_is_still_caught(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    """Re-hashed from the run's files and held against the attested root: a re-seal does not hide a change."""
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    (run_dir / "report.md").write_bytes(b"# rewritten\n")
    seal_in_process(run_dir, reseal=True)
    assert verify_in_process(run_dir).ok
    checked = verify_attestation(workspace, run_dir / ATTESTATION, keys["audit.pub"])
    assert checked.returncode == 1
    assert checked.stderr.startswith(f"govern: error: E_ATTESTATION_INVALID: {run_dir / ATTESTATION}: subject report.md: ")
    assert "re-sealed since attested" in checked.stderr


def test_a_wrong_key_is_refused(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    checked = verify_attestation(workspace, run_dir / ATTESTATION, keys["someone.pub"])
    assert checked.returncode == 1
    assert checked.stderr.startswith(f"govern: error: E_ATTESTATION_INVALID: {run_dir / ATTESTATION}: no signature")


def test_a_tampered_signature_is_refused(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    envelope = json.loads((run_dir / ATTESTATION).read_bytes())
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 1
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    (run_dir / ATTESTATION).write_text(json.dumps(envelope))
    checked = verify_attestation(workspace, run_dir / ATTESTATION, keys["audit.pub"])
    assert checked.returncode == 1 and "E_ATTESTATION_INVALID" in checked.stderr


def test_url_safe_base64_is_accepted(workspace: Path, run_dir: Path, keys: dict[str, Path], tmp_path: Path):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    envelope = json.loads((run_dir / ATTESTATION).read_bytes())

    def urlsafe(text: str) -> str:
        return base64.urlsafe_b64encode(base64.b64decode(text)).decode().rstrip("=")

    envelope["payload"] = urlsafe(envelope["payload"])
    envelope["signatures"][0]["sig"] = urlsafe(envelope["signatures"][0]["sig"])
    assert any(c in envelope["payload"] + envelope["signatures"][0]["sig"] for c in "-_")
    other = tmp_path / "urlsafe.dsse.json"
    other.write_text(json.dumps(envelope))
    checked = verify_attestation(workspace, other, keys["audit.pub"].read_text().strip(), RUN_ID)
    assert checked.returncode == 0, checked.stderr


def test_a_run_with_its_attestation_still_verifies(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    assert verify_in_process(run_dir).ok
    for args in ((run_dir,), ("--all",)):
        checked = run_govern("-C", workspace, "verify", *args)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("name", ["attestation.json", "attestation.dsse.json.bak", "ATTESTATION.DSSE.JSON"])
def test_another_extra_file_still_fails(run_dir: Path, name: str):
    (run_dir / name).write_bytes(b"{}")
    check = verify_in_process(run_dir)
    assert codes(check) == ["E_FILE_UNLISTED"] and check.problems[0].where == name


def test_an_attestation_below_the_top_is_an_ordinary_file(run_dir: Path):
    (run_dir / "data" / ATTESTATION).write_bytes(b"{}")
    assert codes(verify_in_process(run_dir)) == ["E_FILE_UNLISTED"]


def test_sealing_leaves_the_attestation_out(runs_root: Path):
    run = make_run(runs_root, RUN_ID, {**FILES, ATTESTATION: b"{}"})
    seal_in_process(run)
    listed = [f["path"] for f in json.loads((run / "manifest.json").read_bytes())["files"]]
    assert ATTESTATION not in listed and "report.md" in listed
    assert verify_in_process(run).ok


def test_a_folder_on_the_attestation_name_is_refused_by_sealing(runs_root: Path, workspace: Path):
    run = make_run(runs_root, RUN_ID, {**FILES, f"{ATTESTATION}/hidden.txt": b"x"})
    sealed = invoke_cli("-C", workspace, "seal", run)
    assert sealed.returncode == 2
    assert f"E_UNSAFE_NAME: cannot seal {run}: {ATTESTATION}: reserved for the seal or the attestation" in sealed.stderr


def test_same_key_same_run_same_bytes(workspace: Path, run_dir: Path, keys: dict[str, Path], tmp_path: Path):
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"]).returncode == 0
    first = (run_dir / ATTESTATION).read_bytes()
    again = attest(workspace, run_dir, "--key", keys["audit.key"])  # re-attesting replaces the file
    assert again.returncode == 0, again.stderr
    assert (run_dir / ATTESTATION).read_bytes() == first
    out = tmp_path / "elsewhere.json"
    assert attest(workspace, RUN_ID, "--out", out, env={"GOVERN_SIGNING_KEY": str(keys["audit.key"])}).returncode == 0
    assert out.read_bytes() == first
    assert not any(p.name.startswith(".govern-tmp-") for p in run_dir.iterdir())


def test_no_key_is_a_usage_error_and_writes_nothing(workspace: Path, run_dir: Path):
    made = run_govern("-C", workspace, "attest", RUN_ID)
    assert made.returncode == 2
    assert made.stderr.splitlines() == [
        "govern: error: E_USAGE: no signing key: give --key FILE or set GOVERN_SIGNING_KEY to a signer key file ('govern log keygen')"
    ]
    assert not (run_dir / ATTESTATION).exists()


def test_a_run_that_does_not_verify_is_not_attested(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    (run_dir / "report.md").write_bytes(b"# rEport\n")  # same size: the digest differs
    made = run_govern("-C", workspace, "attest", RUN_ID, "--key", keys["audit.key"])
    assert made.returncode == 1
    assert made.stderr.startswith(f"govern: error: E_DIGEST_MISMATCH: {run_dir}: not attested, its seal does not verify: report.md: ")
    assert not (run_dir / ATTESTATION).exists()


def test_an_unsealed_run_is_not_attested(workspace: Path, runs_root: Path, keys: dict[str, Path]):
    run = make_run(runs_root, RUN_ID, FILES)
    made = attest(workspace, run, "--key", keys["audit.key"])
    assert made.returncode == 1 and "E_SEAL_MISSING" in made.stderr
    assert not (run / ATTESTATION).exists()


def test_verify_finds_the_run_the_predicate_names(workspace: Path, run_dir: Path, keys: dict[str, Path], tmp_path: Path):
    out = tmp_path / "kept-elsewhere.dsse.json"
    assert attest(workspace, RUN_ID, "--key", keys["audit.key"], "--out", out).returncode == 0
    assert not (run_dir / ATTESTATION).exists()
    checked = verify_attestation(workspace, out, keys["audit.pub"])
    assert checked.returncode == 0, checked.stderr
    assert f"run {RUN_ID}, 4 subjects match" in checked.stdout


def test_a_signed_build_attests_itself(tmp_path: Path, keys: dict[str, Path]):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "ALPHA_v0_1.json"}})
    ws.run("2024-01-01__000000__alpha_one", {"ALPHA_v0_1.json": "1\n"})
    ws.build_ok(at=build_at(1))
    unsigned = ws.builds()[-1]
    assert not (ws.runs / unsigned / ATTESTATION).exists()

    ws.run("2024-01-02__000000__alpha_two", {"ALPHA_v0_1.json": "2\n"})
    built = ws.build(at=build_at(2), env={"GOVERN_SIGNING_KEY": str(keys["audit.key"])})
    assert built.returncode == 0, built.stderr
    build = ws.builds()[-1]
    envelope = ws.runs / build / ATTESTATION
    body = statement(envelope)
    assert body["predicate"]["run_id"] == build and body["predicate"]["op_id"] == "OP-QA11"
    assert body["predicate"]["root_sha256"] == ws.root_sha256(build)
    checked = ws.govern("verify", "--attestation", str(envelope), "--vkey", str(keys["audit.pub"]))
    assert checked.returncode == 0, checked.stderr
    everything = ws.govern("verify", "--all", "--log")
    assert everything.returncode == 0, everything.stdout + everything.stderr
    # The build signs exactly what 'govern attest' would: one statement per run and key.
    again = invoke_cli("-C", ws.root, "attest", build, "--key", keys["audit.key"], "--out", tmp_path / "again.json")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.json").read_bytes() == envelope.read_bytes()


def test_a_build_with_a_bad_key_writes_nothing(tmp_path: Path):
    ws = DeltaWorkspace.create(tmp_path / "ws", {"alpha": {"kind": "sealed", "artifact": "ALPHA_v0_1.json"}})
    ws.run("2024-01-01__000000__alpha_one", {"ALPHA_v0_1.json": "1\n"})
    (tmp_path / "bad.key").write_text("not a key\n")
    built = ws.build("--key", str(tmp_path / "bad.key"), at=build_at(1))
    assert built.returncode == 2 and built.stderr.startswith("govern: error: E_KEY_INVALID: ")
    assert ws.builds() == []


def test_attestation_options_are_checked(workspace: Path, run_dir: Path, keys: dict[str, Path]):
    missing_vkey = invoke_cli("-C", workspace, "verify", "--attestation", run_dir / ATTESTATION)
    assert missing_vkey.returncode == 2 and "E_USAGE" in missing_vkey.stderr
    with_all = invoke_cli("-C", workspace, "verify", "--all", "--attestation", run_dir / ATTESTATION, "--vkey", keys["audit.pub"])
    assert with_all.returncode == 2 and "E_USAGE" in with_all.stderr


def test_a_run_on_object_storage_is_attested_by_its_run_id(tmp_path: Path, seaweedfs, keys: dict[str, Path], runs_root: Path, workspace: Path):
    """s3:// runs root: the envelope is put as the object <run id>/attestation.dsse.json beside
    the run; verify --attestation re-hashes the objects; verify --all still passes."""
    from seaweedfs import SeaweedFS

    server: SeaweedFS = seaweedfs
    run = make_run(runs_root, RUN_ID, FILES)
    seal_in_process(run)
    prefix = server.fresh_prefix("attest")
    config = workspace / "registry_config.toml"
    config.write_text(
        config.read_text().replace('runs_root = ".codex/RUNS"', f'runs_root = "{server.url(prefix)}"', 1)
        + f'\n[storage]\nendpoint_url = "{server.endpoint}"\nallow_http = true\n'
    )
    env = server.environ()
    published = invoke_cli("-C", workspace, "publish", run, env=env)
    assert published.returncode == 0, published.stderr

    made = invoke_cli("-C", workspace, "attest", RUN_ID, "--key", keys["audit.key"], env=env)
    assert made.returncode == 0, made.stderr
    assert f"wrote {server.url(prefix)}/{RUN_ID}/{ATTESTATION}" in made.stdout
    from govern.config.workspace import load_workspace
    from govern.runs.run_store import workspace_runs
    from govern.runtime import environment

    with environment.binding(env):
        stored = workspace_runs(load_workspace(explicit=workspace))
        envelope = stored.read_file(RUN_ID, ATTESTATION)
    local_copy = tmp_path / "from-s3.dsse.json"
    local_copy.write_bytes(envelope)
    assert invoke_cli("-C", workspace, "attest", run, "--key", keys["audit.key"], "--out", tmp_path / "local.json").returncode == 0
    assert (tmp_path / "local.json").read_bytes() == envelope  # the same statement, wherever the run is

    checked = invoke_cli("-C", workspace, "verify", "--attestation", local_copy, "--vkey", keys["audit.pub"], env=env)
    assert checked.returncode == 0, checked.stderr
    everything = invoke_cli("-C", workspace, "verify", "--all", env=env)
    assert everything.returncode == 0, everything.stdout + everything.stderr


def test_a_subject_outside_the_run_is_never_opened(workspace: Path, run_dir: Path, keys: dict[str, Path], tmp_path: Path):
    """A signed statement naming '../…' is refused by name: verification reads only inside the run."""
    from govern.format.dsse import dump_envelope, sign_envelope
    from govern.format.intoto import PAYLOAD_TYPE, Subject, statement_bytes
    from govern.format.note_keys import parse_signer_key

    outside = run_dir.parent / "outside.txt"
    outside.write_bytes(b"secret\n")
    signer = parse_signer_key(keys["audit.key"].read_text().strip())
    root = (run_dir / "MANIFEST.sha256").read_text().split()[0]
    body = statement_bytes(
        [Subject("../outside.txt", "0" * 64), Subject("report.md", "0" * 64)],
        PREDICATE_TYPE,
        {"run_id": RUN_ID, "op_id": None, "root_sha256": root},
    )
    forged = tmp_path / "forged.dsse.json"
    forged.write_bytes(dump_envelope(sign_envelope(PAYLOAD_TYPE, body, signer.seed)))
    checked = verify_attestation(workspace, forged, keys["audit.pub"])
    assert checked.returncode == 1
    lines = checked.stderr.splitlines()
    assert lines[0].startswith(f"govern: error: E_ATTESTATION_INVALID: {forged}: subject '../outside.txt': not a path inside a run")
    assert lines[1].startswith("  E_ATTESTATION_INVALID subject report.md: sha256 ")
