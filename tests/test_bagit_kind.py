"""The ``bagit`` registry kind (issue 16, point 2): bags governed where they are.

Each bag of a registry's folder is a source version (``govern_source_versions``): validated by
bagit-python, its logical state (``data/...`` as the manifest writes it, ``tags/<tag file>``)
with SHA-256 from the bag's sha256 manifest or computed, its pin, and ``problem`` naming the
bag and the failed check. The conformance suite (``tests/vectors/bagit``, copied unedited) is
the oracle: every ``valid`` bag accepted, every ``invalid`` and ``linux-only`` bag refused,
``warning`` bags accepted with their warning shown. Real files in temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace

VECTORS = Path(__file__).resolve().parent / "vectors" / "bagit"


def _bag_dirs(*expectations: str) -> list[Path]:
    """The conformance bags whose folder is one of ``expectations`` (``valid``, ``invalid``…)."""
    return sorted(p for p in VECTORS.glob("v*/*/*") if p.is_dir() and p.parent.name in expectations)


def _workspace(root: Path, bags: Path, **keys: Any) -> DeltaWorkspace:
    """A workspace whose registry ``bags`` (kind bagit) reads the bags in ``bags`` (``keys``: its other keys)."""
    return DeltaWorkspace.create(root, {"bags": {"kind": "bagit", "path": str(bags), **keys}})


def versions(workspace: DeltaWorkspace) -> list[Any]:
    """The registry's source versions, through the plugin host as the build asks for them."""
    from govern.config.workspace import load_workspace
    from govern.runtime.progress import NO_PROGRESS
    from govern.testing import plugin_host

    loaded = load_workspace(explicit=workspace.root)
    found = plugin_host().source_versions(loaded.registry("bags"), loaded, NO_PROGRESS)
    assert found is not None
    return found


def _one_bag(tmp_path: Path, bag: Path) -> DeltaWorkspace:
    """A workspace whose registry holds exactly a copy of ``bag``."""
    folder = tmp_path / "bags"
    folder.mkdir()
    shutil.copytree(bag, folder / bag.name, symlinks=True)
    return _workspace(tmp_path / "ws", folder)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _payload_files(bag: Path) -> dict[str, str]:
    """``data/...`` -> SHA-256 of every payload file on disk, computed here independently."""
    return {p.relative_to(bag).as_posix(): _sha256(p) for p in (bag / "data").rglob("*") if p.is_file()}


@pytest.mark.parametrize("version_folder", sorted({p.parent for p in _bag_dirs("valid")}), ids=lambda p: p.relative_to(VECTORS).as_posix())
def test_every_valid_conformance_bag_is_accepted_with_its_state(tmp_path: Path, version_folder: Path):
    workspace = _workspace(tmp_path / "ws", version_folder, order_by="name")
    found = versions(workspace)
    assert [v.version for v in found] == sorted(p.name for p in version_folder.iterdir() if p.is_dir())
    for version in found:
        bag = version_folder / version.version
        assert version.problem is None, version.problem
        assert version.pin.startswith("sha256:") and len(version.pin) == 71
        # Every payload file is there with its SHA-256 (computed here from the bytes), every
        # tag file under tags/, and nothing else.
        payload = {path: digest for path, digest in version.entries.items() if path.startswith("data/")}
        assert payload == _payload_files(bag)
        tags = {path.removeprefix("tags/") for path in version.entries if path.startswith("tags/")}
        assert tags == {p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file() and not p.relative_to(bag).as_posix().startswith("data/")}
        assert set(version.entries) == set(payload) | {f"tags/{t}" for t in tags}
        assert version.location == version_folder.as_posix()  # outside the workspace: absolute


