"""A runs root on object storage (issue 13, points 1, 4 and 5), against a real SeaweedFS.

The seed scenario runs on ``s3://`` and gives the log it gives on a local disk, byte for byte;
``verify --all`` streams and hashes every object, and catches one overwritten out of band;
faults (timeouts, 500s, 503s, partial listings) are retried or end in one clean
E_STORE_UNREACHABLE line, never in a partial commit; a stopped server is exit 2, one line.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest

from faulty_store import CountingStore, FaultyStore, serve_through
from govern.config.workspace import load_workspace
from govern.runs.run_store import RunStore, workspace_runs
from govern.store.backend import AlreadyExists, KeyNotFound
from govern.store.factory import StorageOptions, open_store
from govern.store.s3 import S3Store
from govern.testing import invoke_cli
from helpers import run_govern, run_govern_process
from seaweedfs import SeaweedFS, running_seaweedfs
from seaweedfs import storage_table as _storage_table

REPO = Path(__file__).resolve().parent.parent
#: The seed's clock (scripts/demo.py): the same for the local and the s3 build.
SEED_CLOCK = "2026-02-04T09:00:00Z"
REFERENCE_RUNS = REPO / ".codex" / "RUNS"


def _s3_store(server: SeaweedFS, prefix: str, **options: object) -> S3Store:
    store = open_store(
        server.url(prefix),
        relative_to=Path("/"),
        storage=StorageOptions(endpoint_url=server.endpoint, allow_http=True, **options),  # type: ignore[arg-type]
    )
    assert isinstance(store, S3Store)
    return store


def _with_environ(server: SeaweedFS):
    from govern.runtime import environment

    return environment.binding(server.environ())


def _upload_runs(server: SeaweedFS, prefix: str, runs: Path) -> S3Store:
    """Copy every file of the local runs root ``runs`` to ``s3://bucket/prefix`` (put_file)."""
    with _with_environ(server):
        store = _s3_store(server, prefix)
    for path in sorted(runs.rglob("*")):
        if path.is_file():
            store.put_file(path.relative_to(runs).as_posix(), path)
    return store


def _reference_workspace(root: Path, runs_root: str, storage: str = "") -> Path:
    """A copy of the reference workspace (config, schemas, governance) at ``root`` whose
    ``workspace.runs_root`` is ``runs_root``, with ``storage`` added to its config."""
    root.mkdir(parents=True)
    for folder in ("schemas", "governance"):
        shutil.copytree(REPO / folder, root / folder)
    config = (REPO / "registry_config.toml").read_text()
    config = config.replace('runs_root = ".codex/RUNS"', f"runs_root = {json.dumps(runs_root)}", 1)
    (root / "registry_config.toml").write_text(config + storage)
    return root


def _log_of_latest_build(store) -> bytes:
    runs = RunStore(store)
    build = [name for name in runs.list_runs().names if name.endswith("registry_delta_log_build")][-1]
    return runs.read_file(build, "REGISTRY_DELTA_LOG_v0_1.jsonl")


@pytest.fixture
def s3_reference(tmp_path: Path, seaweedfs: SeaweedFS) -> tuple[Path, str, S3Store]:
    """The reference workspace with its 13 runs uploaded to a fresh prefix of the bucket."""
    prefix = seaweedfs.fresh_prefix("seed")
    store = _upload_runs(seaweedfs, prefix, REFERENCE_RUNS)
    workspace = _reference_workspace(tmp_path / "s3ws", seaweedfs.url(prefix), _storage_table(seaweedfs))
    return workspace, prefix, store


