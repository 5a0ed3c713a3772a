"""The ``ocfl_object`` kind's validation cache (issue 18): a build of an unchanged object does
not re-validate it; any change of the object misses the cache; a damaged cache file is ignored.

Objects are written by ocfl-py (sha512, so the plugin hashes every content itself: the cached
content SHA-256 is exercised too). Validations are counted by wrapping the plugin's real
validate function, which still runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import ocfl
import pytest

from govern.plugins.ocfl_object import versions as ocfl_versions
from govern.plugins.ocfl_object.validation import validate_object
from source_kind import SourceWorkspace


class ValidationCounter:
    """The plugin's validate function, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path):
        self.calls.append(path)
        return validate_object(path)


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> ValidationCounter:
    counter = ValidationCounter()
    monkeypatch.setattr(ocfl_versions, "validate_object", counter)
    return counter


def add_version(object_dir: Path, source: Path, files: dict[str, bytes], number: int) -> None:
    """Write ``files`` into the source folder and add it to the object as a new version (ocfl-py)."""
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    metadata = ocfl.VersionMetadata(created=f"2024-01-{number:02d}T00:00:00Z", message=f"version {number}", name="Bench", address="mailto:b@example.org")
    if number == 1:
        ocfl.Object(identifier="info:cache-test").create(srcdir=str(source), metadata=metadata, objdir=str(object_dir))
    else:
        ocfl.Object(identifier="info:cache-test").add_version_with_content(objdir=str(object_dir), srcdir=str(source), metadata=metadata)


def object_workspace(tmp_path: Path) -> tuple[SourceWorkspace, Path, Path]:
    ws = SourceWorkspace.create(tmp_path / "ws", {"archive": {"kind": "ocfl_object", "path": "object"}})
    source = tmp_path / "source"
    source.mkdir()
    object_dir = ws.root / "object"
    add_version(object_dir, source, {"a.txt": b"alpha\n", "b/c.txt": b"gamma\n"}, 1)
    return ws, object_dir, source


def build(ws: SourceWorkspace, when: str = "2024-06-01T00:00:00Z"):
    """``govern delta build --at WHEN``, in this process (so the counter sees its validations)."""
    return ws.cli("delta", "build", "--at", when)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_now(ws: SourceWorkspace):
    """The object's versions as the kind reads them now (through its cache)."""
    from govern.runtime.progress import NO_PROGRESS

    workspace = ws.load()
    return ocfl_versions.object_versions(workspace.registry("archive"), workspace, NO_PROGRESS)


def cache_files(ws: SourceWorkspace) -> list[Path]:
    return sorted((ws.root / ".govern" / "cache" / "ocfl_object").glob("*.json"))


