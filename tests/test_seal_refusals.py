"""Every refusal of ``govern seal`` (issue 2, item 4): exit 2, a message naming the path, and
nothing written — no run.json, manifest.json or MANIFEST.sha256, the tree exactly as before.

Refusals are run through the installed console script; races that cannot be staged
deterministically from outside (a file changing while it is hashed) are driven in-process.
"""

from __future__ import annotations

import os
import socket
import stat
import unicodedata
from pathlib import Path

import pytest

from govern.errors import GovernError
from govern.seal.hashing import FileHasher, Fingerprints, Stamps
from govern.seal.tree import RunListing, list_run_tree
from helpers import DEFAULT_AT, RUN_ID, codes, make_run, run_govern, seal_in_process, sha256_hex, tree_state, verify_in_process

SEAL_OUTPUTS = ("run.json", "manifest.json", "MANIFEST.sha256")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """An ordinary run with a little payload, to which each test adds one offending entry."""
    return make_run(tmp_path / "runs", RUN_ID, {"ok.txt": b"fine\n", "sub/also_ok.txt": b"fine too\n"})


def assert_refused(run_dir: Path, code: str, *names: str, scanned: bool = True) -> list[str]:
    """Seal through the CLI; assert exit 2, CODE on the first stderr line naming every one of
    ``names``, and that the run was left exactly as it was. ``scanned``: a refusal found by
    walking the run says "cannot seal RUN". Returns the stderr lines."""
    before = tree_state(run_dir)
    result = run_govern("seal", run_dir, "--at", DEFAULT_AT)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines, "no error message"
    assert lines[0].startswith(f"govern: error: {code}: {'cannot seal ' if scanned else ''}"), result.stderr
    assert str(run_dir) in lines[0]
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for output in SEAL_OUTPUTS:
        assert not os.path.lexists(run_dir / output), f"{output} was written"
    assert tree_state(run_dir) == before, "the run was changed"
    return lines


# --- links and special files ---------------------------------------------------------------


def test_symlink_to_a_file(run_dir: Path):
    os.symlink(run_dir / "ok.txt", run_dir / "link_to_file")
    assert_refused(run_dir, "E_SYMLINK", "link_to_file")


def test_symlink_to_a_directory_is_not_followed(run_dir: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside, run_dir / "sub" / "link_to_dir")
    lines = assert_refused(run_dir, "E_SYMLINK", "sub/link_to_dir")
    assert "secret.txt" not in "\n".join(lines)


def test_broken_symlink(run_dir: Path):
    os.symlink(run_dir / "does-not-exist", run_dir / "dangling")
    assert_refused(run_dir, "E_SYMLINK", "dangling")


def test_symlink_loop(run_dir: Path):
    os.symlink("loop_b", run_dir / "loop_a")
    os.symlink("loop_a", run_dir / "loop_b")
    os.symlink("self", run_dir / "self")
    lines = assert_refused(run_dir, "E_SYMLINK", "loop_a", "loop_b", "self")
    assert "(and 2 more)" in lines[0]  # all three are reported, not only the first


def test_symlinked_run_json_is_refused_not_followed(run_dir: Path, tmp_path: Path):
    (tmp_path / "elsewhere.json").write_bytes(b"{}\n")
    os.symlink(tmp_path / "elsewhere.json", run_dir / "run.json")
    before = tree_state(run_dir)
    result = run_govern("seal", run_dir, "--at", DEFAULT_AT)
    assert result.returncode == 2
    assert result.stderr.startswith("govern: error: E_SYMLINK: ")
    assert "run.json" in result.stderr
    assert tree_state(run_dir) == before
    assert (tmp_path / "elsewhere.json").read_bytes() == b"{}\n"


def test_fifo(run_dir: Path):
    os.mkfifo(run_dir / "sub" / "pipe")
    assert_refused(run_dir, "E_SPECIAL_FILE", "sub/pipe")


def test_unix_socket(run_dir: Path, monkeypatch: pytest.MonkeyPatch):
    # AF_UNIX paths are limited to ~108 bytes: bind a short relative name from inside the run.
    monkeypatch.chdir(run_dir)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind("sock")
        assert stat.S_ISSOCK(os.lstat(run_dir / "sock").st_mode)
        assert_refused(run_dir, "E_SPECIAL_FILE", "sock")
    finally:
        server.close()


