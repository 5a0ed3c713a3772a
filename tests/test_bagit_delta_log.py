"""The ``bagit`` kind end to end (issue 16, point 2): ``govern delta build`` on real bags, from
``registry_config.toml`` alone, then ``verify --log``, ``validate`` and ``delta show``.

A folder of bags becomes one record per bag (``source_ref``s, ``manifest_diff`` over payload
and tag paths); an invalid bag stops the build naming the bag and the failed check (or is
``unknown`` under ``--allow-unknown``); a recorded bag altered afterwards is rewritten history.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from source_kind import SourceWorkspace

VECTORS = Path(__file__).resolve().parent / "vectors" / "bagit"
AT = ["--at", "2024-06-01T00:00:00Z"]
LATER = ["--at", "2024-06-02T00:00:00Z"]


def make_bag(folder: Path, files: dict[str, bytes], date: str, **info: str) -> Path:
    """A bag made by bagit-python (sha256) in ``folder`` holding ``files``."""
    import bagit

    folder.mkdir(parents=True)
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    bagit.make_bag(str(folder), bag_info={"Bagging-Date": date, **info}, checksums=["sha256"])
    return folder


@pytest.fixture
def ws(tmp_path: Path) -> SourceWorkspace:
    """A workspace whose registry ``deposits`` is the folder ``archive/deposits``, holding two
    bags, named against their Bagging-Date order."""
    workspace = SourceWorkspace.create(tmp_path / "ws", {"deposits": {"kind": "bagit", "path": "archive/deposits"}})
    bags = workspace.root / "archive" / "deposits"
    make_bag(bags / "b-first", {"a.csv": b"a,1\n", "notes/readme.txt": b"hello\n"}, "2024-01-15")
    make_bag(bags / "a-second", {"a.csv": b"a,2\n", "notes/readme.txt": b"hello\n", "b.csv": b"b\n"}, "2024-02-01")
    return workspace


def test_a_folder_of_bags_builds_verifies_and_validates(ws: SourceWorkspace):
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stdout + built.stderr
    first, second = ws.log_records()
    assert first["to_ref"]["version"] == "b-first" and second["to_ref"]["version"] == "a-second"  # by Bagging-Date
    assert first["to_ref"]["source"] == "bagit" and first["to_ref"]["location"] == "archive/deposits"
    bag = ws.root / "archive" / "deposits" / "a-second"
    assert second["to_ref"]["pin"] == "sha256:" + hashlib.sha256((bag / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    assert first["from_ref"] is None and "data/a.csv" in first["added_paths"] and "tags/bag-info.txt" in first["added_paths"]
    assert second["from_ref"] == first["to_ref"]
    assert second["added_paths"] == ["data/b.csv"]
    assert second["modified_paths"] == ["data/a.csv", "tags/bag-info.txt", "tags/manifest-sha256.txt", "tags/tagmanifest-sha256.txt"]
    assert second["removed_paths"] == []
    assert ws.cli("verify", "--log").returncode == 0
    validated = ws.cli("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    shown = ws.cli("delta", "show", "--registry", "deposits")
    assert "deposits: archive/deposits@b-first → archive/deposits@a-second" in shown.stdout, shown.stdout
    # A second build reads the bags from the cache and finds nothing new.
    assert "up to date" in ws.cli("delta", "build", *LATER).stdout


def test_the_console_script_builds_from_registry_config_alone(ws: SourceWorkspace):
    built = ws.cli_subprocess("delta", "build", *AT)
    assert built.returncode == 0, built.stderr
    assert ws.cli_subprocess("verify", "--log").returncode == 0


def test_a_recorded_bag_altered_afterwards_is_rewritten_history(ws: SourceWorkspace):
    assert ws.cli("delta", "build", *AT).returncode == 0
    builds = sorted(p.name for p in ws.runs_root.iterdir())
    (ws.root / "archive" / "deposits" / "a-second" / "data" / "b.csv").write_bytes(b"B\n")
    built = ws.cli("delta", "build", *LATER)
    assert built.returncode == 1
    assert "deposits" in built.stderr and "a-second" in built.stderr
    assert sorted(p.name for p in ws.runs_root.iterdir()) == builds
    verified = ws.cli("verify", "--log")
    assert verified.returncode == 1 and "E_HISTORY_CONFLICT" in verified.stdout + verified.stderr


def test_an_invalid_bag_stops_the_build_naming_the_bag_and_the_check(ws: SourceWorkspace):
    broken = ws.root / "archive" / "deposits" / "a-second" / "data" / "a.csv"
    broken.write_bytes(b"a,3\n")  # same size: only fixity tells
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 1
    assert "E_SNAPSHOT_UNVERIFIED" in built.stderr and "deposits" in built.stderr
    assert "bag a-second: Bag validation failed: data/a.csv sha256 validation failed" in built.stderr
    assert ws.latest_build() is None
    allowed = ws.cli("delta", "build", "--allow-unknown", *AT)
    assert allowed.returncode == 0, allowed.stderr
    first, second = ws.log_records()
    assert first["delta_basis"] == "manifest_diff" and second["delta_basis"] == "unknown"
    assert "data/a.csv sha256 validation failed" in second["unknown_reason"]
    assert ws.cli("verify", "--log").returncode == 0
    assert ws.cli("validate").returncode == 0


def test_every_valid_conformance_bag_builds_into_the_log(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws", {"suite": {"kind": "bagit", "path": "bags", "order_by": "name"}})
    shutil.copytree(VECTORS / "v0.97" / "valid", ws.root / "bags")
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stdout + built.stderr
    records = ws.log_records()
    assert [r["to_ref"]["version"] for r in records] == sorted(p.name for p in (ws.root / "bags").iterdir() if p.is_dir())
    assert ws.cli("verify", "--log").returncode == 0
    validated = ws.cli("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_an_exported_run_is_read_back_as_a_bag_of_the_same_files(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws", {"exports": {"kind": "bagit", "path": "exports"}})
    ws.run("2024-01-01__000000__alpha", {"result.json": '{"score": 1}\n', "data/x.csv": "x\n"})
    missing = ws.cli("export", "2024-01-01__000000__alpha", "--format", "bagit", ws.root / "exports" / "alpha")
    assert missing.returncode == 2 and "E_NOT_A_DIRECTORY" in missing.stderr and not (ws.root / "exports").exists()
    (ws.root / "exports").mkdir()
    exported = ws.cli("export", "2024-01-01__000000__alpha", "--format", "bagit", ws.root / "exports" / "alpha")
    assert exported.returncode == 0, exported.stderr
    built = ws.cli("delta", "build", *AT)
    assert built.returncode == 0, built.stdout + built.stderr
    [record] = ws.log_records()
    run_files = {"data/result.json", "data/data/x.csv", "data/run.json"}
    assert {p for p in record["added_paths"] if p.startswith("data/")} == run_files
    assert {"tags/govern/manifest.json", "tags/govern/MANIFEST.sha256", "tags/bag-info.txt"} <= set(record["added_paths"])


def test_records_keep_cr_lf_unicode_and_percent_names_exactly(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws", {"odd": {"kind": "bagit", "path": "bags"}})
    names = ["line\r\nbreak.txt", "cafe\u0301.txt", "100%.txt", "%7Etilde.txt"]
    make_bag(ws.root / "bags" / "b1", {name: name.encode() for name in names}, "2024-01-01")
    assert ws.cli("delta", "build", *AT).returncode == 0
    [record] = ws.log_records()
    assert {p for p in record["added_paths"] if p.startswith("data/")} == {f"data/{name}" for name in names}
    assert ws.cli("verify", "--log").returncode == 0
    assert ws.cli("validate").returncode == 0


def test_a_warning_bag_is_recorded_and_its_warning_shown_by_the_console_script(tmp_path: Path):
    ws = SourceWorkspace.create(tmp_path / "ws", {"w": {"kind": "bagit", "path": "bags"}})
    shutil.copytree(VECTORS / "v0.97" / "warning" / "made-with-md5sum-tools", ws.root / "bags" / "made-with-md5sum-tools")
    built = ws.cli_subprocess("delta", "build", *AT)
    assert built.returncode == 0, built.stderr
    assert (
        "govern: warning: w @ bags@made-with-md5sum-tools: manifest-md5.txt line 1: "
        "'*' (md5sum's binary-mode marker) before the path 'data/hello.txt', dropped"
    ) in built.stderr_lines
    [record] = ws.log_records()
    assert "data/hello.txt" in record["added_paths"]
