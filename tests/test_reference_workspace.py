"""The reference workspace (issue 3, item 8): committed, deterministic, and the seed's registries.

The committed files at the repository root are the output of
``scripts/make_reference_workspace.py``; these tests check that regenerating reproduces them
byte for byte, that they hold the seed's snapshot counts, that every run verifies (with govern
and with coreutils alone), and that the registry artifacts validate against their schemas.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_reference_workspace.py"
RUNS = REPO / ".codex" / "RUNS"
GOVERN = Path(sys.executable).parent / "govern"

#: The seed report's section 3.3.
SEED_SNAPSHOTS = {
    "run_registry": 8,
    "op_status_table": 8,
    "drift_signals": 3,
    "migration_ledger": 1,
    "expected_versions": 1,
    "threshold_packs_file": 1,
    "derived_validation_reports": 1,
    "fingerprint_index": 1,
}
#: The seed report's section 3.4, verbatim.
SEED_EXCLUDED = {
    "threshold_registry_db": ("external", "External database — cannot compute manifest diffs from repo evidence"),
    "validation_range_results": ("collection", "Collection registry — no single sealed snapshot"),
    "evidence_pack_registry": ("collection", "Collection registry — individual per-run seals"),
    "system_health_report": ("presentation", "Presentation-only — no active pointer, no meaningful delta semantics"),
}


def _config() -> dict:
    return tomllib.loads((REPO / "registry_config.toml").read_text(encoding="utf-8"))


def _runs() -> list[Path]:
    return sorted(p for p in RUNS.iterdir() if p.is_dir())


def _manifest_paths(run: Path) -> list[str]:
    return [entry["path"] for entry in json.loads((run / "manifest.json").read_bytes())["files"]]


def _holds(paths: list[str], artifact: str) -> list[str]:
    return [p for p in paths if p == artifact or p.startswith(artifact + "/")]


def _snapshots(artifact: str) -> list[Path]:
    return [run for run in _runs() if _holds(_manifest_paths(run), artifact)]


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_regeneration_is_byte_identical() -> None:
    result = _script("--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_reports_a_difference(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    assert _script("--out", str(out)).returncode == 0
    target = out / ".codex/RUNS/2026-01-09__103040__drift_scan/DRIFT_SIGNALS_v0_1.json"
    target.write_bytes(target.read_bytes().replace(b"0.14", b"0.15"))
    (out / ".codex/RUNS/2026-02-04__000000__stray").mkdir()
    result = _script("--out", str(out), "--check")
    assert result.returncode == 1
    assert "differs:   .codex/RUNS/2026-01-09__103040__drift_scan/DRIFT_SIGNALS_v0_1.json" in result.stderr
    assert "2026-02-04__000000__stray" in result.stderr


def test_generation_into_a_fresh_directory_matches_the_committed_tree(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    assert _script("--out", str(out)).returncode == 0
    committed = {p.relative_to(RUNS).as_posix(): p.read_bytes() for p in RUNS.rglob("*") if p.is_file() and p.name != ".govern.lock"}
    fresh_runs = out / ".codex" / "RUNS"
    fresh = {p.relative_to(fresh_runs).as_posix(): p.read_bytes() for p in fresh_runs.rglob("*") if p.is_file()}
    assert fresh == committed
    # A second generation into the same directory is a no-op that still succeeds.
    again = _script("--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "0 files changed" in again.stdout


def test_refuses_to_overwrite_a_different_workspace(tmp_path: Path) -> None:
    out = tmp_path / "other"
    out.mkdir()
    config = out / "registry_config.toml"
    config.write_text('[workspace]\nruns_root = "runs"\n', encoding="utf-8")
    result = _script("--out", str(out))
    assert result.returncode == 2
    assert "different workspace" in result.stderr
    assert config.read_text(encoding="utf-8") == '[workspace]\nruns_root = "runs"\n'
    assert not (out / ".codex").exists()


def test_refuses_when_the_runs_root_holds_foreign_runs(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    assert _script("--out", str(out)).returncode == 0
    foreign = out / ".codex/RUNS/2026-02-05__031005__registry_delta_log_build"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine\n", encoding="utf-8")
    result = _script("--out", str(out))
    assert result.returncode == 2
    assert "2026-02-05__031005__registry_delta_log_build" in result.stderr
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "mine\n"


def test_snapshot_counts_are_the_seeds() -> None:
    registries = _config()["registries"]
    sealed = {rid: reg for rid, reg in registries.items() if reg["kind"] == "sealed"}
    assert {rid: len(_snapshots(reg["artifact"])) for rid, reg in sealed.items()} == SEED_SNAPSHOTS
    assert len(registries) == 12


def test_runs_are_well_formed_and_dated_before_the_seed() -> None:
    runs = _runs()
    assert len(runs) >= 10
    for run in runs:
        assert run.name < "2026-02-05", run.name
        assert run.name.startswith("2026-"), run.name
        envelope = json.loads((run / "run.json").read_bytes())
        assert envelope["run_id"] == run.name
        assert envelope["op_id"].startswith("OP-QA")
        # the clock is the run id's, never the wall clock
        date, time, _ = run.name.split("__")
        assert envelope["created_utc"] == f"{date}T{time[:2]}:{time[2:4]}:{time[4:]}Z"


def test_content_exercises_the_delta_cases() -> None:
    registries = _config()["registries"]
    artifacts = [reg["artifact"] for reg in registries.values() if "artifact" in reg]
    # ordinary pipeline runs hold no registry artifact at all
    ordinary = [run for run in _runs() if not any(_holds(_manifest_paths(run), a) for a in artifacts)]
    assert len(ordinary) >= 1
    # a transition with identical bytes, and transitions that modify
    for registry_id in ("op_status_table", "run_registry", "drift_signals"):
        artifact = registries[registry_id]["artifact"]
        contents = [(run / artifact).read_bytes() for run in _snapshots(artifact)]
        pairs = list(zip(contents, contents[1:]))
        assert any(a != b for a, b in pairs), registry_id
        if registry_id == "op_status_table":
            assert any(a == b for a, b in pairs)
    # the run registry only ever appends
    artifact = registries["run_registry"]["artifact"]
    contents = [(run / artifact).read_bytes() for run in _snapshots(artifact)]
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(contents, contents[1:]))
    # the directory artifact holds several files
    artifact = registries["derived_validation_reports"]["artifact"]
    assert not artifact.endswith("/")
    (snapshot,) = _snapshots(artifact)
    assert len(_holds(_manifest_paths(snapshot), artifact)) >= 3
    assert (snapshot / artifact).is_dir()


def test_run_registry_records_match_the_seals() -> None:
    artifact = _config()["registries"]["run_registry"]["artifact"]
    latest = _snapshots(artifact)[-1]
    for line in (latest / artifact).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        seal = (RUNS / record["run_id"] / "MANIFEST.sha256").read_text(encoding="ascii")
        assert seal == f"{record['root_sha256']}  manifest.json\n"


def test_every_run_verifies_with_coreutils() -> None:
    # coreutils is a prerequisite: "verifiable without govern" is the promise under test.
    assert shutil.which("sha256sum"), "coreutils sha256sum is required to run the suite"
    for run in _runs():
        seal = subprocess.run(["sha256sum", "-c", "--strict", "--quiet", "MANIFEST.sha256"], cwd=run, capture_output=True, text=True)
        assert seal.returncode == 0, (run.name, seal.stdout, seal.stderr)
        manifest = json.loads((run / "manifest.json").read_bytes())
        lines = "".join(f"{e['sha256']}  {e['path']}\n" for e in manifest["files"])
        files = subprocess.run(["sha256sum", "-c", "--strict", "--quiet"], cwd=run, input=lines, capture_output=True, text=True)
        assert files.returncode == 0, (run.name, files.stdout, files.stderr)


def test_every_run_verifies_with_govern(tmp_path: Path) -> None:
    # On a copy, so the repository's runs root is not touched (govern may take its lock).
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy2(REPO / "registry_config.toml", workspace)
    shutil.copytree(REPO / "governance", workspace / "governance")
    shutil.copytree(RUNS, workspace / ".codex" / "RUNS", ignore=shutil.ignore_patterns(".govern.lock"))
    result = subprocess.run([str(GOVERN), "-C", str(workspace), "verify", "--all"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(_runs())} runs: {len(_runs())} ok, 0 failed" in result.stdout


def test_the_config_loads_with_govern() -> None:
    from govern.config.workspace import load_workspace

    workspace = load_workspace(explicit=REPO)
    assert len(workspace.registries()) == 12
    pointers_path = workspace.active_pointers_path
    assert pointers_path is not None
    pointers = json.loads(pointers_path.read_bytes())
    # every active pointer is on the latest snapshot: nothing is pending
    for registry_id, run_id in pointers.items():
        artifact = workspace.registry(registry_id).config.artifact
        assert _snapshots(artifact)[-1].name == run_id
    assert set(pointers) == set(SEED_SNAPSHOTS)


def test_excluded_registries_carry_the_seeds_reasons() -> None:
    registries = _config()["registries"]
    excluded = {rid: (reg["kind"], reg.get("reason")) for rid, reg in registries.items() if reg["kind"] != "sealed"}
    assert excluded == SEED_EXCLUDED


def _schema_validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path.read_bytes())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _objects_closed(node: object) -> bool:
    """Every object schema in the tree says additionalProperties: false."""
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            return False
        return all(_objects_closed(v) for v in node.values())
    if isinstance(node, list):
        return all(_objects_closed(v) for v in node)
    return True


def test_artifacts_validate_against_their_schemas() -> None:
    registries = _config()["registries"]
    with_schema = {rid: reg for rid, reg in registries.items() if "schema" in reg}
    assert {"run_registry", "op_status_table", "drift_signals"} <= set(with_schema)
    for registry_id, reg in with_schema.items():
        assert reg["schema"] == f"schemas/REGISTRY_{registry_id}_v0_1.schema.json"
        schema_path = REPO / reg["schema"]
        schema = json.loads(schema_path.read_bytes())
        assert _objects_closed(schema), registry_id
        assert schema.get("description")
        validator = _schema_validator(schema_path)
        snapshots = _snapshots(reg["artifact"])
        assert snapshots
        for run in snapshots:
            data = (run / reg["artifact"]).read_bytes()
            if reg["artifact"].endswith(".jsonl"):
                documents = [json.loads(line) for line in data.decode("utf-8").splitlines()]
                assert documents
            else:
                documents = [json.loads(data)]
            for document in documents:
                errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
                assert not errors, (run.name, reg["artifact"], errors)


def test_schemas_reject_a_bad_record() -> None:
    validator = _schema_validator(REPO / "schemas/REGISTRY_run_registry_v0_1.schema.json")
    artifact = _config()["registries"]["run_registry"]["artifact"]
    record = json.loads((_snapshots(artifact)[-1] / artifact).read_text(encoding="utf-8").splitlines()[0])
    assert validator.is_valid(record)
    assert not validator.is_valid({**record, "surprise": 1})
    assert not validator.is_valid({**record, "root_sha256": "ABC"})
    assert not validator.is_valid({k: v for k, v in record.items() if k != "op_id"})


def test_generated_json_is_canonical() -> None:
    from govern.format.jsonio import dump_canonical, dump_jsonl_line

    for path in [*RUNS.rglob("*.json"), *RUNS.rglob("*.jsonl"), *(REPO / "schemas").glob("REGISTRY_*_v0_1.schema.json")]:
        if path.name == "REGISTRY_registry_delta_log_v0_1.schema.json":
            continue  # another generator's file
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            assert data == b"".join(dump_jsonl_line(json.loads(line)) for line in data.splitlines()), path
        else:
            assert data == dump_canonical(json.loads(data)), path


def test_fingerprint_index_matches_the_indexed_runs() -> None:
    artifact = _config()["registries"]["fingerprint_index"]["artifact"]
    (snapshot,) = _snapshots(artifact)
    index = json.loads((snapshot / artifact).read_bytes())
    assert index["entries"]
    for entry in index["entries"]:
        data = (RUNS / entry["run_id"] / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
