"""Issue 16 point 1: the ``ocfl_object`` registry kind — an OCFL object governed where it is.

Against the OCFL conformance fixtures (tests/vectors/ocfl, OCFL/fixtures, CC BY 4.0): every
good and warn object of 1.0 and 1.1 is accepted with its versions and logical paths, every
bad object refused with (at least as often as ocfl-py itself reports it) the code its name
carries; a multi-version object's deltas equal an independent computation from its
inventory; a storage root with layout 0004, built here; and the whole path from
registry_config.toml alone through the real ``govern`` console script.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from govern.format.models import SourceVersion
from govern.testing import plugin_host
from source_kind import SourceWorkspace

VECTORS = Path(__file__).parent / "vectors" / "ocfl"
SPECS = ("1.0", "1.1")
AT = ["--at", "2024-06-01T00:00:00Z"]


def fixtures(group: str) -> list[Path]:
    return [path for spec in SPECS for path in sorted((VECTORS / spec / group).iterdir()) if path.is_dir()]


def fixture_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def fixture_codes(path: Path) -> set[str]:
    """The codes a fixture's name carries (``E049_E050_E054_…`` -> {E049, E050, E054})."""
    return set(re.findall(r"[EW]\d{3}", path.name))


def read_versions(tmp_path: Path, object_path: Path, **keys: str) -> list[SourceVersion]:
    """The kind's versions of ``object_path`` (``keys``: the registry's other keys) through the host (as a build asks for them)."""
    ws = SourceWorkspace.create(tmp_path / "ws", {"obj": {"kind": "ocfl_object", "path": str(object_path), **keys}})
    workspace = ws.load()
    from govern.runtime.progress import NO_PROGRESS

    versions = plugin_host().source_versions(workspace.registry("obj"), workspace, NO_PROGRESS)
    assert versions is not None
    return versions


def inventory(object_path: Path) -> dict:
    return json.loads((object_path / "inventory.json").read_bytes())


def version_order(names) -> list[str]:
    return sorted(names, key=lambda name: int(name[1:]))


def expected_state(object_path: Path, version: str) -> dict[str, str]:
    """Logical path -> SHA-256 of its content, worked out here from the inventory and the
    content files themselves (state digest -> a content path of the manifest -> its bytes)."""
    inv = inventory(object_path)
    manifest = {digest.lower(): paths for digest, paths in inv["manifest"].items()}
    state = inv["versions"][version]["state"]
    return {
        logical: hashlib.sha256((object_path / manifest[digest.lower()][0]).read_bytes()).hexdigest()
        for digest, logicals in state.items()
        for logical in logicals
    }


# ------------------------------------------------------------------------ good and warn objects


@pytest.mark.parametrize("object_path", fixtures("good-objects") + fixtures("warn-objects"), ids=fixture_id)
def test_every_good_and_warn_object_is_accepted_with_its_versions_and_logical_paths(tmp_path: Path, object_path: Path):
    versions = read_versions(tmp_path, object_path)
    inv = inventory(object_path)
    assert [v.version for v in versions] == version_order(inv["versions"])
    for version in versions:
        assert version.problem is None, version.problem
        assert dict(version.entries) == expected_state(object_path, version.version)
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in version.entries.values())
        inventory_file = object_path / ("inventory.json" if version.version == inv["head"] else f"{version.version}/inventory.json")
        if inventory_file.exists():
            assert version.pin == "sha256:" + hashlib.sha256(inventory_file.read_bytes()).hexdigest()
    # The object's warnings go with its head version (shown by the build that records it): every
    # code ocfl-py reports for the object, as "W0xx: message".
    head, *older = reversed(versions)
    assert {w[:4] for w in head.warnings} == ocfl_py_codes(object_path, "W")
    assert all(re.fullmatch(r"W\d{3}: .+", w) for w in head.warnings)
    assert all(not v.warnings for v in older)