def test_device_node(run_dir: Path):
    try:
        os.mknod(run_dir / "null_device", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        if os.geteuid() == 0:
            raise  # root (CI) can make one: a failure there is a real failure, never a skip
        pytest.skip("creating a device node needs privileges (the suite runs it as root)")
    assert_refused(run_dir, "E_SPECIAL_FILE", "null_device")


# --- names -----------------------------------------------------------------------------------
# A NUL byte cannot occur in a file name on Linux (or any POSIX system): the kernel takes
# names as C strings, so there is no way to create one to test. The manifest side of the
# rule (a "\u0000" in a manifest path) is tested in test_verify.py.


@pytest.mark.parametrize(
    "name, shown",
    [
        ("back\\slash.txt", "back\\\\slash.txt"),
        ("carriage\rreturn.txt", "carriage\\rreturn.txt"),
        ("line\nfeed.txt", "line\\nfeed.txt"),
    ],
    ids=["backslash", "CR", "LF"],
)
def test_forbidden_characters_in_names(run_dir: Path, name: str, shown: str):
    (run_dir / "sub" / name).write_bytes(b"x")
    lines = assert_refused(run_dir, "E_UNSAFE_NAME", shown)
    assert len(lines) == 1  # the control character is escaped, not printed raw


def test_forbidden_character_in_a_directory_name(run_dir: Path):
    (run_dir / "bad\\dir").mkdir()
    (run_dir / "bad\\dir" / "inner.txt").write_bytes(b"x")
    assert_refused(run_dir, "E_UNSAFE_NAME", "bad\\\\dir")


def test_name_that_is_not_utf8(run_dir: Path):
    fd = os.open(os.fsencode(run_dir) + b"/latin1-caf\xe9.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    assert_refused(run_dir, "E_UNSAFE_NAME", "not valid UTF-8")


@pytest.mark.parametrize("name", ["~lockfile", "C:drive.txt"])
def test_top_level_names_no_manifest_may_hold(run_dir: Path, name: str):
    # Such a file would seal into a manifest that verification must reject (E_UNSAFE_PATH),
    # so sealing refuses it up front.
    (run_dir / name).write_bytes(b"x")
    assert_refused(run_dir, "E_UNSAFE_NAME", name)
    # Deeper down the same names are harmless.
    (run_dir / name).unlink()
    (run_dir / "sub" / name).write_bytes(b"x")
    assert run_govern("seal", run_dir, "--at", DEFAULT_AT).returncode == 0
    assert run_govern("verify", run_dir).returncode == 0


@pytest.mark.parametrize("name", ["manifest.json", "MANIFEST.sha256"])
def test_a_folder_squatting_on_a_seal_file_name(run_dir: Path, name: str):
    # The seal could never be written over a folder; refuse before anything is written.
    (run_dir / name).mkdir()
    (run_dir / name / "inside.txt").write_bytes(b"x")
    before = tree_state(run_dir)
    result = run_govern("seal", run_dir, "--at", DEFAULT_AT)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"govern: error: E_UNSAFE_NAME: cannot seal {run_dir}: {name}: reserved for the seal")
    assert tree_state(run_dir) == before


NFC_E = "\u00e9"  # é, one code point
NFD_E = "e\u0301"  # e + combining acute accent
assert unicodedata.normalize("NFC", NFD_E) == NFC_E


def test_nfc_nfd_twin_files(run_dir: Path):
    (run_dir / f"caf{NFC_E}.txt").write_bytes(b"composed")
    (run_dir / f"caf{NFD_E}.txt").write_bytes(b"decomposed")
    assert_refused(run_dir, "E_NAME_COLLISION", f"caf{NFC_E}.txt", "NFC")


def test_nfc_nfd_twin_directories(run_dir: Path):
    # The file paths under them differ, but the two folders would merge on a normalising
    # filesystem (macOS), so they are refused too.
    (run_dir / f"{NFC_E}t{NFC_E}").mkdir()
    (run_dir / f"{NFC_E}t{NFC_E}" / "one.txt").write_bytes(b"1")
    (run_dir / f"{NFD_E}t{NFD_E}").mkdir()
    (run_dir / f"{NFD_E}t{NFD_E}" / "two.txt").write_bytes(b"2")
    assert_refused(run_dir, "E_NAME_COLLISION", f"{NFC_E}t{NFC_E}")


def test_case_fold_twin_files(run_dir: Path):
    (run_dir / "sub" / "README.md").write_bytes(b"upper")
    (run_dir / "sub" / "readme.md").write_bytes(b"lower")
    assert_refused(run_dir, "E_NAME_COLLISION", "sub/README.md", "sub/readme.md", "case-folding")


def test_case_fold_twin_file_and_directory(run_dir: Path):
    (run_dir / "Data").write_bytes(b"a file")
    (run_dir / "data").mkdir()
    (run_dir / "data" / "inside.txt").write_bytes(b"in a folder")
    assert_refused(run_dir, "E_NAME_COLLISION", "Data", "data")


def test_case_fold_is_full_folding_not_lowercasing(run_dir: Path):
    # "STRASSE".casefold() == "straße".casefold() == "strasse": equal on a case-insensitive
    # filesystem that folds fully, although .lower() would keep them apart.
    (run_dir / "STRASSE.txt").write_bytes(b"1")
    (run_dir / "stra\u00dfe.txt").write_bytes(b"2")
    assert_refused(run_dir, "E_NAME_COLLISION", "STRASSE.txt")


# --- already sealed, --reseal, interrupted seals -----------------------------------------------


def test_already_sealed_then_reseal(run_dir: Path):
    first = run_govern("--json", "seal", run_dir, "--at", DEFAULT_AT, "--op", "OP-FIRST")
    assert first.returncode == 0
    old_root = first.json()["result"]["root_sha256"]
    (run_dir / "ok.txt").write_bytes(b"changed after sealing\n")
    before = tree_state(run_dir)

    refused = run_govern("seal", run_dir, "--at", DEFAULT_AT)
    assert refused.returncode == 2
    assert refused.stderr.startswith("govern: error: E_ALREADY_SEALED: ")
    assert "--reseal" in refused.stderr and str(run_dir) in refused.stderr
    assert tree_state(run_dir) == before

    assert run_govern("verify", run_dir).returncode == 1  # the change is detected...
    resealed = run_govern("--json", "seal", run_dir, "--reseal", "--at", "2030-01-01T00:00:00Z")
    assert resealed.returncode == 0
    assert resealed.json()["result"]["root_sha256"] != old_root
    assert resealed.json()["result"]["wrote_run_json"] is False
    assert run_govern("verify", run_dir).returncode == 0  # ...and accepted after --reseal
    # The original run.json (op and clock of the first seal) is kept.
    assert b"OP-FIRST" in (run_dir / "run.json").read_bytes()
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".govern-tmp-")]


