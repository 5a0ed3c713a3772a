"""Every reading command on an ``s3://`` runs root (issue 13, point 4), against a real SeaweedFS.

The reference workspace is built on ``s3://`` and, with the same clock, on a local disk; the
governance commands and the reports read the runs through the run store and say the same
thing, byte for byte, but for where the runs root is. A run is verified and diffed by its id;
the one command that needs a local runs root (``repair --log``) refuses in one line saying why.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from govern.testing import invoke_cli
from helpers import run_govern
from test_object_storage import REFERENCE_RUNS, SEED_CLOCK, _reference_workspace, _without_locations, s3_reference  # noqa: F401

#: Two runs of the reference workspace (one registry's snapshots, before and after).
FIRST_RUN = "2026-01-05__083000__data_ingest"
LATER_RUN = "2026-02-03__170000__data_ingest"


def _build_root(workspace: Path, env: dict[str, str]) -> str:
    """The ROOT_SHA256 of the workspace's one delta-log build (``verify --log --json``)."""
    verified = invoke_cli("-C", workspace, "--json", "verify", "--log", env=env)
    assert verified.returncode == 0, verified.stderr
    (build,) = json.loads(verified.stdout)["result"]["log"]["builds"]
    return build["root_sha256"]


@pytest.fixture
def built_twice(tmp_path, seaweedfs, s3_reference):  # noqa: F811 (the fixture imported above)
    """The reference workspace built at the seed's clock on s3:// and on a local disk (its runs
    root named like the s3 prefix, as a sealed_ref records it): (s3 workspace, local
    workspace, a function making an output location-free)."""
    s3_workspace, prefix, _store = s3_reference
    env = seaweedfs.environ()
    local_workspace = _reference_workspace(tmp_path / "localws", prefix)
    shutil.copytree(REFERENCE_RUNS, local_workspace / prefix)
    for workspace in (s3_workspace, local_workspace):
        built = invoke_cli("-C", workspace, "delta", "build", "--at", SEED_CLOCK, env=env)
        assert built.returncode == 0, built.stderr

    build_roots = {workspace: _build_root(workspace, env) for workspace in (s3_workspace, local_workspace)}

    def located(output: str, workspace: Path) -> str:
        runs_root = seaweedfs.url(prefix) if workspace == s3_workspace else str(local_workspace / prefix)
        # The build's run.json records the configured runs root, so its ROOT_SHA256 differs
        # with the location (its log does not: every record names the runs root by its prefix).
        return _without_locations(output, workspace, runs_root, prefix).replace(build_roots[workspace], "BUILD_ROOT_SHA256")

    return s3_workspace, local_workspace, located


#: The reading commands compared (each once: the workspaces are built once for all of them).
READING_COMMANDS = (
    ("governance", "check"),
    ("--json", "governance", "check"),
    ("governance", "scorecard"),
    ("governance", "sync"),
    ("report", "validation", "--at", SEED_CLOCK),
    ("report", "completion", "--at", SEED_CLOCK),
    ("verify", FIRST_RUN, LATER_RUN),
    ("diff", FIRST_RUN, LATER_RUN, "--deep"),
    ("--json", "diff", FIRST_RUN, LATER_RUN),
)


def test_the_reading_commands_on_s3_say_what_they_say_on_a_local_disk(seaweedfs, built_twice):
    """Each command succeeds on s3:// (on main it refused: "this command needs a local runs
    root") and its output is byte-identical to the local disk's, locations aside. The reports'
    evidence is real: the validation report passes every check, the determinism rebuild (the
    runs copied down from the bucket) included."""
    s3_workspace, local_workspace, located = built_twice
    env = seaweedfs.environ()
    for argv in READING_COMMANDS:
        on_s3 = invoke_cli("-C", s3_workspace, *argv, env=env)
        on_disk = invoke_cli("-C", local_workspace, *argv, env=env)
        assert on_s3.returncode == on_disk.returncode == 0, (argv, on_s3.stderr + on_disk.stderr)
        assert on_s3.stderr == on_disk.stderr == "", argv
        assert located(on_s3.stdout, s3_workspace) == located(on_disk.stdout, local_workspace), argv
        if argv[:2] == ("report", "validation"):
            assert "**Status**: PASSED" in on_s3.stdout
            assert "gives identical bytes" in on_s3.stdout  # the determinism check ran and passed


def test_verify_by_run_id_reads_the_store(seaweedfs, s3_reference):
    """verify RUN-ID on s3:// hashes every object of the run against its manifest; a run id
    the store lacks is one line, exit 2, through the real console script."""
    s3_workspace, prefix, _store = s3_reference
    env = seaweedfs.environ()
    verified = invoke_cli("-C", s3_workspace, "--json", "verify", FIRST_RUN, env=env)
    assert verified.returncode == 0, verified.stderr
    (run,) = json.loads(verified.stdout)["result"]["runs"]
    assert (run["run_id"], run["status"], run["files"], run["problems"]) == (FIRST_RUN, "ok", 4, [])
    missing = run_govern("-C", s3_workspace, "verify", "2026-01-05__083000__no_such_run", env=env)
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"govern: error: E_NOT_A_DIRECTORY: 2026-01-05__083000__no_such_run: no such run folder (a path) nor run in the runs root "
        f"{seaweedfs.url(prefix)}"
    ]


def test_repair_log_on_s3_refuses_in_one_line_saying_why(seaweedfs, s3_reference):
    """repair --log needs a local runs root (a torn tail is what a crashed local append
    leaves; objects are put whole): exit 2, one line naming the location and what to do."""
    s3_workspace, prefix, _store = s3_reference
    refused = run_govern("-C", s3_workspace, "repair", "--log", env=seaweedfs.environ())
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1
    line = refused.stderr.strip()
    assert line.startswith(f"govern: error: E_USAGE: {s3_workspace / 'registry_config.toml'}: workspace.runs_root = '{seaweedfs.url(prefix)}': ")
    assert "every object is put whole" in line and "'govern verify --log'" in line


def test_the_s3_demo_workspace_publishes_and_builds_the_local_demos_log(tmp_path, seaweedfs):
    """make demo-s3's set-up (scripts/demo.py --s3) on the session's SeaweedFS: the copy of the
    reference workspace points at s3://…/.codex/RUNS with a [storage] table for the server; its
    13 runs published and built at the demo's clock give the 24-record log the local demo
    builds, byte for byte (read back by the demo's own reader). The whole demo, ~25 govern
    processes, is too slow for the suite: its commands are run here in-process."""
    import demo

    from govern.config.workspace import load_workspace

    env = seaweedfs.environ()
    workspace = tmp_path / "s3"
    workspace.mkdir()
    runs_url = seaweedfs.url(demo.RUNS_ROOT)  # the key prefix the records name, as on disk
    changed = demo.s3_workspace(workspace, runs_url, seaweedfs.endpoint)
    assert f'runs_root = "{runs_url}"' in changed and f'endpoint_url = "{seaweedfs.endpoint}"' in changed
    loaded = load_workspace(explicit=workspace)
    assert loaded.runs_location == runs_url and not loaded.runs_root_is_local
    assert loaded.config.storage.endpoint_url == seaweedfs.endpoint and loaded.config.storage.allow_http
    runs = sorted(path for path in (workspace / "local-runs").iterdir() if path.is_dir())
    assert len(runs) == 13
    for run in runs:
        published = invoke_cli("-C", workspace, "publish", run, env=env)
        assert published.returncode == 0, published.stderr
    built = invoke_cli("-C", workspace, "delta", "build", "--at", demo.SEED_CLOCK, env=env)
    assert built.returncode == 0, built.stderr

    local = tmp_path / "local"
    local.mkdir()
    demo.copy_reference_workspace(local)
    assert invoke_cli("-C", local, "delta", "build", "--at", demo.SEED_CLOCK).returncode == 0
    on_s3 = demo.committed_log(workspace, env)
    assert on_s3 == demo.committed_log(local, {}) and on_s3.count(b"\n") == 24