def test_a_second_build_of_an_unchanged_object_does_not_validate_it_again(tmp_path: Path, validations: ValidationCounter):
    ws, object_dir, _ = object_workspace(tmp_path)
    first = build(ws)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(validations.calls) == 1
    [cache] = cache_files(ws)
    stored = json.loads(cache.read_bytes())
    assert stored["format"] == "govern-ocfl-object-cache/1" and stored["folder"] == str(object_dir)
    assert cache.name == sha256_hex(os.fsencode(os.path.abspath(object_dir))) + ".json"  # the protocol bagit's cache uses
    second = build(ws, "2024-06-02T00:00:00Z")
    assert second.returncode == 0, second.stdout + second.stderr
    verified = ws.cli("verify", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert len(validations.calls) == 1  # neither the second build nor verify --log re-validated
    assert len(ws.log_records()) == 1


def test_a_content_file_rewritten_with_its_size_and_mtime_restored_is_validated_again(tmp_path: Path, validations: ValidationCounter):
    ws, object_dir, _ = object_workspace(tmp_path)
    assert build(ws).returncode == 0
    [content] = [p for p in (object_dir / "v1" / "content").rglob("a.txt")]
    before = os.stat(content)
    content.write_bytes(b"alphA\n")
    os.utime(content, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = build(ws, "2024-06-02T00:00:00Z")
    assert len(validations.calls) == 2
    # The content SHA-256 was computed again: the recorded version no longer matches.
    assert again.returncode == 1
    assert "E_HISTORY_CONFLICT" in again.stderr and "recorded version v1" in again.stderr, again.stderr
    # ocfl-py's finding, now cached for the changed object: E092, a content digest mismatch.
    [version] = read_now(ws)
    assert version.problem is not None and version.problem.startswith("E092"), version.problem
    assert len(validations.calls) == 2


def test_a_new_version_misses_the_cache_and_is_recorded(tmp_path: Path, validations: ValidationCounter):
    ws, object_dir, source = object_workspace(tmp_path)
    assert build(ws).returncode == 0
    add_version(object_dir, source, {"a.txt": b"alpha, edited\n", "d.txt": b"delta\n"}, 2)
    second = build(ws, "2024-06-02T00:00:00Z")
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(validations.calls) == 2
    [_, record] = ws.log_records()
    assert (record["to_ref"]["version"], record["added_paths"], record["modified_paths"]) == ("v2", ["d.txt"], ["a.txt"])
    assert record["to_ref"]["pin"] == "sha256:" + sha256_hex((object_dir / "inventory.json").read_bytes())


def test_an_edited_inventory_misses_the_cache(tmp_path: Path, validations: ValidationCounter):
    ws, object_dir, _ = object_workspace(tmp_path)
    assert build(ws).returncode == 0
    inventory = object_dir / "inventory.json"
    before = os.stat(inventory)
    data = inventory.read_bytes()
    inventory.write_bytes(data.replace(b'"message": "version 1"', b'"message": "version X"'))
    os.utime(inventory, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = build(ws, "2024-06-02T00:00:00Z")
    assert len(validations.calls) == 2
    assert again.returncode == 1 and "E_HISTORY_CONFLICT" in again.stderr, again.stderr  # v1's pin changed
    # ocfl-py validated the edited object: its sidecar no longer matches the inventory (E060).
    [version] = read_now(ws)
    assert version.problem is not None and version.problem.startswith("E060"), version.problem
    assert len(validations.calls) == 2


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "govern-ocfl-object-cache/0"}', b"[1, 2]", b'{"format": "govern-ocfl-object-cache/1", "fingerprint": "x", "reading": 3}'])
def test_a_damaged_or_foreign_cache_file_is_ignored_and_rewritten(tmp_path: Path, validations: ValidationCounter, damage: bytes):
    ws, object_dir, _ = object_workspace(tmp_path)
    assert build(ws).returncode == 0
    [cache] = cache_files(ws)
    good = cache.read_bytes()
    cache.write_bytes(damage)
    verified = ws.cli("verify", "--log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert len(validations.calls) == 2
    assert cache.read_bytes() == good  # rewritten: the object, unchanged, has the same fingerprint


def test_a_stored_reading_is_believed_while_the_fingerprint_holds(tmp_path: Path, validations: ValidationCounter):
    """The cache, not a re-read, is what a build gets: a planted content SHA-256 is returned."""
    ws, object_dir, _ = object_workspace(tmp_path)
    assert build(ws).returncode == 0
    [cache] = cache_files(ws)
    stored = json.loads(cache.read_bytes())
    [digest] = [d for d in stored["reading"]["content_sha256"] if stored["reading"]["content_sha256"][d] == sha256_hex(b"alpha\n")]
    stored["reading"]["content_sha256"][digest] = "0" * 64
    cache.write_bytes(json.dumps(stored).encode())
    [version] = read_now(ws)
    assert version.entries["a.txt"] == "0" * 64
    assert len(validations.calls) == 1


def test_a_cache_that_cannot_be_written_never_fails_a_build(tmp_path: Path, validations: ValidationCounter):
    ws, object_dir, _ = object_workspace(tmp_path)
    (ws.root / ".govern").mkdir()
    (ws.root / ".govern" / "cache").write_bytes(b"a file where the cache folder would go\n")
    first = build(ws)
    assert first.returncode == 0, first.stdout + first.stderr
    second = build(ws, "2024-06-02T00:00:00Z")
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(validations.calls) == 2  # read each time, as without a cache
