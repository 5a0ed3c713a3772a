"""The externally visible contract of the ``govern`` console script (docs/formats.md, docs/errors.md; issue 2).

Every test here runs the installed script in a real subprocess: exit codes, what goes to
stdout and stderr, and the bytes written are what other tools rely on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import govern
from helpers import DEFAULT_AT, RUN_ID, make_run, read_manifest, run_govern, run_govern_process, sha256_hex, tree_state

HEX64 = re.compile(r"^[0-9a-f]{64}$")
# coreutils is a prerequisite of the suite: a sealed run's promise is to verify without govern.
assert shutil.which("sha256sum"), "coreutils sha256sum is required to run the suite"


def assert_one_error_line(stderr: str, code: str) -> str:
    """stderr is exactly one ``govern: error: CODE: …`` line with no traceback; return it."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"govern: error: {code}: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- version and help -----------------------------------------------------------------


def test_version_prints_the_package_version():
    result = run_govern_process("--version")
    assert result.returncode == 0
    assert result.stdout == f"govern {govern.__version__}\n"
    assert result.stderr == ""


def test_version_after_other_global_options(tmp_path: Path):
    result = run_govern_process("-C", tmp_path, "-q", "--version")
    assert (result.returncode, result.stdout) == (0, f"govern {govern.__version__}\n")
    as_json = run_govern_process("--json", "-V")
    assert as_json.returncode == 0
    assert as_json.json()["result"] == {"version": govern.__version__}


