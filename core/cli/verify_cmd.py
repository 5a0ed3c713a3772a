"""``govern verify``: check seals (every file's hash) and, with --log, the delta log's chain."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from govern.cli.output import OkLine
from govern.cli.state import CliState
from govern.errors import ExitCode, GovernError, problem_json
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.config.workspace import Workspace


def _workspace(state: CliState) -> Workspace:
    """The workspace as verify needs it: checking seals and the log never runs a registry
    kind's code, so a kind whose plugin is not installed is only a warning (issue 11)."""
    return state.workspace(needs_kind_plugins=False)


def _resolve_run_dirs(state: CliState, run_dirs: list[Path], all_runs: bool) -> tuple[list[Path], list[str]]:
    """The run folders to verify, and warnings about folders passed over."""
    from govern.cli.run_argument import run_folder
    from govern.runs.listing import list_runs

    warnings: list[str] = []
    targets = [run_folder(state, given) for given in run_dirs]
    if all_runs:
        listing = list_runs(_workspace(state).runs_root)
        targets.extend(listing.runs)
        warnings.extend(f"{name}: not a run folder name (YYYY-MM-DD__HHMMSS__slug); not verified" for name in listing.ignored)
    return targets, warnings


def verify(
    ctx: typer.Context,
    run_dirs: Annotated[
        Optional[list[Path]], typer.Argument(help="Run folders (paths, or run ids in the workspace).", show_default=False)
    ] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Verify every run under the workspace's runs root.")] = False,
    log: Annotated[bool, typer.Option("--log", help="Verify the delta log's append-only history.")] = False,
) -> None:
    """Verify sealed runs: the seal, the manifest, and every file's size and SHA-256.

    Every problem is reported with a stable code (docs/errors.md). Exit 1 if any run fails.
    With --all, folders without a seal are listed as unsealed (a warning: they may still be
    being written) and are not failures; and every snapshot the delta log records must still
    exist with its recorded manifest hash (E_SNAPSHOT_MISSING, E_HISTORY_CONFLICT), unless a
    build acknowledged its loss.

    With --log, also prove the delta log was never rewritten: every build's log begins with
    the previous build's log byte for byte, every line is a canonical, schema-valid record
    linking to its registry's previous record, and every recorded snapshot still carries the
    manifest hash recorded for it.
    """
    from govern.runtime.progress import NO_PROGRESS

    state: CliState = ctx.obj
    host = state.plugins()
    targets, warnings = _resolve_run_dirs(state, list(run_dirs or []), all_runs)
    for warning in warnings:
        state.output.warn(warning)
    # --all over a runs root with no runs is a clean answer ("0 runs"), not a usage error.
    if not targets and not log and not all_runs:
        raise GovernError("E_USAGE", "nothing to verify: give RUN_DIR..., --all or --log")
    reports: list[dict[str, Any]] = []
    lines: list[str] = []
    failed = 0
    with state.output.progress() as progress:
        for run_dir in targets:
            if all_runs and not host.verify_seal(run_dir, False, NO_PROGRESS).sealed:
                state.output.warn(f"{run_dir.name}: unsealed (no MANIFEST.sha256); not verified")
                reports.append({"run_id": run_dir.name, "status": "unsealed", "root_sha256": None, "problems": []})
                continue
            check = host.verify_seal(run_dir, True, progress)
            status = "ok" if check.ok else "failed"
            failed += not check.ok
            files = len(check.manifest.files) if check.manifest else 0
            reports.append(
                {
                    "run_id": run_dir.name,
                    "status": status,
                    "root_sha256": check.root_sha256,
                    "files": files,
                    "problems": [problem_json(p) for p in check.problems],
                }
            )
            if check.ok:
                lines.append(OkLine(f"OK      {run_dir.name}  {plural(files, 'file')}  ROOT_SHA256 {check.root_sha256}"))
            else:
                lines.append(f"FAILED  {run_dir.name}  {plural(len(check.problems), 'problem')}")
                lines.extend(f"  {p}" for p in check.problems)
                from govern.seal.sealing import reseal_staging

                if reseal_staging(run_dir).exists():
                    # A --reseal killed between its two renames: the staged seal pins the new manifest.
                    lines.append(f"  note: an interrupted --reseal is staged beside it; 'govern seal {run_dir}' finishes it")
    # "verified" (the JSON key, kept for compatibility) counts the runs checked, passed or not;
    # people read "verified" as "passed", so the text says how many passed and how many failed.
    verified = sum(1 for r in reports if r["status"] != "unsealed")
    unsealed = len(reports) - verified
    data: dict = {"runs": reports, "verified": verified, "ok": verified - failed, "failed": failed, "unsealed": unsealed}
    if targets or all_runs:
        skipped = f", {unsealed} unsealed (not checked)" if unsealed else ""
        lines.append(f"{plural(len(reports), 'run')}: {verified - failed} ok, {failed} failed{skipped}")
    if all_runs:
        # The seals just checked are not read again: their roots are handed over.
        roots = {report["run_id"]: report["root_sha256"] for report in reports}
        recorded_ok, recorded_data, recorded_lines = _verify_recorded_snapshots(state, roots)
        data["recorded_snapshots"] = recorded_data
        lines.extend(recorded_lines)
        failed += not recorded_ok
    if log:
        log_data, log_lines, log_ok = _verify_log(state)
        data["log"] = log_data
        lines.extend(log_lines)
        failed += not log_ok
    exit_code = ExitCode.PROBLEMS if failed else ExitCode.OK
    state.output.emit(data, lines, exit_code)


