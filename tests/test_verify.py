"""Every verification code (docs/errors.md), in-process for speed, plus the CLI rendering.

Hostile manifests are written and then *re-pinned* with a correct MANIFEST.sha256
(:func:`helpers.pin_manifest`), so what is exercised is the manifest check itself, not the
seal check in front of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.seal.seal_file import read_seal
from helpers import (
    RUN_ID,
    codes,
    make_run,
    pin_manifest,
    read_manifest,
    rewrite_manifest,
    run_govern,
    seal_in_process,
    sha256_hex,
    verify_in_process,
)

GOOD_DIGEST = sha256_hex(b"x")


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A sealed run (in ``tmp_path/runs``) that verifies cleanly."""
    run_dir = make_run(
        tmp_path / "runs",
        RUN_ID,
        {"a.txt": b"alpha\n", "b/b1.txt": b"beta one\n", "b/b2.bin": bytes(range(64)), "c.txt": b""},
    )
    seal_in_process(run_dir)
    assert verify_in_process(run_dir).ok
    return run_dir


def entry(path: str, digest: str = GOOD_DIGEST, size: object = 1) -> dict:
    return {"path": path, "sha256": digest, "bytes": size}


def forge(run_dir: Path, files: list[dict], **overrides) -> None:
    """Replace the manifest by one listing ``files`` (in the order given), correctly pinned."""
    document = {"manifest_version": "0.1", "run_id": run_dir.name, "algorithm": "sha256", "files": files}
    document.update(overrides)
    pin_manifest(run_dir, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def problems_with(check, code: str) -> list:
    return [p for p in check.problems if p.code == code]


# --- the seal ------------------------------------------------------------------------------


def test_seal_missing(run: Path):
    (run / "MANIFEST.sha256").unlink()
    check = verify_in_process(run)
    assert codes(check) == ["E_SEAL_MISSING"]
    assert not check.ok and not check.sealed


@pytest.mark.parametrize(
    "seal_text",
    [
        b"",
        b"{root}  manifest.json",  # no newline
        b"{root}  manifest.json\n\n",  # a second (empty) line
        b"{root}  manifest.json\r\n",
        b"{root} manifest.json\n",  # one space
        b"{root} *manifest.json\n",  # binary-mode marker
        b"{ROOT}  manifest.json\n",  # upper-case hex
        b"{root}  other.json\n",
        b"{root}0  manifest.json\n",
        b"{root}  manifest.json\n{root}  manifest.json\n",
        b"\xef\xbb\xbf{root}  manifest.json\n",
    ],
)
def test_seal_malformed(run: Path, seal_text: bytes):
    root = sha256_hex((run / "manifest.json").read_bytes())
    (run / "MANIFEST.sha256").write_bytes(seal_text.replace(b"{root}", root.encode()).replace(b"{ROOT}", root.upper().encode()))
    check = verify_in_process(run)
    assert codes(check) == ["E_SEAL_MALFORMED"]
    assert check.sealed  # a broken seal is still a seal: it is a failure, not "unsealed"


def test_seal_mismatch(run: Path):
    data = (run / "manifest.json").read_bytes()
    (run / "manifest.json").write_bytes(data.replace(b'"0.1"', b'"0.1" '))  # same meaning, other bytes
    check = verify_in_process(run)
    assert codes(check) == ["E_SEAL_MISMATCH"]
    assert problems_with(check, "E_SEAL_MISMATCH")[0].where.endswith("manifest.json")


def test_seal_mismatch_still_checks_the_payload(run: Path):
    data = (run / "manifest.json").read_bytes()
    (run / "manifest.json").write_bytes(data + b" ")
    (run / "a.txt").write_bytes(b"ALPHA\n")
    assert codes(verify_in_process(run)) == ["E_DIGEST_MISMATCH", "E_SEAL_MISMATCH"]


def test_manifest_missing(run: Path):
    (run / "manifest.json").unlink()
    assert codes(verify_in_process(run)) == ["E_MANIFEST_MISSING"]


# --- the manifest's structure -----------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest_bytes",
    [
        b"not json at all\n",
        b"[]\n",
        b'"a string"\n',
        b'{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256"}\n',
        b'{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": [], "extra": 1}\n',
        b'{"manifest_version": "9.9", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": []}\n',
        b'{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": {}}\n',
        b'{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": [], "files": []}\n',
        b'{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": [NaN]}\n',
        b'\xef\xbb\xbf{"manifest_version": "0.1", "run_id": "' + RUN_ID.encode() + b'", "algorithm": "sha256", "files": []}\n',
        b'{"manifest_version": "0.1", "run_id": "\xff", "algorithm": "sha256", "files": []}\n',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "not-json", "array", "string", "missing-files", "unknown-key", "version", "files-not-list",
        "duplicate-key", "nan", "bom", "bad-utf8", "deep-nesting",
    ],
)
def test_manifest_invalid(run: Path, manifest_bytes: bytes):
    pin_manifest(run, manifest_bytes)
    check = verify_in_process(run)
    assert "E_MANIFEST_INVALID" in codes(check)
    assert "E_SEAL_MISMATCH" not in codes(check)