def test_two_different_files_sharing_an_md5_get_their_own_sha256(tmp_path: Path):
    object_path = VECTORS / "1.1" / "good-objects" / "diff_files_same_md5"
    (version,) = read_versions(tmp_path, object_path)
    md5_block = inventory(object_path)["fixity"]["md5"]
    assert any(len(paths) > 1 for paths in md5_block.values())  # the trap: one md5, two files
    assert len(set(version.entries.values())) == len(version.entries) == 2


# ----------------------------------------------------------------------------- bad objects


def ocfl_py_codes(object_path: Path, severity: str = "E") -> set[str]:
    """Every spec code of ``severity`` (``E`` errors, ``W`` warnings) ocfl-py's own validator
    reports for the object (a validator of its own)."""
    from ocfl.validator import Validator

    validator = Validator(log_warnings=severity == "W")
    validator.validate_object(str(object_path))
    return {code[:4] for code in validator.log.codes if code.startswith(severity)}


def test_every_bad_object_is_refused_and_its_code_reported_at_least_as_often_as_ocfl_py_reports_it(tmp_path: Path):
    bad = fixtures("bad-objects")
    ours = ocfl_py = 0
    for index, object_path in enumerate(bad):
        versions = read_versions(tmp_path / str(index), object_path)
        assert versions and all(v.problem for v in versions), fixture_id(object_path)
        problem = versions[0].problem
        assert problem is not None
        reported = set(re.findall(r"E\d{3}", problem))
        assert problem[:4] in reported
        ours += bool(reported & fixture_codes(object_path))
        ocfl_py += bool(ocfl_py_codes(object_path) & fixture_codes(object_path))
    assert ocfl_py >= len(bad) * 0.8  # ocfl-py's own share, measured here (it is high)
    assert ours >= ocfl_py, f"govern names the fixture's code for {ours} of {len(bad)} bad objects, ocfl-py for {ocfl_py}"