def test_interrupted_seal_is_finished_by_sealing_again(run_dir: Path):
    # A crash after manifest.json but before MANIFEST.sha256 (the commit point) leaves an
    # unsealed run with a stale manifest and a temp file: sealing again needs no --reseal.
    (run_dir / "manifest.json").write_bytes(b"{ stale, half-written")
    (run_dir / ".govern-tmp-99999-MANIFEST.sha256").write_bytes(b"partial")
    assert run_govern("verify", run_dir).returncode == 1  # not sealed
    result = run_govern("seal", run_dir, "--at", DEFAULT_AT)
    assert result.returncode == 0, result.stderr
    assert run_govern("verify", run_dir).returncode == 0
    assert not (run_dir / ".govern-tmp-99999-MANIFEST.sha256").exists()


def test_not_a_directory(tmp_path: Path):
    a_file = tmp_path / RUN_ID
    a_file.write_bytes(b"not a folder")
    result = run_govern("seal", a_file)
    assert result.returncode == 2
    assert result.stderr.startswith("govern: error: E_NOT_A_DIRECTORY: ")
    missing = tmp_path / "no" / "such" / RUN_ID
    result = run_govern("seal", missing)
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert not (tmp_path / "no").exists(), "refusing must not create the missing folders"


def test_every_problem_is_listed(run_dir: Path):
    os.symlink("ok.txt", run_dir / "a_link")
    os.mkfifo(run_dir / "b_fifo")
    (run_dir / "c\\name").write_bytes(b"x")
    before = tree_state(run_dir)
    result = run_govern("--json", "seal", run_dir, "--at", DEFAULT_AT)
    assert result.returncode == 2
    problems = result.json()["error"]["problems"]
    assert sorted(p["code"] for p in problems) == ["E_SPECIAL_FILE", "E_SYMLINK", "E_UNSAFE_NAME"]
    assert tree_state(run_dir) == before
    text = run_govern("seal", run_dir)
    assert len(text.stderr.splitlines()) == 3  # the error line, then one line per other problem


# --- a run that changes while it is sealed (in-process) ---------------------------------------


def _stamped(run_dir: Path) -> tuple[RunListing, Stamps]:
    """The run's listing and the stamps sealing takes of it before hashing."""
    listing = list_run_tree(run_dir)
    with FileHasher(listing, jobs=1) as hasher:
        return listing, hasher.stamps()


def _hashed_against(listing: RunListing, stamps: Stamps) -> Fingerprints:
    """Hash the listing as sealing does, holding each file to its stamp."""
    with FileHasher(listing, jobs=1) as hasher:
        return hasher.fingerprint(expected=stamps)