@pytest.mark.parametrize(
    "bad_entry",
    [
        "a.txt",
        ["a.txt", GOOD_DIGEST, 1],
        {"path": "a.txt", "sha256": GOOD_DIGEST},
        {"path": "a.txt", "sha256": GOOD_DIGEST, "bytes": 1, "mtime": 0},
    ],
)
def test_manifest_invalid_entry(run: Path, bad_entry):
    def mutate(document):
        document["files"][0] = bad_entry

    rewrite_manifest(run, mutate)
    check = verify_in_process(run)
    invalid = problems_with(check, "E_MANIFEST_INVALID")
    assert len(invalid) == 1 and "files[0]" in invalid[0].where


def test_algorithm_unknown(run: Path):
    rewrite_manifest(run, lambda d: d.update(algorithm="md5"))
    check = verify_in_process(run)
    assert codes(check) == ["E_ALGORITHM_UNKNOWN"]
    assert "md5" in check.problems[0].message


def test_run_id_mismatch_after_renaming_the_folder(run: Path):
    renamed = run.with_name("2024-01-02__030405__renamed")
    run.rename(renamed)
    check = verify_in_process(renamed)
    assert codes(check) == ["E_RUN_ID_MISMATCH"]
    assert RUN_ID in check.problems[0].message and renamed.name in check.problems[0].message


def test_run_id_mismatch_in_the_manifest(run: Path):
    rewrite_manifest(run, lambda d: d.update(run_id="2020-01-01__000000__other"))
    assert codes(verify_in_process(run)) == ["E_RUN_ID_MISMATCH"]


UNSAFE_PATHS = {
    "dotdot": "../x",
    "dotdot-inside": "a/../../x",
    "dotdot-alone": "..",
    "absolute": "/etc/passwd",
    "windows-drive": "C:/x",
    "windows-drive-relative": "C:x",
    "home": "~/x",
    "empty": "",
    "dot": ".",
    "dot-part": "a/./b",
    "empty-part": "a//b",
    "trailing-slash": "dir/",
    "backslash": "a\\b",
    "backslash-traversal": "..\\..\\x",
    "nul": "a\u0000b",
    "cr": "a\rb",
    "lf": "a\nb",
    "not-nfc": "cafe\u0301.txt",
    "too-long": "d/" * 2100 + "x",
    "part-too-long": "x" * 256,
    "not-a-string": 42,
    "null": None,
}


@pytest.mark.parametrize("path", list(UNSAFE_PATHS.values()), ids=list(UNSAFE_PATHS))
def test_unsafe_path(run: Path, path):
    def mutate(document):
        document["files"].insert(0, entry(path))

    rewrite_manifest(run, mutate)
    check = verify_in_process(run)
    assert codes(check) == ["E_UNSAFE_PATH"], check.problems
    assert repr(path) in check.problems[0].where  # named, escaped


def test_unsafe_paths_never_reach_outside_the_run(run: Path, tmp_path: Path):
    # ../secret exists next to the run and the manifest carries its *correct* digest: if
    # verification ever joined that path to the run folder, this would pass or report a
    # digest check. It must be refused as a path, before any file is opened.
    secret = run.parent / "secret"
    secret.write_bytes(b"outside the run\n")
    absolute = tmp_path / "abs_secret"
    absolute.write_bytes(b"absolute\n")

    def mutate(document):
        document["files"] = [
            entry("../secret", sha256_hex(secret.read_bytes()), secret.stat().st_size),
            entry(str(absolute), sha256_hex(absolute.read_bytes()), absolute.stat().st_size),
            *document["files"],
        ]

    rewrite_manifest(run, mutate)
    check = verify_in_process(run)
    assert codes(check) == ["E_UNSAFE_PATH", "E_UNSAFE_PATH"]
    assert not check.ok