def _verify_recorded_snapshots(state: CliState, roots: dict[str, str | None]) -> tuple[bool, dict, list[str]]:
    """--all: every snapshot the delta log records still exists with its recorded manifest hash
    (a deleted or re-sealed one fails; a loss a build acknowledged is listed, not a failure)."""
    from govern.log.recorded_snapshots import check_recorded_snapshots

    workspace = _workspace(state)
    artifact = workspace.config.workspace.delta_log_artifact
    problems, lost = check_recorded_snapshots(workspace.runs_root, state.plugins(), artifact, roots)
    lines = [f"FAILED  recorded snapshot {p.where}: {p.code}: {p.message}" for p in problems]
    lines.extend(f"LOST    recorded snapshot {where}: no longer exists (loss acknowledged by a delta-log build)" for where in lost)
    data = {
        "problems": [problem_json(p) for p in problems],
        "acknowledged_missing": lost,
    }
    return not problems, data, lines


def _verify_log(state: CliState) -> tuple[dict, list[str], bool]:
    """Run the delta-log chain check; its JSON, its text lines, and whether it passed."""
    from govern.log.validation import delta_record_checker
    from govern.log.verification import verify_log

    with state.output.progress() as progress:
        result = verify_log(_workspace(state), state.plugins(), validate=delta_record_checker(), progress=progress)
    lines = []
    for build in result.builds:
        if build.problems:
            lines.append(f"FAILED  {build.run_id}  {plural(len(build.problems), 'problem')}")
            lines.extend(f"  {p}" for p in build.problems)
        else:
            lines.append(OkLine(f"OK      {build.run_id}  {plural(build.records, 'record')}  ROOT_SHA256 {build.root_sha256}"))
    lines.extend(f"  {p}" for p in result.snapshot_problems)
    lines.extend(f"  lost (acknowledged): {where}" for where in result.acknowledged_missing)
    status = "intact" if result.ok else "NOT intact"
    lines.append(f"delta log {status}: {plural(len(result.builds), 'build')}, {plural(result.records, 'record')}")
    data = {
        "ok": result.ok,
        "records": result.records,
        "builds": [
            {
                "run_id": b.run_id,
                "root_sha256": b.root_sha256,
                "records": b.records,
                "problems": [problem_json(p) for p in b.problems],
            }
            for b in result.builds
        ],
        "snapshot_problems": [problem_json(p) for p in result.snapshot_problems],
        "acknowledged_missing": list(result.acknowledged_missing),
    }
    return data, lines, result.ok


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("verify", short_help="Verify sealed runs, or the delta log with --log")(verify)