def test_hash_detects_a_size_recorded_at_scan_time_that_no_longer_holds(run_dir: Path):
    listing, stamps = _stamped(run_dir)
    stamps.sizes[0] += 1
    result = _hashed_against(listing, stamps)
    assert [(position, code) for position, code, _ in result.problems] == [(0, "E_FILE_CHANGED")]
    assert listing.paths[0] == "ok.txt"


def test_hash_detects_an_mtime_recorded_at_scan_time_that_no_longer_holds(run_dir: Path):
    listing, stamps = _stamped(run_dir)
    genuine = _hashed_against(listing, stamps)  # the genuine stamps hash fine
    assert not genuine.problems and genuine.sha256(0) == sha256_hex(b"fine\n")
    stamps.mtimes[0] -= 1_000_000_000
    assert [code for _, code, _ in _hashed_against(listing, stamps).problems] == ["E_FILE_CHANGED"]


def test_hash_of_a_file_replaced_by_a_fifo_does_not_hang(run_dir: Path):
    listing, stamps = _stamped(run_dir)
    location = Path(listing.location(0))
    location.unlink()
    os.mkfifo(location)
    assert [code for _, code, _ in _hashed_against(listing, stamps).problems] == ["E_FILE_CHANGED"]


class _MutateOnFirstAdvance:
    """A Progress that changes the run once hashing has started — a writer racing the seal.

    Progress is how sealing reports to the CLI; using it as the trigger stages the race
    deterministically without mocking anything of the filesystem.
    """

    def __init__(self, mutate):
        self.mutate = mutate
        self.done = False

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, amount: int) -> None:
        if not self.done:
            self.done = True
            self.mutate()


def _seal_with_progress(run_dir: Path, progress) -> None:
    from govern.format.envelope import make_envelope
    from govern.runtime.clock import parse_utc
    from govern.seal.sealing import seal_run

    envelope = make_envelope(run_dir.name, op_id=None, clock=parse_utc(DEFAULT_AT))
    seal_run(run_dir, envelope=envelope, progress=progress)


@pytest.mark.parametrize(
    "mutation",
    ["grow_a_hashed_file", "grow_a_file_not_yet_hashed", "add_a_file", "remove_a_hashed_file"],
)
def test_tree_changing_during_seal_is_refused(run_dir: Path, mutation: str):
    hashed_first = run_dir / "ok.txt"  # files are hashed in path order
    hashed_later = run_dir / "sub" / "also_ok.txt"
    mutate = {
        "grow_a_hashed_file": lambda: hashed_first.write_bytes(b"fine, and then some\n"),
        "grow_a_file_not_yet_hashed": lambda: hashed_later.write_bytes(b"grown while sealing\n"),
        "add_a_file": lambda: (run_dir / "late.txt").write_bytes(b"late"),
        "remove_a_hashed_file": lambda: hashed_first.unlink(),
    }[mutation]
    progress = _MutateOnFirstAdvance(mutate)
    with pytest.raises(GovernError) as raised:
        _seal_with_progress(run_dir, progress)
    assert progress.done
    assert raised.value.code == "E_FILE_CHANGED"
    assert str(run_dir) in raised.value.message or "also_ok.txt" in raised.value.message
    for output in SEAL_OUTPUTS:
        assert not (run_dir / output).exists(), f"{output} was written"


def test_seal_in_process_refusal_carries_every_problem(run_dir: Path):
    os.symlink("ok.txt", run_dir / "l1")
    os.symlink("ok.txt", run_dir / "sub" / "l2")
    with pytest.raises(GovernError) as raised:
        seal_in_process(run_dir)
    assert raised.value.code == "E_SYMLINK"
    assert codes(raised.value) == ["E_SYMLINK", "E_SYMLINK"]
    assert sorted(p.where for p in raised.value.problems) == ["l1", "sub/l2"]


def test_refused_tree_would_not_verify_either(run_dir: Path):
    # Seal a clean run, then introduce what sealing refuses: verification reports it too.
    seal_in_process(run_dir)
    os.symlink("ok.txt", run_dir / "late_link")
    os.mkfifo(run_dir / "late_fifo")
    assert {"E_SYMLINK", "E_SPECIAL_FILE"} <= set(codes(verify_in_process(run_dir)))


@pytest.mark.parametrize(
    "name", ["not_a_run", "2024-01-02__030405__Upper", "2024-02-30__000000__no_such_day", "2024-01-02__030405__", "2024-01-02_030405__x"]
)
def test_folder_not_named_like_a_run(tmp_path: Path, name: str):
    # The folder's name becomes the run id in run.json and the manifest, so it must be one.
    run_dir = make_run(tmp_path, name, {"a.txt": b"a"})
    assert_refused(run_dir, "E_NOT_A_RUN", name, scanned=False)
    assert not (tmp_path / ".govern.lock").exists()