def test_a_symlink_cannot_smuggle_an_outside_file_in(run: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "loot.txt").write_bytes(b"loot")
    os.symlink(outside, run / "b" / "portal")

    def mutate(document):
        document["files"].insert(3, entry("b/portal/loot.txt", sha256_hex(b"loot"), 4))

    rewrite_manifest(run, mutate)
    check = verify_in_process(run)
    # The link is refused and the file behind it is never found: files are reached only by
    # walking the run, never by joining a manifest path.
    assert codes(check) == ["E_FILE_MISSING", "E_SYMLINK"]


def test_path_duplicate(run: Path):
    rewrite_manifest(run, lambda d: d["files"].insert(1, dict(d["files"][0])))
    check = verify_in_process(run)
    assert codes(check) == ["E_PATH_DUPLICATE"]
    assert check.problems[0].where.endswith("a.txt")


def test_path_conflict_file_and_directory(run: Path):
    # "b" listed as a file while "b/b1.txt" makes it a directory.
    def mutate(document):
        document["files"].insert(1, entry("b"))

    rewrite_manifest(run, mutate)
    check = verify_in_process(run)
    assert "E_PATH_CONFLICT" in codes(check)
    assert problems_with(check, "E_PATH_CONFLICT")[0].where.endswith(": b")


def test_manifest_unsorted(run: Path):
    rewrite_manifest(run, lambda d: d["files"].reverse())
    check = verify_in_process(run)
    assert set(codes(check)) == {"E_MANIFEST_UNSORTED"}
    # The payload is still checked in full: nothing else is wrong with it.
    assert len(check.manifest.files) == 5


@pytest.mark.parametrize(
    "digest",
    ["a" * 63, "a" * 65, "g" * 64, "A" * 64, GOOD_DIGEST.upper(), "a" * 64 + "\n", " " + "a" * 63, 12, None, ""],
    ids=["short", "long", "non-hex", "upper", "upper-real", "trailing-newline", "space", "int", "null", "empty"],
)
def test_digest_malformed(run: Path, digest):
    rewrite_manifest(run, lambda d: d["files"][0].update(sha256=digest))
    check = verify_in_process(run)
    assert "E_DIGEST_MALFORMED" in codes(check)
    assert problems_with(check, "E_DIGEST_MALFORMED")[0].where.endswith("a.txt")
    assert "E_DIGEST_MISMATCH" not in codes(check)  # a malformed digest is never compared


@pytest.mark.parametrize("size", [-1, "6", 6.0, True, None, [6]], ids=["negative", "string", "float", "bool", "null", "list"])
def test_size_malformed(run: Path, size):
    rewrite_manifest(run, lambda d: d["files"][0].update(bytes=size))
    check = verify_in_process(run)
    assert "E_SIZE_MALFORMED" in codes(check)
    assert "E_SIZE_MISMATCH" not in codes(check)


# --- the payload ------------------------------------------------------------------------------


def test_file_missing(run: Path):
    (run / "b" / "b1.txt").unlink()
    check = verify_in_process(run)
    assert codes(check) == ["E_FILE_MISSING"]
    assert check.problems[0].where == "b/b1.txt"


def test_file_unlisted_including_in_new_folders_and_hidden_files(run: Path):
    (run / "new").mkdir()
    (run / "new" / "file.txt").write_bytes(b"n")
    (run / ".hidden").write_bytes(b"h")
    (run / ".govern-tmp-1-manifest.json").write_bytes(b"looks like a seal leftover")
    check = verify_in_process(run)
    assert codes(check) == ["E_FILE_UNLISTED"] * 3
    assert sorted(p.where for p in check.problems) == [".govern-tmp-1-manifest.json", ".hidden", "new/file.txt"]


def test_size_mismatch(run: Path):
    (run / "a.txt").write_bytes(b"alpha, longer\n")
    check = verify_in_process(run)
    assert codes(check) == ["E_SIZE_MISMATCH"]
    assert "14 bytes" in check.problems[0].message


def test_digest_mismatch_same_size(run: Path):
    (run / "b" / "b2.bin").write_bytes(bytes(reversed(range(64))))
    check = verify_in_process(run)
    assert codes(check) == ["E_DIGEST_MISMATCH"]
    assert check.problems[0].where == "b/b2.bin"


def test_empty_file_that_gained_content(run: Path):
    (run / "c.txt").write_bytes(b"!")
    assert codes(verify_in_process(run)) == ["E_SIZE_MISMATCH"]


