"""``govern export RUN --format bagit DIR`` (issue 16, point 4): a sealed run as a BagIt 1.0 bag.

The bag must validate with bagit-python, carry the run's seal as tag files, be the same bytes
for the same run (Bagging-Date from the run's clock), and round-trip: its payload, sealed
again as the run, gives the run's own manifest. An unsealed or broken run, or a DIR that is
not empty, is refused with nothing written.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from helpers import RUN_ID, run_govern, run_govern_process, seal_in_process


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` -> its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_writes_a_bag_bagit_python_validates_and_it_round_trips(sealed_run: Path, workspace: Path, tmp_path: Path):
    import bagit

    out = tmp_path / "out" / "bag"
    out.parent.mkdir()
    result = run_govern("-C", workspace, "--json", "export", RUN_ID, "--format", "bagit", out)
    assert result.returncode == 0, result.stderr
    reported = result.json()["result"]
    root_sha256 = (sealed_run / "MANIFEST.sha256").read_text().split()[0]
    assert reported["run_id"] == RUN_ID and reported["root_sha256"] == root_sha256 and reported["format"] == "bagit"

    bag = bagit.Bag(str(out))
    bag.validate()  # completeness and fixity, by bagit-python
    assert bag.version_info == (1, 0)
    assert "sha256" in bag.algorithms and (out / "tagmanifest-sha256.txt").is_file()
    assert bag.info["Bagging-Date"] == "2024-01-02"  # the run's clock (RUN_ID's), not today
    assert bag.info["External-Identifier"] == RUN_ID and bag.info["Govern-Root-SHA256"] == root_sha256
    sealed_files = {p: b for p, b in _tree(sealed_run).items() if p not in ("manifest.json", "MANIFEST.sha256")}
    assert bag.info["Payload-Oxum"] == f"{sum(map(len, sealed_files.values()))}.{len(sealed_files)}"
    # The payload is exactly the run's files, and the seal travels as tag files.
    assert _tree(out / "data") == sealed_files
    assert (out / "govern" / "manifest.json").read_bytes() == (sealed_run / "manifest.json").read_bytes()
    assert (out / "govern" / "MANIFEST.sha256").read_bytes() == (sealed_run / "MANIFEST.sha256").read_bytes()
    assert _siblings(out.parent) == ["bag"]  # no staging left beside it

    # Round trip: the payload sealed again as the run gives the run's own manifest, byte for byte.
    again = tmp_path / "again" / RUN_ID
    shutil.copytree(out / "data", again)
    seal_in_process(again)
    assert (again / "manifest.json").read_bytes() == (sealed_run / "manifest.json").read_bytes()
    manifest_lines = (out / "manifest-sha256.txt").read_text("utf-8").splitlines()
    assert manifest_lines == sorted(manifest_lines, key=lambda line: line.split("  ", 1)[1].encode())
    for line in manifest_lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest


def test_export_is_deterministic_and_reads_the_bag_back_as_the_bagit_kind(sealed_run: Path, workspace: Path, tmp_path: Path):
    first, second = tmp_path / "a" / "bag", tmp_path / "b" / "bag"
    second.mkdir(parents=True)  # an empty DIR is fine
    first.parent.mkdir()
    for out in (first, second):
        assert run_govern("-C", workspace, "export", sealed_run, "--format", "bagit", out).returncode == 0
    assert _tree(first) == _tree(second)

    from test_bagit_kind import _workspace, versions

    [version] = versions(_workspace(tmp_path / "bag_ws", tmp_path / "a"))
    assert version.problem is None
    # The bagit kind reads the exported bag as the run's files with the run's digests.
    payload = {p: d for p, d in version.entries.items() if p.startswith("data/")}
    assert payload == {f"data/{p}": hashlib.sha256(b).hexdigest() for p, b in _tree(sealed_run).items() if p not in ("manifest.json", "MANIFEST.sha256")}


def test_the_console_script_exports(sealed_run: Path, workspace: Path, tmp_path: Path):
    out = tmp_path / "bag"
    result = run_govern_process("-C", workspace, "export", RUN_ID, "--format", "bagit", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"exported {RUN_ID} (ROOT_SHA256 ")
    assert (out / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def test_an_unsealed_run_is_refused_and_nothing_written(workspace: Path, runs_root: Path, make_run, tmp_path: Path):
    make_run(runs_root, RUN_ID, {"a.txt": b"a\n"})
    out = tmp_path / "bag"
    result = run_govern("-C", workspace, "export", RUN_ID, "--format", "bagit", out)
    assert result.returncode == 1
    assert result.stderr_lines[-1].startswith(f"govern: error: E_SEAL_MISSING: {runs_root / RUN_ID}: the run's seal does not verify")
    assert not out.exists() and _siblings(tmp_path) == ["ws"]


def test_a_broken_run_is_refused_and_nothing_written(sealed_run: Path, workspace: Path, tmp_path: Path):
    (sealed_run / "report.md").write_bytes(b"# REPORT\n")  # same size: only the digest tells
    out = tmp_path / "bag"
    result = run_govern("-C", workspace, "export", sealed_run, "--format", "bagit", out)
    assert result.returncode == 1
    assert "E_DIGEST_MISMATCH" in result.stderr and "report.md" in result.stderr
    assert not out.exists() and _siblings(tmp_path) == ["ws"]


def test_a_dir_that_is_not_empty_is_never_overwritten(sealed_run: Path, workspace: Path, tmp_path: Path):
    out = tmp_path / "bag"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"mine\n")
    result = run_govern("-C", workspace, "export", sealed_run, "--format", "bagit", out)
    assert result.returncode == 2
    assert result.stderr_lines[-1] == f"govern: error: E_OUTPUT_EXISTS: {out}: exists and is not an empty folder; the bag never overwrites it (choose another folder)"
    assert _tree(out) == {"keep.txt": b"mine\n"}
    file_target = tmp_path / "file"
    file_target.write_bytes(b"x")
    assert run_govern("-C", workspace, "export", sealed_run, "--format", "bagit", file_target).returncode == 2
    assert file_target.read_bytes() == b"x"


@pytest.mark.parametrize("fmt", ["zip", "BAGIT"])
def test_an_unknown_format_is_a_usage_error(sealed_run: Path, workspace: Path, tmp_path: Path, fmt: str):
    result = run_govern("-C", workspace, "export", sealed_run, "--format", fmt, tmp_path / "bag")
    assert result.returncode == 2
    assert f"E_USAGE: --format {fmt}: not a format govern exports (formats: bagit)" in result.stderr
    assert not (tmp_path / "bag").exists()