def test_the_seed_scenario_on_s3_gives_the_local_log_byte_for_byte(tmp_path, seaweedfs, s3_reference):
    """delta build on s3:// with the seed's clock: 24 records, the log byte-identical to the
    same build of the same runs on a local disk; verify --all and --log pass on s3."""
    s3_workspace, prefix, store = s3_reference
    env = seaweedfs.environ()
    built = invoke_cli("-C", s3_workspace, "--json", "delta", "build", "--at", SEED_CLOCK, env=env)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["result"]["records_appended"] == 24

    # The same runs on a local disk, under a runs root of the same name (a sealed_ref records it).
    local_workspace = _reference_workspace(tmp_path / "localws", prefix)
    shutil.copytree(REFERENCE_RUNS, local_workspace / prefix)
    local = invoke_cli("-C", local_workspace, "delta", "build", "--at", SEED_CLOCK, env=env)
    assert local.returncode == 0, local.stderr
    local_log = _log_of_latest_build(open_store(prefix, relative_to=local_workspace))
    assert _log_of_latest_build(store) == local_log
    assert len(local_log.splitlines()) == 24

    verified = invoke_cli("-C", s3_workspace, "--json", "verify", "--all", "--log", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)["result"]
    assert result["ok"] == 14 and result["failed"] == 0  # 13 runs and the build
    assert result["log"]["ok"] and result["log"]["records"] == 24
    again = invoke_cli("-C", s3_workspace, "delta", "build", "--at", SEED_CLOCK, env=env)
    assert again.returncode == 0 and "up to date" in again.stdout
    shown = invoke_cli("-C", s3_workspace, "--json", "delta", "show", "--registry", "run_registry", env=env)
    assert shown.returncode == 0, shown.stderr
    shown_records = json.loads(shown.stdout)["result"]["records"]
    assert shown_records and {record["registry_id"] for record in shown_records} == {"run_registry"}

    # validate and registry list/show read the same runs through the store as on a local disk.
    for argv in (["validate"], ["registry", "list"], ["registry", "show", "run_registry"]):
        on_s3 = invoke_cli("-C", s3_workspace, "--json", *argv, env=env)
        on_disk = invoke_cli("-C", local_workspace, "--json", *argv, env=env)
        assert on_s3.returncode == on_disk.returncode == 0, on_s3.stderr
        assert _without_locations(on_s3.stdout, s3_workspace, seaweedfs.url(prefix), prefix) == _without_locations(
            on_disk.stdout, local_workspace, str(local_workspace / prefix), prefix
        )


def _without_locations(output: str, workspace: Path, runs_root: str, prefix: str) -> str:
    """``output`` with the runs root's location (URL or folder) and the workspace made words."""
    return output.replace(runs_root, "RUNS_ROOT").replace(str(workspace), "WORKSPACE").replace(prefix, "RUNS_ROOT")


def test_an_object_overwritten_out_of_band_is_caught_by_verify_all(seaweedfs, s3_reference):
    """verify --all reads every object: one overwritten with other bytes of the same size
    fails the run (exit 1, naming the run and the path)."""
    s3_workspace, _prefix, store = s3_reference
    run_id = "2026-01-16__110730__qa_gate"
    key = next(key for key, _ in store.list(run_id + "/") if key.rsplit("/", 1)[1] not in ("manifest.json", "MANIFEST.sha256", "run.json"))
    original = store.get(key)
    store.put(key, bytes(reversed(original)) if original != bytes(reversed(original)) else original + b" ")
    verified = invoke_cli("-C", s3_workspace, "verify", "--all", env=seaweedfs.environ())
    assert verified.returncode == 1, verified.stdout + verified.stderr
    failed = [line for line in verified.stdout.splitlines() if line.startswith("FAILED")]
    assert failed == [f"FAILED  {run_id}  1 problem"]
    relpath = key.split("/", 1)[1]
    assert re.search(rf"E_(DIGEST|SIZE)_MISMATCH.*{re.escape(relpath)}", verified.stdout), verified.stdout


def test_a_stopped_server_is_one_line_exit_2(tmp_path):
    """The real console script against a server that was stopped: E_STORE_UNREACHABLE, exit 2,
    one line naming the URL and what failed, no traceback."""
    with running_seaweedfs(tmp_path / "weed") as server:
        prefix = server.fresh_prefix()
        workspace = _reference_workspace(tmp_path / "ws", server.url(prefix), _storage_table(server))
        env = server.environ()
    result = run_govern("-C", workspace, "verify", "--all", env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"govern: error: E_STORE_UNREACHABLE: {server.url(prefix)}: list / failed: ")
    assert "Traceback" not in result.stderr


def test_a_missing_bucket_or_refused_credentials_are_store_unreachable(tmp_path, seaweedfs):
    """A bucket that does not exist (not E_RUNS_ROOT_MISSING: there is no folder) and a wrong
    secret are E_STORE_UNREACHABLE naming the URL, exit 2."""
    workspace = _reference_workspace(tmp_path / "ws", "s3://no-such-bucket/runs", _storage_table(seaweedfs))
    missing = invoke_cli("-C", workspace, "delta", "build", "--at", SEED_CLOCK, env=seaweedfs.environ())
    assert missing.returncode == 2
    assert "E_STORE_UNREACHABLE: s3://no-such-bucket/runs: list / failed: 404 Not Found (NoSuchBucket)" in missing.stderr
    other = _reference_workspace(tmp_path / "ws2", seaweedfs.url(seaweedfs.fresh_prefix()), _storage_table(seaweedfs))
    refused = invoke_cli("-C", other, "verify", "--log", env={**seaweedfs.environ(), "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert refused.returncode == 2
    assert "E_STORE_UNREACHABLE" in refused.stderr and "403 Forbidden" in refused.stderr


def test_a_credential_in_the_config_is_refused(tmp_path):
    """Credentials come only from the environment: a [storage] key that looks like one is
    E_CONFIG_INVALID naming the key."""
    for key in ("access_key_id", "secret_access_key", "session_token", "aws_secret_access_key"):
        workspace = _reference_workspace(tmp_path / key, "s3://bucket/runs", f'\n[storage]\n{key} = "x"\n')
        result = invoke_cli("-C", workspace, "verify", "--log")
        assert result.returncode == 2
        assert f"E_CONFIG_INVALID: {workspace / 'registry_config.toml'}: storage.{key}: credentials are never read" in result.stderr


def _aws_files(folder: Path, profile: str, access_key_id: str, secret: str) -> tuple[Path, Path]:
    """An AWS shared credentials file and config file (as ``aws configure`` writes them)
    holding ``profile``'s keys and its region."""
    folder.mkdir(parents=True, exist_ok=True)
    credentials, config = folder / "credentials", folder / "config"
    credentials.write_text(f"[{profile}]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n")
    section = "default" if profile == "default" else f"profile {profile}"
    config.write_text(f"[{section}]\nregion = us-east-1\n")
    return credentials, config


@pytest.fixture
def no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS credential or profile variable inherited from the test's own environment."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_the_default_aws_profile_of_home_gives_the_credentials(tmp_path, seaweedfs, s3_reference, no_aws_environment):
    """The real console script with no AWS_* variable at all: the keys of ~/.aws/credentials
    [default] (and the region of ~/.aws/config) reach the server, and verify --all passes."""
    s3_workspace, _prefix, _store = s3_reference
    home = tmp_path / "home"
    keys = seaweedfs.environ()
    _aws_files(home / ".aws", "default", keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    result = run_govern_process("-C", s3_workspace, "verify", "--all", env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    # The same keys, one byte off, are the server's refusal: the profile's keys are what is sent.
    _aws_files(home / ".aws", "default", keys["AWS_ACCESS_KEY_ID"], "wrong")
    refused = run_govern_process("-C", s3_workspace, "verify", "--all", env={"HOME": str(home)})
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1 and "E_STORE_UNREACHABLE" in refused.stderr and "403 Forbidden" in refused.stderr


def test_a_named_aws_profile_gives_the_credentials_and_a_wrong_one_is_one_line(tmp_path, seaweedfs, s3_reference, no_aws_environment):
    """AWS_PROFILE with AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE: the named profile's keys
    are used; a profile with a wrong secret, one that does not exist, or one that assumes a
    role are E_STORE_UNREACHABLE, exit 2, one line naming the profile; keys in the
    environment come before any profile."""
    s3_workspace, _prefix, _store = s3_reference
    keys = seaweedfs.environ()
    credentials, config = _aws_files(tmp_path / "aws", "audit", keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    with credentials.open("a") as more:
        more.write(f"[stale]\naws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}\naws_secret_access_key = wrong\n")
    with config.open("a") as more:
        more.write("[profile assumed]\nrole_arn = arn:aws:iam::123456789012:role/audit\nsource_profile = audit\n")
    files = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config), "HOME": str(tmp_path / "nohome")}
    works = invoke_cli("-C", s3_workspace, "verify", "--log", env={**files, "AWS_PROFILE": "audit"})
    assert works.returncode == 0, works.stderr
    for profile, why in (("stale", "403 Forbidden"), ("missing", "AWS profile 'missing'"), ("assumed", "role_arn")):
        result = invoke_cli("-C", s3_workspace, "verify", "--log", env={**files, "AWS_PROFILE": profile})
        assert result.returncode == 2, (profile, result.stderr)
        assert result.stderr.startswith("govern: error: E_STORE_UNREACHABLE: s3://"), result.stderr
        assert len(result.stderr.splitlines()) == 1 and why in result.stderr, result.stderr
    env_first = invoke_cli("-C", s3_workspace, "verify", "--log", env={**files, **keys, "AWS_PROFILE": "stale"})
    assert env_first.returncode == 0, env_first.stderr


def test_storage_options_are_validated_strictly(tmp_path):
    """An unknown [storage] key, a bad type, or a plain-http endpoint without allow_http."""
    cases = {
        'region = 3': "@ $.storage.region",
        'endpoint = "http://x"': "endpoint",
        'endpoint_url = "http://127.0.0.1:1"': "allow_http",
    }
    for number, (line, expected) in enumerate(cases.items()):
        workspace = _reference_workspace(tmp_path / str(number), "s3://bucket/runs", f"\n[storage]\n{line}\n")
        result = invoke_cli("-C", workspace, "verify", "--log")
        assert result.returncode == 2 and "E_CONFIG_INVALID" in result.stderr and expected in result.stderr, result.stderr


# ------------------------------------------------------------------ the backend itself


def test_the_s3_backend_keeps_the_store_protocol(seaweedfs):
    """list (string prefix, sorted), list_level, ranged get, stat, put if_absent, delete."""
    with _with_environ(seaweedfs):
        store = _s3_store(seaweedfs, seaweedfs.fresh_prefix())
    store.put("r1/a", b"hello")
    store.put("r10/b", b"x")
    store.put("top", b"t")
    assert list(store.list("r1")) == [("r1/a", 5), ("r10/b", 1)]
    assert list(store.list("r1/")) == [("r1/a", 5)]
    assert list(store.list_level("")) == [("r1", True), ("r10", True), ("top", False)]
    assert store.get("r1/a", start=1, end=3) == b"el"
    assert store.get("r1/a", start=9) == b""
    assert store.get("r1/a", start=-2) == b"lo"
    assert store.stat("r1/a") == 5 and store.stat("nope") is None
    with pytest.raises(AlreadyExists):
        store.put("r1/a", b"other", if_absent=True)
    assert store.get("r1/a") == b"hello"
    with pytest.raises(KeyNotFound):
        store.get("nope")
    store.delete("r1/a")
    store.delete("r1/a")
    assert store.stat("r1/a") is None


def test_put_file_streams_a_large_file(tmp_path, seaweedfs):
    """put_file uploads a file larger than a multipart chunk; its bytes come back intact,
    and a ranged read of it (verify's chunks) too."""
    with _with_environ(seaweedfs):
        store = _s3_store(seaweedfs, seaweedfs.fresh_prefix())
    big = tmp_path / "big"
    data = bytes(range(256)) * (6 * 1024 * 1024 // 256 + 3)
    big.write_bytes(data)
    store.put_file("run/big", big)
    assert store.stat("run/big") == len(data)
    assert store.get("run/big", start=5 * 1024 * 1024, end=5 * 1024 * 1024 + 10) == data[5 * 1024 * 1024 : 5 * 1024 * 1024 + 10]
    store.put_file("run/small", big, if_absent=True)
    with pytest.raises(AlreadyExists):
        store.put_file("run/small", big, if_absent=True)


# ------------------------------------------------------------------ requests and faults



def _committed_builds(store) -> list[str]:
    runs = RunStore(store)
    return [name for name in runs.list_runs().names if name.endswith("registry_delta_log_build") and runs.is_sealed(name)]


def test_a_build_lists_the_runs_root_once(seaweedfs, s3_reference, monkeypatch):
    """delta build, verify --all and verify --log each list the top of the runs root once:
    a 10,000-run root costs one paged listing per command, not one per run."""
    s3_workspace, _prefix, store = s3_reference
    counting = CountingStore(store)
    serve_through(monkeypatch, counting)
    for argv in (["delta", "build", "--at", SEED_CLOCK], ["verify", "--all"], ["verify", "--log"]):
        counting.calls.clear()
        result = invoke_cli("-C", s3_workspace, *argv, env=seaweedfs.environ())
        assert result.returncode == 0, result.stdout + result.stderr
        assert counting.calls.get("list_level") == 1, (argv, counting.calls)
        # Other listings are of one run's keys (does a run of the build's name exist?), never of the root.
        assert counting.calls.get("list ", 0) == 0, (argv, counting.calls)
        assert all(name.endswith("/") for name in counting.calls if name.startswith("list ")), counting.calls


@pytest.mark.parametrize(
    ("call", "fault"),
    [("list_level", "timeout"), ("get", "500"), ("put", "503"), ("list_level", "503")],
)
def test_a_fault_is_one_clean_error_and_commits_nothing(seaweedfs, s3_reference, call, fault, monkeypatch):
    """A request that still fails after the client's retries stops the build with one
    E_STORE_UNREACHABLE line (exit 2) and no build committed; the next build completes."""
    s3_workspace, _prefix, store = s3_reference
    with monkeypatch.context() as patched:
        serve_through(patched, FaultyStore(store, {call: fault}))
        result = invoke_cli("-C", s3_workspace, "delta", "build", "--at", SEED_CLOCK, env=seaweedfs.environ())
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("govern: error: E_STORE_UNREACHABLE: s3://faulty/runs: ") and len(result.stderr.splitlines()) == 1
    assert _committed_builds(store) == []
    again = invoke_cli("-C", s3_workspace, "delta", "build", "--at", SEED_CLOCK, env=seaweedfs.environ())
    assert again.returncode == 0, again.stderr
    assert len(_committed_builds(store)) == 1


def test_a_partial_listing_never_rewrites_history(seaweedfs, s3_reference, monkeypatch):
    """A listing that loses a page: the build records what it saw; when the lost runs come
    back they are recorded as new transitions or refused as late — never a rewritten log;
    verify --log passes after every build."""
    s3_workspace, _prefix, store = s3_reference
    env = seaweedfs.environ()
    with monkeypatch.context() as patched:
        serve_through(patched, FaultyStore(store, {"list_level": "partial"}))
        first = invoke_cli("-C", s3_workspace, "delta", "build", "--at", "2026-02-04T08:00:00Z", env=env)
    assert first.returncode == 0, first.stderr
    first_log = _log_of_latest_build(store)
    second = invoke_cli("-C", s3_workspace, "delta", "build", "--at", SEED_CLOCK, env=env)
    assert second.returncode in (0, 1), second.stderr
    assert _log_of_latest_build(store).startswith(first_log)
    assert invoke_cli("-C", s3_workspace, "verify", "--log", env=env).returncode == 0


def test_obstore_retries_a_server_error(seaweedfs, tmp_path):
    """obstore's own retry takes a 503 SlowDown answered once, then success: the caller sees
    only the success. A tiny HTTP proxy answers the first GET with 503 and forwards the rest."""
    import http.client
    import http.server
    import socketserver

    failures = {"left": 1}
    target = seaweedfs.endpoint.removeprefix("http://")

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            if self.command == "GET" and failures["left"]:
                failures["left"] -= 1
                body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
                self.send_response(503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            connection = http.client.HTTPConnection(target)
            connection.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = connection.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_HEAD = do_DELETE = _forward

        def log_message(self, *args) -> None:
            pass

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        prefix = seaweedfs.fresh_prefix()
        with _with_environ(seaweedfs):
            direct = _s3_store(seaweedfs, prefix)
            through = open_store(seaweedfs.url(prefix), relative_to=tmp_path, storage=StorageOptions(endpoint_url=endpoint, allow_http=True))
        direct.put("k", b"value")
        assert through.get("k") == b"value"
        assert failures["left"] == 0
        server.shutdown()


def test_the_workspace_opens_its_store_from_the_config(tmp_path, seaweedfs):
    """Workspace.store() / workspace_runs(): a local runs root keeps the local store; s3:// the
    S3 one, one client shared by the commands of a process."""
    local = _reference_workspace(tmp_path / "local", ".codex/RUNS")
    (local / ".codex" / "RUNS").mkdir(parents=True)
    assert type(load_workspace(explicit=local).store()).__name__ == "LocalStore"
    remote = _reference_workspace(tmp_path / "remote", seaweedfs.url("x"), _storage_table(seaweedfs))
    loaded = load_workspace(explicit=remote)
    with _with_environ(seaweedfs):
        assert isinstance(loaded.store(), S3Store)
        assert loaded.store() is loaded.store()
        assert workspace_runs(loaded).backend is loaded.store()
    assert loaded.recorded_runs_root == "x"


def test_the_s3_backend_behaves_as_the_memory_backend(seaweedfs):
    """Any sequence of put (plain or if_absent), get (whole or a range), stat, delete, list and
    list_level gives the same results on SeaweedFS as on the in-memory backend (the property
    tests/test_store_backends.py holds the local backend to)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from govern.store.memory import MemoryStore
    from test_store_backends import _apply, _ops

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(_ops, max_size=20))
    def same_results(ops):
        with _with_environ(seaweedfs):
            remote = _s3_store(seaweedfs, seaweedfs.fresh_prefix("prop"))
        memory = MemoryStore()
        for op in ops:
            found = _apply(remote, op)
            if op[0] == "level" and isinstance(found, list):
                # SeaweedFS keeps a folder after its last key is deleted (its filer's
                # directories): a folder with no key under it is not part of the contract.
                found = [(name, folder) for name, folder in found if not folder or next(remote.list(f"{op[1]}{name}/"), None)]
            assert found == _apply(memory, op), op
        assert list(remote.list()) == list(memory.list())

    same_results()


def test_start_up_and_local_commands_never_import_obstore(tmp_path):
    """obstore is imported only when an s3:// location is opened: not by --help, --version,
    nor by a command on a local runs root."""
    import subprocess
    import sys

    from helpers import DEFAULT_AT, make_run

    run = make_run(tmp_path, "2024-01-02__030405__test_run", {"a.txt": b"a"})
    for args in (("--help",), ("--version",), ("seal", str(run), "--at", DEFAULT_AT), ("verify", str(run))):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "govern", *args], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert "govern" in imported and not {name for name in imported if name.split(".")[0] == "obstore"}, args


def test_a_signed_build_on_s3_publishes_its_checkpoint_and_tree(tmp_path, seaweedfs, s3_reference):
    """Issue 14: a build on an s3:// runs root seals its checkpoint (signed with --key) and
    outputs.log_tree through the run store, and 'govern log checkpoint' reads it back."""
    from govern.format.checkpoint import parse_checkpoint
    from govern.format.merkle import CompactRange, leaf_hashes_of
    from govern.format.note import open_note
    from govern.format.note_keys import parse_verifier_key

    s3_workspace, _prefix, store = s3_reference
    env = seaweedfs.environ()
    key = tmp_path / "s3.key"
    made = run_govern("log", "keygen", "s3.example/govern", "--out", key)
    assert made.returncode == 0, made.stderr
    built = invoke_cli("-C", s3_workspace, "delta", "build", "--at", SEED_CLOCK, "--key", key, env=env)
    assert built.returncode == 0, built.stderr
    runs = RunStore(store)
    build = [name for name in runs.list_runs().names if name.endswith("registry_delta_log_build")][-1]
    lines = runs.read_file(build, "REGISTRY_DELTA_LOG_v0_1.jsonl").split(b"\n")[:-1]
    note = runs.read_file(build, "checkpoint")
    checkpoint = parse_checkpoint(open_note(note, [parse_verifier_key(made.stdout.strip())]).text)
    tree = CompactRange.of(leaf_hashes_of(lines))
    assert (checkpoint.size, checkpoint.root_hash) == (24, tree.root())
    assert json.loads(runs.read_file(build, "run.json"))["outputs"]["log_tree"] == tree.to_json()
    shown = invoke_cli("-C", s3_workspace, "log", "checkpoint", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.encode() == note