def test_symlink_in_a_sealed_run(run: Path, tmp_path: Path):
    # Replace a sealed file by a link to a byte-identical copy outside the run.
    copy = tmp_path / "copy.txt"
    copy.write_bytes((run / "a.txt").read_bytes())
    (run / "a.txt").unlink()
    os.symlink(copy, run / "a.txt")
    check = verify_in_process(run)
    assert codes(check) == ["E_FILE_MISSING", "E_SYMLINK"]


@pytest.mark.parametrize("seal_file", ["manifest.json", "MANIFEST.sha256"])
def test_seal_files_are_not_followed_through_symlinks(run: Path, tmp_path: Path, seal_file: str):
    # An intact copy of the seal file, outside the run, behind a link: never read.
    outside = tmp_path / seal_file
    outside.write_bytes((run / seal_file).read_bytes())
    (run / seal_file).unlink()
    os.symlink(outside, run / seal_file)
    check = verify_in_process(run)
    assert codes(check) == ["E_SYMLINK"]
    assert check.sealed and not check.ok


def test_every_problem_is_reported_not_only_the_first(run: Path):
    (run / "a.txt").write_bytes(b"ALPHA\n")  # digest
    (run / "b" / "b1.txt").unlink()  # missing
    (run / "zz.txt").write_bytes(b"new")  # unlisted
    (run / "c.txt").write_bytes(b"grown")  # size
    check = verify_in_process(run)
    assert codes(check) == ["E_DIGEST_MISMATCH", "E_FILE_MISSING", "E_FILE_UNLISTED", "E_SIZE_MISMATCH"]
    assert {p.where for p in check.problems} == {"a.txt", "b/b1.txt", "zz.txt", "c.txt"}


def test_structural_and_payload_problems_together(run: Path):
    def mutate(document):
        document["algorithm"] = "sha1"
        document["files"].insert(0, entry("../escape"))
        document["files"][2]["sha256"] = "XYZ"

    rewrite_manifest(run, mutate)
    (run / "c.txt").write_bytes(b"grown")
    check = verify_in_process(run)
    assert {"E_ALGORITHM_UNKNOWN", "E_UNSAFE_PATH", "E_DIGEST_MALFORMED", "E_SIZE_MISMATCH"} <= set(codes(check))


# --- read_seal (the cheap check a delta build makes) -----------------------------------------


def test_read_seal_checks_the_seal_but_never_the_payload(run: Path):
    (run / "a.txt").write_bytes(b"tampered payload")
    shallow = read_seal(run)
    assert shallow.ok
    assert shallow.root_sha256 == sha256_hex((run / "manifest.json").read_bytes())
    assert [e.path for e in shallow.manifest.files] == [e["path"] for e in read_manifest(run)["files"]]
    assert not verify_in_process(run).ok


# --- the CLI rendering of these codes ---------------------------------------------------------


def test_cli_reports_codes_and_exit_one(run: Path):
    def mutate(document):
        document["files"].insert(0, entry("../secret"))

    rewrite_manifest(run, mutate)
    (run / "b" / "b1.txt").unlink()
    text = run_govern("verify", run)
    assert text.returncode == 1
    assert "E_UNSAFE_PATH" in text.stdout and "'../secret'" in text.stdout
    assert "E_FILE_MISSING b/b1.txt" in text.stdout
    document = run_govern("verify", run, "--json").json()
    assert document["exit_code"] == 1
    assert sorted(p["code"] for p in document["result"]["runs"][0]["problems"]) == ["E_FILE_MISSING", "E_UNSAFE_PATH"]


def test_cli_escapes_hostile_paths_in_its_one_line_per_problem(run: Path):
    rewrite_manifest(run, lambda d: d["files"].insert(0, entry("x\nFAKE OK line")))
    result = run_govern("verify", run)
    assert result.returncode == 1
    assert not any(line.startswith("FAKE OK") for line in result.stdout.splitlines())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab./\n~:_-é\\", min_size=0, max_size=12), max_size=6))
def test_the_bulk_path_check_never_accepts_a_path_the_single_check_refuses(paths):
    """all_plain_paths (one regex over a whole manifest) may only say yes when every path is
    acceptable one by one."""
    from govern.format.paths import all_plain_paths, manifest_path_problem

    if all_plain_paths(paths):
        assert all(manifest_path_problem(path) is None for path in paths)