def test_python_dash_m_govern_is_the_same_program():
    completed = subprocess.run(
        [sys.executable, "-m", "govern", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert completed.stdout == f"govern {govern.__version__}\n"


def test_help_lists_the_commands_and_exit_codes():
    result = run_govern_process("--help")
    assert result.returncode == 0
    for command in ("init", "seal", "verify"):
        assert re.search(rf"\b{command}\b", result.stdout), command
    assert "Exit codes" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("group", [(), ("registry",), ("delta",), ("plugins",), ("governance",), ("report",)])
def test_help_is_plain_text_and_every_summary_is_whole(group):
    result = run_govern_process(*group, "--help")
    assert result.returncode == 0, result.stderr
    assert not re.search(r"[\u2500-\u257f]", result.stdout)  # no box drawing: the same text in a log or a pipe
    listing = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert listing, result.stdout
    for line in listing:
        assert not line.rstrip().endswith("..."), line  # a summary is never cut short


def _imported_modules(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> set[str]:
    environ = None if env is None else {**os.environ, **env}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "govern", *args], capture_output=True, text=True, cwd=cwd, env=environ)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "typer" in imported  # the check sees imports at all
    return imported


def test_help_does_not_import_rich():
    # rich would cost ~60 ms on every --help (issue 7's start-up target); plain help needs none.
    imported = _imported_modules("--help")
    assert not {name for name in imported if name == "rich" or name.startswith("rich.")}


def test_seal_and_verify_do_not_import_pydantic(tmp_path: Path):
    # typer >= 0.29 coerces every parameter through pydantic (~0.1 s of CPU per command);
    # pyproject.toml caps typer below it. This fails if the cap is lifted while that holds.
    run = make_run(tmp_path, RUN_ID, {"a.txt": b"a"})
    for args in (("seal", str(run), "--at", DEFAULT_AT), ("verify", str(run))):
        # GOVERN_QUICK_VERIFY=0: the full command (the quick answer imports no typer at all).
        imported = _imported_modules(*args, cwd=tmp_path, env={"GOVERN_QUICK_VERIFY": "0"})
        assert "pydantic" not in imported, args


def test_command_help_exits_zero():
    result = run_govern_process("seal", "--help")
    assert result.returncode == 0
    assert "--reseal" in result.stdout and "--op" in result.stdout


# --- init ----------------------------------------------------------------------------------


def test_init_creates_a_loadable_workspace(tmp_path: Path):
    target = tmp_path / "new"
    result = run_govern_process("init", target)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    config = target / "registry_config.toml"
    assert config.is_file()
    assert (target / "governance").is_dir()
    assert (target / "schemas").is_dir()
    parsed = tomllib.loads(config.read_text(encoding="utf-8"))
    assert (target / parsed["workspace"]["runs_root"]).is_dir()
    # The starter config is commented (it teaches its own keys).
    assert config.read_text(encoding="utf-8").count("#") >= 5
    # And govern itself accepts it: a run sealed under its runs root is found by --all.
    run = make_run(target / parsed["workspace"]["runs_root"], RUN_ID, {"a.txt": b"a"})
    assert run_govern_process("seal", run, "--at", DEFAULT_AT).returncode == 0
    listed = run_govern_process("-C", target, "--json", "verify", "--all")
    assert listed.returncode == 0, listed.stdout
    assert [r["run_id"] for r in listed.json()["result"]["runs"]] == [RUN_ID]


def test_init_in_current_directory(tmp_path: Path):
    result = run_govern_process("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "registry_config.toml").is_file()


def test_init_refuses_an_existing_workspace_and_changes_nothing(tmp_path: Path):
    assert run_govern_process("init", tmp_path).returncode == 0
    config = tmp_path / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8") + "# my own edit\n", encoding="utf-8")
    shutil.rmtree(tmp_path / "governance")  # a half-populated workspace must not be "repaired" either
    before = tree_state(tmp_path)

    result = run_govern_process("init", tmp_path)

    assert result.returncode == 2
    line = assert_one_error_line(result.stderr, "E_WORKSPACE_EXISTS")
    assert "registry_config.toml" in line
    assert result.stdout == ""
    assert tree_state(tmp_path) == before


def test_init_refuses_a_file_in_the_way(tmp_path: Path):
    blocker = tmp_path / "afile"
    blocker.write_bytes(b"x")
    result = run_govern_process("init", blocker)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "E_NOT_A_DIRECTORY")
    assert blocker.read_bytes() == b"x"


# --- seal ----------------------------------------------------------------------------------


@pytest.fixture
def payload_run(tmp_path: Path) -> Path:
    return make_run(
        tmp_path / "runs",
        RUN_ID,
        {
            "z_last.txt": b"last\n",
            "A_upper.txt": b"upper\n",
            "nested/deeper/file with spaces.txt": b"spaces\n",
            "nested/empty": b"",
            "caf\u00e9.bin": bytes(range(256)) * 3,
        },
    )


def test_seal_writes_run_json_with_op_and_clock(payload_run: Path):
    result = run_govern_process("seal", payload_run, "--op", "OP-QA01", "--at", "2023-05-06T07:08:09Z")
    assert result.returncode == 0, result.stderr
    envelope = json.loads((payload_run / "run.json").read_bytes())
    assert envelope == {
        "run_version": "0.1",
        "run_id": RUN_ID,
        "op_id": "OP-QA01",
        "created_utc": "2023-05-06T07:08:09Z",
        "tool": {"name": "govern", "version": govern.__version__},
        "inputs": {},
        "outputs": {},
        "params": {},
    }
    # run.json is canonical JSON too, and it is payload: listed and hashed like any file.
    raw = (payload_run / "run.json").read_bytes()
    assert raw == (json.dumps(envelope, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    listed = {entry["path"]: entry for entry in read_manifest(payload_run)["files"]}
    assert listed["run.json"] == {"path": "run.json", "sha256": sha256_hex(raw), "bytes": len(raw)}


def test_seal_keeps_an_existing_run_json(payload_run: Path):
    own = b'{"run_id": "written by the pipeline"}\n'
    (payload_run / "run.json").write_bytes(own)
    result = run_govern_process("seal", payload_run, "--op", "OP-IGNORED", "--at", DEFAULT_AT)
    assert result.returncode == 0, result.stderr
    assert (payload_run / "run.json").read_bytes() == own
    listed = {entry["path"]: entry for entry in read_manifest(payload_run)["files"]}
    assert listed["run.json"]["sha256"] == sha256_hex(own)


def test_manifest_is_canonical_sorted_and_complete(payload_run: Path):
    result = run_govern_process("seal", payload_run, "--at", DEFAULT_AT)
    assert result.returncode == 0, result.stderr
    raw = (payload_run / "manifest.json").read_bytes()
    document = json.loads(raw)
    # Canonical: sorted keys, 2-space indent, UTF-8 (not \u escapes), one trailing newline.
    assert raw == (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    assert "caf\u00e9.bin".encode() in raw
    assert set(document) == {"manifest_version", "run_id", "algorithm", "files"}
    assert document["manifest_version"] == "0.1"
    assert document["algorithm"] == "sha256"
    assert document["run_id"] == RUN_ID
    paths = [entry["path"] for entry in document["files"]]
    assert paths == sorted(paths)
    assert paths == [
        "A_upper.txt",
        "caf\u00e9.bin",
        "nested/deeper/file with spaces.txt",
        "nested/empty",
        "run.json",
        "z_last.txt",
    ]
    for entry in document["files"]:
        data = (payload_run / entry["path"]).read_bytes()
        assert entry == {"path": entry["path"], "sha256": sha256_hex(data), "bytes": len(data)}
        assert HEX64.match(entry["sha256"])


def test_seal_line_pins_the_manifest_and_is_the_root_hash(payload_run: Path):
    result = run_govern_process("seal", payload_run, "--at", DEFAULT_AT)
    assert result.returncode == 0, result.stderr
    root = sha256_hex((payload_run / "manifest.json").read_bytes())
    assert (payload_run / "MANIFEST.sha256").read_bytes() == f"{root}  manifest.json\n".encode("ascii")
    assert f"ROOT_SHA256 {root}" in result.stdout
    # Piped output: no progress bar or anything else on stderr.
    assert result.stderr == ""
    as_json = run_govern_process("verify", "--json", payload_run).json()
    assert as_json["result"]["runs"][0]["root_sha256"] == root


def test_sealed_run_verifies_with_coreutils_alone(payload_run: Path):
    assert run_govern_process("seal", payload_run, "--at", DEFAULT_AT).returncode == 0
    seal = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=payload_run, capture_output=True, text=True
    )
    assert seal.returncode == 0, seal.stdout + seal.stderr
    assert seal.stdout == "manifest.json: OK\n"
    # Each manifest line is a sha256sum line too.
    lines = "".join(f"{e['sha256']}  {e['path']}\n" for e in read_manifest(payload_run)["files"])
    payload = subprocess.run(
        ["sha256sum", "-c", "--strict", "-"], cwd=payload_run, input=lines.encode(), capture_output=True
    )
    assert payload.returncode == 0, payload.stdout + payload.stderr
    assert payload.stdout.decode().count(": OK\n") == len(read_manifest(payload_run)["files"])
    # And coreutils notices tampering as well.
    (payload_run / "z_last.txt").write_bytes(b"LAST\n")
    tampered = subprocess.run(
        ["sha256sum", "-c", "--strict", "-"], cwd=payload_run, input=lines.encode(), capture_output=True
    )
    assert tampered.returncode == 1


def test_seal_outputs_one_json_document(payload_run: Path):
    result = run_govern_process("--json", "seal", payload_run, "--at", DEFAULT_AT)
    assert result.returncode == 0
    document = result.json()
    assert document["ok"] is True and document["exit_code"] == 0 and document["error"] is None
    assert document["command"] == "seal"
    assert document["result"]["run_id"] == RUN_ID
    assert document["result"]["root_sha256"] == sha256_hex((payload_run / "manifest.json").read_bytes())
    assert document["result"]["wrote_run_json"] is True
    assert result.stderr == ""


def test_quiet_seal_prints_nothing(payload_run: Path):
    result = run_govern_process("-q", "seal", payload_run, "--at", DEFAULT_AT)
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert (payload_run / "MANIFEST.sha256").is_file()


# --- verify --------------------------------------------------------------------------------


def test_verify_ok_exits_zero(payload_run: Path):
    assert run_govern_process("seal", payload_run, "--at", DEFAULT_AT).returncode == 0
    result = run_govern_process("verify", payload_run)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK      {RUN_ID}")
    assert result.stderr == ""


def test_verify_tampered_exits_one_with_every_code(payload_run: Path):
    assert run_govern_process("seal", payload_run, "--at", DEFAULT_AT).returncode == 0
    (payload_run / "z_last.txt").write_bytes(b"LAST\n")  # same size, other bytes
    (payload_run / "nested" / "empty").unlink()
    (payload_run / "intruder.txt").write_bytes(b"new\n")
    (payload_run / "A_upper.txt").write_bytes(b"longer than before\n")

    result = run_govern_process("verify", payload_run)
    assert result.returncode == 1
    assert f"FAILED  {RUN_ID}  4 problems" in result.stdout
    assert "E_DIGEST_MISMATCH z_last.txt" in result.stdout
    assert "E_FILE_MISSING nested/empty" in result.stdout
    assert "E_FILE_UNLISTED intruder.txt" in result.stdout
    assert "E_SIZE_MISMATCH A_upper.txt" in result.stdout

    document = run_govern_process("verify", payload_run, "--json").json()
    assert document["exit_code"] == 1 and document["ok"] is False
    run = document["result"]["runs"][0]
    assert run["status"] == "failed"
    assert sorted((p["code"], p["where"]) for p in run["problems"]) == [
        ("E_DIGEST_MISMATCH", "z_last.txt"),
        ("E_FILE_MISSING", "nested/empty"),
        ("E_FILE_UNLISTED", "intruder.txt"),
        ("E_SIZE_MISMATCH", "A_upper.txt"),
    ]


def test_verify_many_runs_fails_if_any_fails(tmp_path: Path):
    good = make_run(tmp_path, "2024-01-01__000000__good", {"a": b"a"})
    bad = make_run(tmp_path, "2024-01-01__000001__bad", {"a": b"a"})
    for run in (good, bad):
        assert run_govern_process("seal", run, "--at", DEFAULT_AT).returncode == 0
    (bad / "a").write_bytes(b"b")
    document = run_govern_process("--json", "verify", good, bad).json()
    assert document["exit_code"] == 1
    assert [(r["run_id"], r["status"]) for r in document["result"]["runs"]] == [
        (good.name, "ok"),
        (bad.name, "failed"),
    ]
    assert (document["result"]["verified"], document["result"]["failed"]) == (2, 1)


def test_verify_all_and_run_ids_in_the_workspace(workspace: Path, runs_root: Path):
    sealed = make_run(runs_root, "2024-01-01__000000__sealed", {"x": b"1"})
    make_run(runs_root, "2024-01-01__000001__in_progress", {"y": b"2"})
    (runs_root / "not-a-run").mkdir()
    assert run_govern_process("seal", sealed, "--at", DEFAULT_AT).returncode == 0

    result = run_govern_process("-C", workspace, "--json", "verify", "--all")
    assert result.returncode == 0, result.stdout
    document = result.json()
    statuses = {r["run_id"]: r["status"] for r in document["result"]["runs"]}
    assert statuses == {sealed.name: "ok", "2024-01-01__000001__in_progress": "unsealed"}
    assert any("in_progress" in w and "unsealed" in w for w in document["warnings"])
    assert any("not-a-run" in w for w in document["warnings"])

    # A bare run id is looked up in the runs root of the workspace found by walking up.
    by_id = run_govern_process("verify", sealed.name, cwd=runs_root)
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout.startswith(f"OK      {sealed.name}")


def test_verify_unsealed_run_named_explicitly_fails(tmp_path: Path):
    run = make_run(tmp_path, RUN_ID, {"a": b"a"})
    result = run_govern_process("verify", run)
    assert result.returncode == 1
    assert "E_SEAL_MISSING" in result.stdout


# --- --json: one document, always --------------------------------------------------------


@pytest.mark.parametrize(
    "args, exit_code, error_code",
    [
        (["verify", "--json", "--no-such-option"], 2, "E_USAGE"),
        (["--json", "no-such-command"], 2, "E_USAGE"),
        (["--json", "seal"], 2, "E_USAGE"),  # missing argument
        (["--json", "seal", "{missing}"], 2, "E_NOT_A_DIRECTORY"),
        (["--json", "seal", "{run}", "--at", "yesterday"], 2, "E_CLOCK_INVALID"),
        (["--json", "-C", "{missing}", "verify", "--all"], 2, "E_WORKSPACE_NOT_FOUND"),
    ],
)
def test_json_errors_are_one_document(tmp_path: Path, args, exit_code, error_code):
    run = make_run(tmp_path, RUN_ID, {"a": b"a"})
    before = tree_state(tmp_path)
    args = [a.format(missing=tmp_path / "missing", run=run) for a in args]
    result = run_govern_process(*args, cwd=tmp_path)
    assert result.returncode == exit_code
    document = result.json()  # raises on anything but exactly one document
    assert document["ok"] is False
    assert document["exit_code"] == exit_code
    assert document["error"]["code"] == error_code
    assert document["error"]["message"]
    assert set(document) == {"command", "ok", "exit_code", "result", "warnings", "error"}
    assert result.stderr == ""
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("args", [["--json", "--help"], ["seal", "--help", "--json"]])
def test_json_help_is_one_document_too(args):
    result = run_govern_process(*args)
    assert result.returncode == 0
    document = result.json()
    assert document["ok"] is True
    assert "Usage" in document["result"]["text"]


def test_json_for_init_success_and_refusal(tmp_path: Path):
    first = run_govern_process("--json", "init", tmp_path)
    assert first.returncode == 0
    created = first.json()["result"]["created"]
    assert "registry_config.toml" in created
    second = run_govern_process("init", tmp_path, "--json")
    assert second.returncode == 2
    assert second.json()["error"]["code"] == "E_WORKSPACE_EXISTS"
    assert second.stderr == ""


# --- global options after the command; errors; tracebacks --------------------------------


def test_global_options_work_after_the_command(workspace: Path, runs_root: Path):
    run = make_run(runs_root, RUN_ID, {"a": b"a"})
    assert run_govern_process("seal", run, "--at", DEFAULT_AT, "--json").json()["ok"] is True
    result = run_govern_process("verify", "--json", run)
    assert result.returncode == 0
    assert result.json()["result"]["runs"][0]["status"] == "ok"
    elsewhere = run_govern_process("verify", "--all", "-C", workspace, "--json", cwd=workspace.parent)
    assert elsewhere.returncode == 0, elsewhere.stdout
    assert elsewhere.json()["result"]["verified"] == 1
    equals_form = run_govern_process("verify", "--all", f"--workspace={workspace}", cwd=workspace.parent)
    assert equals_form.returncode == 0, equals_form.stderr


@pytest.mark.parametrize(
    "args",
    [["--no-such-option"], ["no-such-command"], ["seal"], ["verify", "--all", "--bogus"], ["seal", "a", "b"]],
)
def test_usage_errors_exit_two_with_one_line(tmp_path: Path, args):
    result = run_govern_process(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "E_USAGE")


def test_no_command_is_a_usage_error(tmp_path: Path):
    result = run_govern_process(cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("govern: error: E_USAGE: ")


def test_errors_have_no_traceback_unless_asked(tmp_path: Path):
    run = make_run(tmp_path, RUN_ID, {"a": b"a"})
    assert run_govern_process("seal", run, "--at", DEFAULT_AT).returncode == 0

    plain = run_govern_process("seal", run)
    assert plain.returncode == 2
    assert_one_error_line(plain.stderr, "E_ALREADY_SEALED")

    for verbose in (run_govern_process("seal", run, "-v"), run_govern_process("seal", run, env={"GOVERN_DEBUG": "1"})):
        assert verbose.returncode == 2
        assert "Traceback (most recent call last)" in verbose.stderr
        assert "govern: error: E_ALREADY_SEALED: " in verbose.stderr


def test_an_unanticipated_io_failure_is_one_e_io_line_naming_the_path(workspace: Path, runs_root: Path):
    # A folder where the lock file should be: opening it fails with an OSError no command
    # code path anticipates; the CLI still prints one E_IO line naming the path. (A runs root
    # that is a file is anticipated: E_NOT_A_DIRECTORY, tests/test_runs_root_missing.py.)
    lock = runs_root / ".govern.lock"
    lock.mkdir()
    result = run_govern_process("delta", "build", "-C", workspace)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr, "E_IO")
    assert str(lock) in result.stderr
    assert lock.is_dir() and list(lock.iterdir()) == []  # nothing lost, nothing written
    verbose = run_govern_process("delta", "build", "-C", workspace, "-v")
    assert "Traceback (most recent call last)" in verbose.stderr


def test_bad_source_date_epoch_is_an_input_error(tmp_path: Path):
    run = make_run(tmp_path, RUN_ID, {"a": b"a"})
    result = run_govern_process("seal", run, env={"SOURCE_DATE_EPOCH": "soon"})
    assert result.returncode == 2
    assert "SOURCE_DATE_EPOCH" in assert_one_error_line(result.stderr, "E_CLOCK_INVALID")
    assert not (run / "MANIFEST.sha256").exists() and not (run / "run.json").exists()


# --- determinism ---------------------------------------------------------------------------


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    files = {"b.txt": b"b\n", "a/x.bin": bytes(range(200)), "a/\u00e9t\u00e9.txt": b"summer\n", "empty": b""}
    # Written in opposite orders so directory listing order differs between the copies.
    first = make_run(tmp_path / "one", RUN_ID, files)
    second = make_run(tmp_path / "two", RUN_ID, dict(reversed(list(files.items()))))
    return first, second


def test_same_tree_and_clock_give_identical_bytes(tmp_path: Path):
    first, second = _copies(tmp_path)
    roots = []
    for run in (first, second):
        result = run_govern_process("--json", "seal", run, "--at", "2022-02-02T02:02:02Z", "--op", "OP-1")
        assert result.returncode == 0
        roots.append(result.json()["result"]["root_sha256"])
    assert roots[0] == roots[1]
    for name in ("manifest.json", "MANIFEST.sha256", "run.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_source_date_epoch_is_the_clock_and_at_wins(tmp_path: Path):
    first, second = _copies(tmp_path)
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    assert run_govern_process("seal", first, env=env).returncode == 0
    assert json.loads((first / "run.json").read_bytes())["created_utc"] == "2023-11-14T22:13:20Z"
    assert run_govern_process("seal", second, "--at", "2001-01-01T00:00:00Z", env=env).returncode == 0
    assert json.loads((second / "run.json").read_bytes())["created_utc"] == "2001-01-01T00:00:00Z"


# --- progress: a bar on a terminal, nothing when piped ------------------------------------------


def _stderr_on_a_terminal(*args: str) -> tuple[int, str, bytes]:
    """Run govern with stderr on a pseudo-terminal; return (exit code, stdout, terminal bytes)."""
    import os
    import pty

    from helpers import clean_env, govern_executable

    primary, secondary = pty.openpty()
    try:
        completed = subprocess.run(
            [govern_executable(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=secondary, env=clean_env(), timeout=60, text=True,
        )
    finally:
        os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO once the terminal's last writer is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    return completed.returncode, completed.stdout, seen


def test_progress_bar_on_a_terminal_only(tmp_path: Path):
    run = make_run(tmp_path, RUN_ID, {"big.bin": b"\x01" * 2_000_000, "small.txt": b"s"})
    code, stdout, terminal = _stderr_on_a_terminal("seal", str(run), "--at", DEFAULT_AT)
    assert code == 0
    assert b"sealing " + RUN_ID.encode() in terminal and b"100%" in terminal
    assert stdout.startswith(f"sealed {RUN_ID}")  # the bar never pollutes stdout
    code, stdout, terminal = _stderr_on_a_terminal("--json", "verify", str(run))
    assert code == 0
    assert terminal == b""  # --json: machines get the document and nothing else
    assert json.loads(stdout)["ok"] is True


# --- relative run folders: the run id is the folder's real name -------------------------------


def test_seal_and_verify_dot_and_dotdot(tmp_path: Path):
    run = make_run(tmp_path, RUN_ID, {"sub/x.txt": b"x"})
    sealed = run_govern_process("--json", "seal", "..", "--at", DEFAULT_AT, cwd=run / "sub")
    assert sealed.returncode == 0, sealed.stdout
    assert sealed.json()["result"]["run_id"] == RUN_ID
    assert read_manifest(run)["run_id"] == RUN_ID
    assert json.loads((run / "run.json").read_bytes())["run_id"] == RUN_ID
    for where, arg in ((run, "."), (run / "sub", "..")):
        result = run_govern_process("verify", arg, cwd=where)
        assert result.returncode == 0, result.stdout
        assert result.stdout.startswith(f"OK      {RUN_ID}")


def test_verify_of_a_missing_run(tmp_path: Path, workspace: Path):
    # A path that does not exist is named as such, never taken for a run id.
    result = run_govern_process("verify", tmp_path / "nowhere" / RUN_ID, cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in assert_one_error_line(result.stderr, "E_NOT_A_DIRECTORY")
    # A bare run id is looked up in the workspace's runs root.
    result = run_govern_process("-C", workspace, "verify", "2030-01-01__000000__absent")
    assert result.returncode == 2
    assert "2030-01-01__000000__absent" in assert_one_error_line(result.stderr, "E_NOT_A_DIRECTORY")


def test_verify_all_of_an_empty_workspace_is_a_clean_answer(workspace: Path):
    result = run_govern_process("-C", workspace, "verify", "--all")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0 runs: 0 ok, 0 failed\n"
    # With nothing to verify at all, it is a usage error.
    nothing = run_govern_process("-C", workspace, "verify")
    assert nothing.returncode == 2
    assert_one_error_line(nothing.stderr, "E_USAGE")


def test_init_keeps_the_lock_and_caches_out_of_git_and_never_touches_an_existing_gitignore(tmp_path: Path):
    """A new workspace's .gitignore ignores govern's lock file and caches (a committed lock
    shows as changed after every writing command, and fails the pre-commit hooks); a
    repository's own .gitignore is left exactly as it is."""
    fresh = tmp_path / "fresh"
    assert run_govern("init", fresh).returncode == 0
    import subprocess

    subprocess.run(["git", "init", "-q", str(fresh)], check=True)
    (fresh / ".codex" / "RUNS" / ".govern.lock").write_text("")
    (fresh / ".govern" / "cache").mkdir(parents=True)
    (fresh / ".govern" / "cache" / "x.json").write_text("{}")
    status = subprocess.run(["git", "-C", str(fresh), "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True, check=True)
    assert ".govern" not in status.stdout and ".gitignore" in status.stdout
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / ".gitignore").write_text("*.tmp\n")
    assert run_govern("init", mine).returncode == 0
    assert (mine / ".gitignore").read_text() == "*.tmp\n"