@pytest.mark.parametrize("object_path", fixtures("bad-objects"), ids=fixture_id)
def test_every_bad_object_stops_a_build_with_exit_1_naming_it_and_its_codes(tmp_path: Path, object_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws", {"obj": {"kind": "ocfl_object", "path": str(object_path)}})
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 1, built.stdout + built.stderr
    line = built.stderr.splitlines()[0]  # then each other version refused, one line each
    assert line.startswith("govern: error: E_SNAPSHOT_UNVERIFIED: snapshot obj @ " + object_path.as_posix() + "@")
    assert re.search(r"@\S+: E\d{3}: ", line), line
    assert ws.latest_build() is None


def copy_object(source: Path, ws: SourceWorkspace, name: str = "object") -> str:
    shutil.copytree(source, ws.root / name)
    return name


def test_a_bad_object_stops_the_build_naming_the_object_and_the_code(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws")
    path = copy_object(VECTORS / "1.1" / "bad-objects" / "E092_content_file_digest_mismatch", ws)
    ws.add_registry("obj", kind="ocfl_object", path=path)
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 1, built.stderr
    assert "E_SNAPSHOT_UNVERIFIED" in built.stderr and "obj @ object@v1" in built.stderr and "E092" in built.stderr
    assert ws.latest_build() is None
    unknown = ws.cli("delta", "build", "--allow-unknown", *AT)
    assert unknown.returncode == 0, unknown.stderr
    (record,) = ws.log_records()
    assert record["delta_basis"] == "unknown" and "E092" in record["unknown_reason"]
    assert ws.cli("verify", "--log").returncode == 0


# --------------------------------------------------------------------- multi-version deltas


def diff_by_inventory(object_path: Path) -> list[tuple[str, list[str], list[str], list[str], list[list[str]]]]:
    """(version, added, removed, modified, renamed) of each version against the one before, from
    the inventory's own state blocks (digests of its algorithm, case-folded): the oracle. A
    removed and an added path of one digest are a rename, the i-th removed with the i-th added
    in sorted order (docs/delta-log.md, "Renames")."""
    inv = inventory(object_path)
    previous: dict[str, str] = {}
    found = []
    for name in version_order(inv["versions"]):
        state = {logical: digest.lower() for digest, logicals in inv["versions"][name]["state"].items() for logical in logicals}
        added = sorted(state.keys() - previous.keys())
        removed = sorted(previous.keys() - state.keys())
        modified = sorted(p for p in state.keys() & previous.keys() if state[p] != previous[p])
        renamed = []
        for digest in sorted({previous[p] for p in removed} & {state[p] for p in added}):
            renamed.extend([old, new] for old, new in zip([p for p in removed if previous[p] == digest], [p for p in added if state[p] == digest], strict=False))
        renamed.sort()
        added = [p for p in added if p not in {new for _, new in renamed}]
        removed = [p for p in removed if p not in {old for old, _ in renamed}]
        found.append((name, added, removed, modified, renamed))
        previous = state
    return found


@pytest.mark.parametrize("name", ["spec-ex-full", "updates_all_actions", "updates_three_versions_one_file"])
@pytest.mark.parametrize("spec", SPECS)
def test_a_multi_version_objects_records_equal_the_diff_of_its_inventory(tmp_path: Path, spec: str, name: str):
    ws = SourceWorkspace.create(tmp_path / "ws")
    source = VECTORS / spec / "good-objects" / name
    ws.add_registry("obj", kind="ocfl_object", path=copy_object(source, ws))
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stderr
    records = ws.log_records()
    assert [(r["to_ref"]["version"], r["added_paths"], r["removed_paths"], r["modified_paths"], r["renamed_paths"]) for r in records] == diff_by_inventory(source)
    assert all(r["to_ref"]["source"] == "ocfl_object" and r["to_ref"]["location"] == "object" for r in records)
    assert len(records) > 1


# ------------------------------------------------------------------------ storage roots


def hashed_n_tuple_path(object_id: str, tuple_size: int, tuples: int, short: bool) -> str:
    """Extension 0004's rule, written out here: sha256 of the id, its first tuples, then the
    digest (or, with shortObjectRoot, what is left of it)."""
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    parts = [digest[i * tuple_size : (i + 1) * tuple_size] for i in range(tuples)]
    return "/".join([*parts, digest[tuple_size * tuples :] if short else digest])


def test_the_0004_rule_matches_the_extensions_published_example():
    # OCFL extension 0004, example 1 (object-01) and example 2 (shortObjectRoot).
    assert hashed_n_tuple_path("object-01", 3, 3, False) == "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4"
    assert hashed_n_tuple_path("object-01", 3, 3, True) == "3c0/ff4/240/c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4"


def storage_root_0004(root: Path, objects: list[Path], *, short: bool) -> None:
    """An OCFL 1.1 storage root with layout 0004 holding copies of ``objects``."""
    root.mkdir(parents=True)
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n", encoding="utf-8")
    name = "0004-hashed-n-tuple-storage-layout"
    (root / "ocfl_layout.json").write_text(json.dumps({"extension": name, "description": "hashed n-tuple"}), encoding="utf-8")
    config = {"extensionName": name, "digestAlgorithm": "sha256", "tupleSize": 3, "numberOfTuples": 3, "shortObjectRoot": short}
    (root / "extensions" / name).mkdir(parents=True)
    (root / "extensions" / name / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for source in objects:
        shutil.copytree(source, root / hashed_n_tuple_path(inventory(source)["id"], 3, 3, short))


@pytest.mark.parametrize("short", [False, True], ids=["full-digest", "short-object-root"])
def test_an_object_of_a_0004_storage_root_is_found_by_its_id(tmp_path: Path, short: bool):
    full = VECTORS / "1.1" / "good-objects" / "spec-ex-full"
    other = VECTORS / "1.1" / "good-objects" / "minimal_one_version_one_file"
    ws = SourceWorkspace.create(tmp_path / "ws")
    storage_root_0004(ws.root / "store", [full, other], short=short)
    object_id = inventory(full)["id"]
    ws.add_registry("obj", kind="ocfl_object", path="store", object_id=object_id)
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stderr
    records = ws.log_records()
    assert [r["to_ref"]["version"] for r in records] == ["v1", "v2", "v3"]
    assert records[0]["to_ref"]["location"] == "store/" + hashed_n_tuple_path(object_id, 3, 3, short)
    assert ws.cli("verify", "--log").returncode == 0


def hash_and_id_n_tuple_path(object_id: str) -> str:
    """Extension 0003's rule with its default parameters, written out here: three 3-character
    tuples of the id's sha256, then the id with every character outside [A-Za-z0-9_-]
    percent-encoded (UTF-8 bytes, lower-case hex)."""
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    encoded = "".join(c if re.fullmatch(r"[A-Za-z0-9_-]", c) else "".join(f"%{b:02x}" for b in c.encode("utf-8")) for c in object_id)
    assert len(encoded) <= 100  # longer ids are truncated and suffixed: not needed here
    return "/".join([digest[0:3], digest[3:6], digest[6:9], encoded])


def storage_root_with(root: Path, layout: str, config: dict | None, placed: dict[str, Path]) -> None:
    """An OCFL 1.1 storage root with ``layout`` (and its config) holding ``placed`` (path -> object)."""
    root.mkdir(parents=True)
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n", encoding="utf-8")
    (root / "ocfl_layout.json").write_text(json.dumps({"extension": layout, "description": layout}), encoding="utf-8")
    if config is not None:
        (root / "extensions" / layout).mkdir(parents=True)
        (root / "extensions" / layout / "config.json").write_text(json.dumps({"extensionName": layout, **config}), encoding="utf-8")
    for path, source in placed.items():
        shutil.copytree(source, root / path)


def test_an_object_of_a_0002_flat_direct_storage_root_is_found_by_its_id(tmp_path: Path):
    source = VECTORS / "1.1" / "good-objects" / "updates_all_actions"  # id info:bb123cd4567, one path segment
    root = tmp_path / "store"
    storage_root_with(root, "0002-flat-direct-storage-layout", None, {inventory(source)["id"]: source})
    versions = read_versions(tmp_path, root, object_id=inventory(source)["id"])
    assert [v.version for v in versions] == ["v1", "v2", "v3", "v4"] and all(v.problem is None for v in versions)
    assert versions[0].location == (root / "info:bb123cd4567").as_posix()


def test_an_object_of_a_0003_hash_and_id_storage_root_is_found_by_its_id(tmp_path: Path):
    full = VECTORS / "1.1" / "good-objects" / "spec-ex-full"
    other = VECTORS / "1.1" / "good-objects" / "updates_all_actions"
    root = tmp_path / "store"
    config = {"digestAlgorithm": "sha256", "tupleSize": 3, "numberOfTuples": 3}
    storage_root_with(root, "0003-hash-and-id-n-tuple-storage-layout", config, {hash_and_id_n_tuple_path(inventory(s)["id"]): s for s in (full, other)})
    versions = read_versions(tmp_path, root, object_id="ark:/12345/bcd987")
    assert [v.version for v in versions] == ["v1", "v2", "v3"] and all(v.problem is None for v in versions)
    assert versions[0].location.endswith("/ark%3a%2f12345%2fbcd987")


def test_a_storage_root_needs_an_object_id_and_an_unknown_id_is_named(tmp_path: Path):
    full = VECTORS / "1.1" / "good-objects" / "spec-ex-full"
    ws = SourceWorkspace.create(tmp_path / "ws")
    storage_root_0004(ws.root / "store", [full], short=False)
    ws.add_registry("obj", kind="ocfl_object", path="store")
    no_id = ws.cli("delta", "build", *AT)
    assert no_id.returncode == 2 and "E_CONFIG_INVALID" in no_id.stderr and "ark:/12345/bcd987" in no_id.stderr
    ws.add_registry("obj", kind="ocfl_object", path="store", object_id="ark:/nope")
    unknown = ws.cli("delta", "build", *AT)
    assert unknown.returncode == 2 and "E_OCFL_OBJECT_NOT_FOUND" in unknown.stderr and "ark:/nope" in unknown.stderr


def test_a_storage_root_without_a_layout_is_walked(tmp_path: Path):
    full = VECTORS / "1.0" / "good-objects" / "spec-ex-full"
    ws = SourceWorkspace.create(tmp_path / "ws")
    root = ws.root / "store"
    root.mkdir()
    (root / "0=ocfl_1.0").write_text("ocfl_1.0\n", encoding="utf-8")
    shutil.copytree(full, root / "some" / "where")
    versions = read_versions(tmp_path / "read", root, object_id=inventory(full)["id"])
    assert [v.version for v in versions] == ["v1", "v2", "v3"] and all(v.problem is None for v in versions)


# ------------------------------------------------------------------ end to end, console script


def test_from_registry_config_alone_build_verify_validate_and_a_rewritten_inventory(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws")
    path = copy_object(VECTORS / "1.1" / "good-objects" / "updates_all_actions", ws)
    (ws.root / "registry_config.toml").write_text(
        "[workspace]\n"
        'runs_root = ".codex/RUNS"\n'
        'delta_log_artifact = "REGISTRY_DELTA_LOG_v0_1.jsonl"\n'
        'record_version = "0.2"\n\n'
        "[registries.archive]\n"
        'kind = "ocfl_object"\n'
        f'path = "{path}"\n',
        encoding="utf-8",
    )
    built = ws.cli_subprocess("delta", "build", *AT)
    assert built.returncode == 0, built.stderr
    assert len(ws.log_records()) == 4
    verified = ws.cli_subprocess("verify", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    validated = ws.cli_subprocess("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    # A recorded version's inventory rewritten (v2's message edited): recorded history changed.
    v2 = ws.root / path / "v2" / "inventory.json"
    v2.write_bytes(v2.read_bytes().replace(b'"message": "', b'"message": "edited '))
    again = ws.cli_subprocess("verify", "--log")
    assert again.returncode == 1
    assert "E_HISTORY_CONFLICT" in again.stdout + again.stderr and "archive @ object@v2" in again.stdout + again.stderr


def test_a_build_shows_the_warnings_of_the_object_it_records_and_records_it(tmp_path: Path):
    """A warn object is recorded; its warnings are shown (stderr, and the build's --json
    outcome), named by registry, object and version — and not shown again once recorded."""
    object_path = VECTORS / "1.1" / "warn-objects" / "W004_uses_sha256"
    head = inventory(object_path)["head"]
    registries = {"obj": {"kind": "ocfl_object", "path": str(object_path)}}
    in_json = SourceWorkspace.create(tmp_path / "json", registries).cli("--json", "delta", "build", *AT)
    assert in_json.returncode == 0, in_json.stdout + in_json.stderr
    document = json.loads(in_json.stdout)
    [outcome] = [o for o in document["result"]["registries"] if o["registry_id"] == "obj"]
    assert [w[: w.index(": W004")] for w in outcome["warnings"]] == [f"{object_path.as_posix()}@{head}"]
    assert [f"obj @ {w}" for w in outcome["warnings"]] == document["warnings"]
    ws = SourceWorkspace.create(tmp_path / "ws", registries)
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stdout + built.stderr
    prefix = f"govern: warning: obj @ {object_path.as_posix()}@{head}: W004: "
    assert any(line.startswith(prefix) for line in built.stderr.splitlines()), built.stderr
    again = ws.cli("delta", "build", "--at", "2099-01-01T00:00:00Z")
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr
