"""`make demo`: the main job of govern on the built-in reference workspace.

Copies the reference workspace (registry_config.toml, schemas/, governance/, .codex/RUNS/)
to a scratch directory — the git tree stays clean — then builds the registry delta log at the
seed report's moment (2026-02-05T03:10:05Z, so the build run is named exactly as in the seed),
verifies every seal and the log's append-only chain, and shows what was recorded.
Every step is a real `govern` command, printed before it runs. The scratch directory is
deleted at the end, so the demo never prints a path into it: commands run inside the copy and
name files relative to it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOVERN = Path(sys.executable).with_name("govern")
SEED_CLOCK = "2026-02-05T03:10:05Z"
WORKSPACE_PARTS = ("registry_config.toml", "schemas", "governance", ".codex/RUNS")


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


def step(title: str, *args: str, workspace: Path, expect: int = 0) -> None:
    """Run one govern command in ``workspace``, echoing it; stop the demo if it fails."""
    print(f"\n== {title}\n$ govern {shlex.join(args)}", flush=True)
    result = subprocess.run([str(GOVERN), *args], cwd=workspace)
    if result.returncode != expect:
        sys.exit(f"demo: `govern {shlex.join(args)}` exited {result.returncode}, expected {expect}")


def main() -> None:
    """Run the demo in a scratch copy of the reference workspace."""
    if not (REPO / "registry_config.toml").is_file():
        sys.exit("demo: the reference workspace is missing (python scripts/make_reference_workspace.py)")
    with tempfile.TemporaryDirectory(prefix="govern-demo-") as scratch:
        workspace = Path(scratch) / "workspace"
        workspace.mkdir()
        copy_reference_workspace(workspace)
        print("reference workspace copied to a scratch directory (deleted when the demo ends); every command runs there")
        step("Registries and how govern treats them", "registry", "list", workspace=workspace)
        step("Build the registry delta log at the seed's moment", "delta", "build", "--at", SEED_CLOCK, workspace=workspace)
        step("Building again changes nothing (idempotent)", "delta", "build", "--at", SEED_CLOCK, workspace=workspace)
        step("Verify every seal and the log's append-only chain", "verify", "--all", "--log", workspace=workspace)
        step("History of one registry", "delta", "show", "--registry", "drift_signals", workspace=workspace)
        step("The governance scorecard: derived, with the previous version's figures", "governance", "scorecard", workspace=workspace)
        step("Recompute every derived governance figure", "governance", "check", workspace=workspace)
        # Relative to the workspace copy (the commands' working directory), so what govern
        # prints ("wrote reports/…") is not a path into the scratch directory.
        reports = Path("reports")
        (workspace / reports).mkdir()
        for name in ("validation", "completion"):
            out = reports / f"PHASE_2_2_3_{name.upper()}_REPORT.md"
            step(f"The {name} report (every number derived, every criterion with its evidence)", "report", name, "--out", str(out), workspace=workspace)
        completion = reports / "PHASE_2_2_3_COMPLETION_REPORT.md"
        print(f"\n== The completion report ({completion})\n", flush=True)
        print((workspace / completion).read_text(encoding="utf-8"))
        print("\nThe build run is sealed like any run; coreutils alone can check it:")
        build = next((workspace / ".codex/RUNS").glob("*__registry_delta_log_build"))
        print(f"$ (cd {build.name} && sha256sum -c --strict MANIFEST.sha256)", flush=True)
        subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=build, check=True)


if __name__ == "__main__":
    main()