#: What each refused conformance bag's problem must say (the check that failed).
REFUSED = {
    "baginfo-missing-encoding": "Missing required tag in bagit.txt: Tag-File-Character-Encoding",
    "bom-in-bagit.txt": "byte-order mark",
    "corrupt-data-file": "Payload-Oxum validation failed",
    "corrupt-tag-file": "bag-info.txt md5 validation failed",
    "extra-file-in-bag": "Payload-Oxum validation failed",
    "invalid-version-number": "Bag version numbers must be MAJOR.MINOR numbers",
    "missing-baginfo": "bag-info.txt exists in manifest but was not found",
    "missing-bagit.txt": "Expected bagit.txt does not exist",
    "out-of-scope-file-paths-using-dot-notation": 'Path "../../../README.md" in manifest "manifest-md5.txt" is unsafe',
    "out-of-scope-file-paths-using-dot-notation-for-fetch": 'Path "../../../README.md" in "fetch.txt" is unsafe',
    "same-filename-listed-twice-with-different-hashes": "lists data/README multiple times with conflicting values",
    "same-filename-listed-twice-with-the-same-hash": "lists data/README multiple times with the same value",
    "out-of-scope-file-paths-using-absolute-path": 'Path "/tmp/foo" in manifest "manifest-md5.txt" is unsafe',
    "out-of-scope-file-paths-using-absolute-path-for-fetch": 'Path "/tmp/test.txt" in "fetch.txt" is unsafe',
    "out-of-scope-file-paths-using-shortcut": 'Path "~/foo" in manifest "manifest-md5.txt" is unsafe',
    "out-of-scope-file-paths-using-shortcut-for-fetch": 'Path "~/test.txt" in "fetch.txt" is unsafe',
    "out-of-scope-file-paths-using-shortcut-username": 'Path "~root/foo" in manifest "manifest-md5.txt" is unsafe',
    "out-of-scope-file-paths-using-shortcut-username-for-fetch": 'Path "~root/foo" in "fetch.txt" is unsafe',
    # bagit-python lets this through; govern holds bagit.txt to RFC 8493 §2.2.2.
    "bagit-with-invalid-whitespace": "bagit.txt: whitespace before ':' in the tag 'BagIt-Version'",
    "notAllManifestsListAllFiles": "data/missingFromManifest.txt exists on filesystem but is not in the manifest",
}


@pytest.mark.parametrize("bag", _bag_dirs("invalid", "linux-only"), ids=lambda p: p.relative_to(VECTORS).as_posix())
def test_every_invalid_and_linux_only_conformance_bag_is_refused_naming_the_check(tmp_path: Path, bag: Path):
    [version] = versions(_one_bag(tmp_path, bag))
    assert version.version == bag.name
    assert version.problem is not None
    assert version.problem.startswith(f"bag {bag.name}: "), version.problem
    assert REFUSED[bag.name] in version.problem, version.problem
    assert str(tmp_path) not in version.problem  # named by the bag, not by where the test put it
    assert version.entries == {}


#: The warning each accepted warning bag shows (bagit-python's, or govern's note on notation).
WARNED = {
    "made-with-md5sum-tools": "manifest-md5.txt line 1: '*' (md5sum's binary-mode marker) before the path 'data/hello.txt', dropped",
    "relative-path": "manifest-sha512.txt line 1: './' before the path 'data/hello.txt', dropped",
    "same-filename-listed-twice-with-the-same-hash": "sha256 manifest lists data/README multiple times with the same value",
}
#: Warning bags that list a file this copy of the suite lacks (tests/vectors/bagit/VECTORS.md):
#: on Linux they are incomplete, and refused for exactly that.
INCOMPLETE_ON_LINUX = {
    "duplicate-file-with-different-case": "data/HELLO.txt exists in manifest but was not found on filesystem",
    "same-filename-listed-twice-with-different-normalization": "sha512 validation failed",
    "special-system-files": "Payload-Oxum validation failed. Expected 2 files and 0 bytes but found 1 files",
}


@pytest.mark.parametrize("bag", _bag_dirs("warning"), ids=lambda p: p.relative_to(VECTORS).as_posix())
def test_warning_bags_are_accepted_with_their_warning_shown(tmp_path: Path, bag: Path):
    [version] = versions(_one_bag(tmp_path, bag))
    if bag.name in INCOMPLETE_ON_LINUX:
        assert version.problem is not None and INCOMPLETE_ON_LINUX[bag.name] in version.problem
        return
    assert version.problem is None
    assert version.entries and {p for p in version.entries if p.startswith("data/")} == set(_payload_files(bag))
    assert any(WARNED[bag.name] in warning for warning in version.warnings), version.warnings


def test_md5_only_bags_get_computed_sha256_never_md5(tmp_path: Path):
    bag = VECTORS / "v0.97" / "valid" / "basic-bag"
    assert not (bag / "manifest-sha256.txt").exists() and (bag / "manifest-md5.txt").exists()
    [version] = versions(_one_bag(tmp_path, bag))
    md5s = {line.split()[0] for line in (bag / "manifest-md5.txt").read_text().splitlines() if line.strip()}
    assert version.entries and {p: d for p, d in version.entries.items() if p.startswith("data/")} == _payload_files(bag)
    assert not md5s & set(version.entries.values())


def test_a_sha256_manifest_is_used_as_the_bag_states_it(tmp_path: Path):
    import bagit

    folder = tmp_path / "bags"
    (folder / "b1").mkdir(parents=True)
    (folder / "b1" / "a.txt").write_bytes(b"alpha\n")
    bagit.make_bag(str(folder / "b1"), checksums=["sha256", "md5"])
    [version] = versions(_workspace(tmp_path / "ws", folder))
    assert version.entries["data/a.txt"] == hashlib.sha256(b"alpha\n").hexdigest()
    assert version.pin == "sha256:" + _sha256(folder / "b1" / "tagmanifest-sha256.txt")


def test_percent_encoded_looking_names_keep_their_exact_paths(tmp_path: Path):
    # v0.97's bag-with-encoded-names: "%7E" and "%t" are literal parts of the names, never URL-decoded.
    bag = VECTORS / "v0.97" / "valid" / "bag-with-encoded-names"
    [version] = versions(_one_bag(tmp_path, bag))
    assert {"data/%7Etest1.txt", "data/%test2.txt", "data/%7Edir2/test4.txt", "data/dir1/~test3.txt"} <= set(version.entries)
    assert version.entries["data/%test2.txt"] == _sha256(bag / "data" / "%test2.txt")


def test_cr_lf_and_unicode_names_keep_their_exact_paths(tmp_path: Path):
    import bagit

    folder = tmp_path / "bags"
    bag = folder / "b1"
    bag.mkdir(parents=True)
    # One name in NFD, one in NFC: neither is normalised on the way (bagit-python cannot hold
    # both spellings of one name in one bag, so they are two different names here).
    nfc, nfd = unicodedata.normalize("NFC", "na\u00efve.txt"), unicodedata.normalize("NFD", "caf\u00e9.txt")
    assert nfd != unicodedata.normalize("NFC", nfd)
    names = {"line\r\nbreak.txt": b"crlf\n", "only\nlf.txt": b"lf\n", nfc: b"nfc\n", nfd: b"nfd\n", "\u65e5\u672c.txt": b"ja\n"}
    for name, data in names.items():
        (bag / name).write_bytes(data)
    bagit.make_bag(str(bag), checksums=["md5"])
    manifest = (bag / "manifest-md5.txt").read_text("utf-8")
    assert "data/line%0D%0Abreak.txt" in manifest  # written escaped: the reader must decode exactly these
    [version] = versions(_workspace(tmp_path / "ws", folder))
    assert version.problem is None, version.problem
    payload = {path: digest for path, digest in version.entries.items() if path.startswith("data/")}
    assert payload == {f"data/{name}": hashlib.sha256(data).hexdigest() for name, data in names.items()}


def test_percent_25_is_decoded_in_a_bagit_1_0_manifest_only():
    from govern.format.bagit import decode_manifest_path, encode_manifest_path, parse_manifest_lines

    assert decode_manifest_path("data/100%25%0D%0a%7E%250A") == "data/100%\r\n%7E%0A"
    assert decode_manifest_path("data/100%25%0A", escapes_percent=False) == "data/100%25\n"
    for name in ("data/a%b\r\nc", "data/%25", "data/plain"):
        assert decode_manifest_path(encode_manifest_path(name)) == name
    lines = parse_manifest_lines("ABCD  data/with two  spaces.txt\r\n\nef01 *./data/x\n")
    assert lines.pairs == [("data/with two  spaces.txt", "abcd"), ("data/x", "ef01")]
    assert len(lines.notes) == 2


@given(st.text())
def test_manifest_path_escapes_round_trip_any_name(name: str):
    from govern.format.bagit import decode_manifest_path, encode_manifest_path, manifest_bytes, parse_manifest_lines

    encoded = encode_manifest_path(name)
    assert "\r" not in encoded and "\n" not in encoded
    assert decode_manifest_path(encoded) == name
    if name.strip() and not name.startswith(("*", "./", " ", "\t")) and "\ufeff" not in name:
        assert parse_manifest_lines(manifest_bytes([(name, "ab" * 32)]).decode("utf-8")).pairs == [(name, "ab" * 32)]


def _touch_back(path: Path, data: bytes) -> None:
    """Replace ``path``'s bytes by ``data`` (same size) and set its modification time back."""
    before = os.stat(path)
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_readings_are_cached_and_any_change_of_the_bag_invalidates_them(tmp_path: Path):
    import bagit

    folder = tmp_path / "bags"
    bag = folder / "b1"
    bag.mkdir(parents=True)
    (bag / "a.txt").write_bytes(b"alpha\n")
    bagit.make_bag(str(bag), checksums=["sha256"])
    workspace = _workspace(tmp_path / "ws", folder)
    [first] = versions(workspace)
    caches = list((workspace.root / ".govern" / "cache" / "bagit").glob("*.json"))
    assert len(caches) == 1
    # The cache is what a second read returns: a reading planted under the right fingerprint is believed...
    stored = json.loads(caches[0].read_bytes())
    stored["reading"]["entries"]["data/a.txt"] = "0" * 64
    caches[0].write_bytes(json.dumps(stored).encode())
    [cached] = versions(workspace)
    assert cached.entries["data/a.txt"] == "0" * 64
    # ...until anything in the bag changes — even bytes of the same size with the mtime set back.
    _touch_back(bag / "data" / "a.txt", b"alphA\n")
    [changed] = versions(workspace)
    assert changed.problem is not None and "data/a.txt sha256 validation failed" in changed.problem
    _touch_back(bag / "data" / "a.txt", b"alpha\n")
    [again] = versions(workspace)
    assert again.problem is None and again.entries == first.entries


def test_a_changed_bag_info_shows_up_in_the_state(tmp_path: Path):
    import bagit

    folder = tmp_path / "bags"
    for name, note in (("b1", "first"), ("b2", "other")):
        (folder / name).mkdir(parents=True)
        (folder / name / "a.txt").write_bytes(b"same payload\n")
        bagit.make_bag(str(folder / name), bag_info={"Bagging-Date": "2024-01-01", "Source-Organization": note}, checksums=["sha256"])
    first, second = versions(_workspace(tmp_path / "ws", folder))
    changed = {p for p in first.entries if first.entries[p] != second.entries.get(p)}
    assert changed == {"tags/bag-info.txt", "tags/tagmanifest-sha256.txt"}
    assert first.pin != second.pin


def _dated_bag(folder: Path, name: str, date: str, **info: str) -> None:
    import bagit

    (folder / name).mkdir(parents=True)
    (folder / name / "f.txt").write_bytes(name.encode())
    bagit.make_bag(str(folder / name), bag_info={"Bagging-Date": date, **info}, checksums=["sha256"])


def test_bags_are_ordered_by_bagging_date_then_name_or_by_a_configured_key(tmp_path: Path):
    folder = tmp_path / "bags"
    _dated_bag(folder, "zeta", "2024-01-01", **{"Bag-Count": "3"})
    _dated_bag(folder, "alpha", "2024-03-01", **{"Bag-Count": "1"})
    _dated_bag(folder, "beta", "2024-01-01", **{"Bag-Count": "2"})
    (folder / ".hidden").mkdir()
    assert [v.version for v in versions(_workspace(tmp_path / "ws1", folder))] == ["beta", "zeta", "alpha"]
    assert [v.version for v in versions(_workspace(tmp_path / "ws2", folder, order_by="Bag-Count"))] == ["alpha", "beta", "zeta"]
    assert [v.version for v in versions(_workspace(tmp_path / "ws3", folder, order_by="name"))] == ["alpha", "beta", "zeta"]
    beta = versions(_workspace(tmp_path / "ws4", folder))[0]
    assert beta.created_utc == "2024-01-01T00:00:00Z"


def test_versions_of_one_bag_as_folders_are_ordered_by_name_numerically(tmp_path: Path):
    folder = tmp_path / "bag"
    for number in (1, 2, 10):
        _dated_bag(folder, f"v{number}", "2024-01-01")
    assert [v.version for v in versions(_workspace(tmp_path / "ws", folder, order_by="name"))] == ["v1", "v2", "v10"]


def test_a_folder_that_is_not_a_bag_is_a_version_with_its_problem(tmp_path: Path):
    folder = tmp_path / "bags"
    (folder / "not-a-bag").mkdir(parents=True)
    [version] = versions(_workspace(tmp_path / "ws", folder))
    assert version.problem == "bag not-a-bag: Expected bagit.txt does not exist: bagit.txt"


def test_the_location_is_the_folder_of_bags_workspace_relative(tmp_path: Path):
    workspace = DeltaWorkspace.create(tmp_path / "ws", {"bags": {"kind": "bagit", "path": "archive/deposits"}})
    _dated_bag(workspace.root / "archive" / "deposits", "b1", "2024-01-01")
    [version] = versions(workspace)
    assert (version.location, version.version) == ("archive/deposits", "b1")


def test_configuration_errors_name_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from govern.cli import main

    missing = DeltaWorkspace.create(tmp_path / "ws1", {"bags": {"kind": "bagit"}})
    assert main(["-C", str(missing.root), "registry", "list"], environ={"PATH": "/usr/bin:/bin"}) == 2
    assert "registries.bags" in capsys.readouterr().err
    # order_by left in the options table (where issue 16 first read it): named, with where it goes now
    moved = DeltaWorkspace.create(tmp_path / "ws2", {"bags": {"kind": "bagit", "path": "x", "options": {"order_by": "name"}}})
    assert main(["-C", str(moved.root), "registry", "list"], environ={"PATH": "/usr/bin:/bin"}) == 2
    err = capsys.readouterr().err
    assert "registries.bags.options.order_by: unknown option for kind 'bagit'" in err and "set registries.bags.order_by" in err
    absent = _workspace(tmp_path / "ws3", tmp_path / "nowhere")
    from govern.errors import GovernError

    with pytest.raises(GovernError) as refused:
        versions(absent)
    assert refused.value.code == "E_NOT_A_DIRECTORY" and "registries.bags.path" in refused.value.message
