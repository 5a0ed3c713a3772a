"""``govern verify``: check seals (every file's hash) and, with --log, the delta log's chain."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.output import OkLine
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.cli.verify_lines import run_ok_line, runs_summary_line
from govern.errors import ExitCode, GovernError, Problem, problem_json
from govern.format.plurals import plural
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.cli.attest_cmd import AttestationCheck
    from govern.config.workspace import Workspace
    from govern.format.manifest import SealCheck
    from govern.log.checkpoints import CheckpointVerification, TreeHeadCheck
    from govern.log.verification import LogVerification
    from govern.runs.run_store import RunStore
    from govern.runtime.progress import Progress


def _workspace(state: CliState) -> Workspace:
    """The workspace as verify needs it: checking seals and the log never runs a registry
    kind's code, so a kind whose plugin is not installed is only a warning (issue 11)."""
    return state.workspace(needs_kind_plugins=False)


def _resolve_run_dirs(state: CliState, run_dirs: list[Path], all_runs: bool, changed: bool = False) -> tuple[list[Path | str], list[str]]:
    """The runs to verify — run folders, or the ids of runs in an object-storage runs root —
    and warnings about folders passed over. With ``changed``, ``run_dirs`` are the changed
    paths of a commit and the runs are those holding them."""
    from govern.cli.run_argument import run_folder, stored_run_id

    if changed:
        return _changed_run_dirs(state, run_dirs)
    warnings: list[str] = []
    targets: list[Path | str] = [stored_run_id(state, given) or run_folder(state, given) for given in run_dirs]
    if all_runs and _workspace(state).runs_root_is_local:  # object storage: _verify_stored_runs
        listing = workspace_runs(_workspace(state)).list_runs()
        targets.extend(listing.runs)
        warnings.extend(_not_runs(listing.ignored))
    return targets, warnings


def _changed_run_dirs(state: CliState, paths: list[Path]) -> tuple[list[Path | str], list[str]]:
    """--changed: the folders of the runs holding any of ``paths``; paths in no run are
    ignored, and a run whose folder is gone (deleted whole) is a warning, not a failure: the
    hook cannot see a deletion, and ``verify --all`` reports a recorded snapshot that is gone."""
    from govern.cli.changed_argument import changed_runs_of, changed_workspace

    runs_root, changed = changed_runs_of(changed_workspace(state, needs_kind_plugins=False), paths)
    targets: list[Path | str] = []
    warnings: list[str] = []
    for run_id in changed.run_ids:
        folder = runs_root / run_id
        if folder.is_dir():
            targets.append(folder)
        else:
            warnings.append(f"{run_id}: no such run folder (deleted whole?); not verified ('govern verify --all' reports a recorded snapshot that is gone)")
    return targets, warnings


def _not_runs(names: tuple[str, ...]) -> list[str]:
    """The warnings for names of the runs root that are not runs."""
    return [f"{name}: not a run folder name (YYYY-MM-DD__HHMMSS__slug); not verified" for name in names]


@attrs.frozen
class RunVerification:
    """One run as ``verify`` saw it: ok, failed (with its problems) or unsealed (not checked)."""

    #: The run folder, or for a run in object storage its URL (``s3://bucket/prefix/<run id>``).
    run_dir: Path | str
    status: str
    root_sha256: str | None = None
    files: int = 0
    problems: tuple[Problem, ...] = ()
    #: A ``--reseal`` killed between its two renames left a staged seal beside the run.
    reseal_staged: bool = False

    @property
    def run_id(self) -> str:
        """The run's id (its folder's name)."""
        return PurePosixPath(self.run_dir).name


@attrs.frozen
class RecordedSnapshotsCheck:
    """``verify --all``: recorded snapshots that are missing or re-sealed, and acknowledged losses."""

    problems: tuple[Problem, ...]
    acknowledged_missing: tuple[str, ...]


@attrs.frozen
class VerifyResult(CommandResult):
    """What ``govern verify`` found: per run, and with --all / --log the log's checks."""

    runs: tuple[RunVerification, ...]
    #: Whether runs were asked for (RUN_DIR… or --all): then a summary line is shown.
    runs_asked: bool
    recorded: RecordedSnapshotsCheck | None = None
    log: LogVerification | None = None
    #: With --all: delta-log build runs that were never committed (no head, or no seal):
    #: leftovers of a lost race or a crash, reported, removed by ``govern gc``.
    uncommitted_builds: tuple[str, ...] | None = None
    #: With --attestation: the attestation checked (a failure is an error, E_ATTESTATION_INVALID).
    attestation: AttestationCheck | None = None
    #: With --log: the checkpoints given (--checkpoint) and the builds' stored tree heads.
    checkpoints: CheckpointVerification | None = None

    @property
    def verified(self) -> int:
        """How many runs were checked, passed or not (unsealed runs are not)."""
        return sum(1 for run in self.runs if run.status != "unsealed")

    @property
    def failed(self) -> int:
        """How many runs failed their check."""
        return sum(1 for run in self.runs if run.status == "failed")

    @property
    def exit_code(self) -> int:
        """1 when a run, a recorded snapshot or the log failed."""
        recorded_failed = self.recorded is not None and bool(self.recorded.problems)
        log_failed = self.log is not None and not self.log.ok
        log_failed = log_failed or (self.checkpoints is not None and not self.checkpoints.ok)
        return ExitCode.PROBLEMS if self.failed or recorded_failed or log_failed else ExitCode.OK


def verify(
    ctx: typer.Context,
    run_dirs: Annotated[
        Optional[list[Path]], typer.Argument(help="Run folders (paths, or run ids in the workspace); with --changed, changed files.", show_default=False)
    ] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Verify every run under the workspace's runs root.")] = False,
    log: Annotated[bool, typer.Option("--log", help="Verify the delta log's append-only history.")] = False,
    checkpoints: Annotated[
        Optional[list[Path]],
        typer.Option("--checkpoint", help="With --log: a checkpoint handed out earlier (a signed note); the log must extend it. Repeatable.", show_default=False),
    ] = None,
    vkeys: Annotated[
        Optional[list[str]],
        typer.Option(
            "--vkey", metavar="KEY", help="A verifier key (its text, or a file holding it) for --checkpoint or --attestation. Repeatable.", show_default=False
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="With --all, exit 1 (E_STRICT, after the report) when uncommitted build runs are left over.")
    ] = False,
    attestation: Annotated[
        Optional[Path],
        typer.Option("--attestation", metavar="FILE", help="Check a 'govern attest' envelope and that the run's files still match it."),
    ] = None,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="The arguments are changed files (relative to the current directory, as a git hook passes them): verify the runs holding any of them.",
        ),
    ] = False,
) -> None:
    """Verify sealed runs: the seal, the manifest, and every file's size and SHA-256.

    Every problem is reported with a stable code (docs/errors.md). Exit 1 if any run fails.
    With --all, folders without a seal are listed as unsealed (a warning: they may still be
    being written) and are not failures; and every snapshot the delta log records must still
    exist with its recorded manifest hash (E_SNAPSHOT_MISSING, E_HISTORY_CONFLICT), unless a
    build acknowledged its loss. Delta-log build runs never committed (no head object: a lost
    race or a crash) are listed as leftovers — a warning, a failure only with --strict;
    'govern gc --older-than D' removes them.

    With --log, also prove the delta log was never rewritten: every build's log begins with
    the previous build's log byte for byte, every line is a canonical, schema-valid record
    linking to its registry's previous record, and every recorded snapshot still carries the
    manifest hash recorded for it; and every build's stored tree head (its checkpoint, its
    run.json's outputs.log_tree) is the tree of the latest log at its size.

    With --log --checkpoint FILE... --vkey KEY...: each checkpoint must be signed by a known key
    (unknown signers are ignored, a known signer's bad signature rejects it), name this log's
    origin, and the log's Merkle tree at its size must have its root — so the log now extends
    every checkpoint handed out, even if every file of the runs root was rewritten (exit 1,
    E_LOG_DIVERGED, naming the checkpoint and where history diverges; docs/transparency.md).

    With --attestation FILE --vkey KEY [RUN], check an attestation instead: its signature, and
    that every file it names still has the SHA-256 it names (re-hashed from the run: RUN, else
    the run the attestation names in the workspace). Exit 1, E_ATTESTATION_INVALID, otherwise.

    With --changed PATH...: the paths are files changed in a commit, relative to the current
    directory (pre-commit passes them from the repository's root; docs/ci.md): every run of
    the runs root holding one of them is verified; paths in no run are ignored; an unsealed
    run and a run whose folder is gone are warnings, as with --all.
    """
    state: CliState = ctx.obj
    if changed and (all_runs or attestation is not None):
        raise GovernError("E_USAGE", "--changed verifies the runs holding the paths given: not with --all or --attestation")
    if attestation is not None:
        if all_runs or log or checkpoints or len(run_dirs or []) > 1:
            raise GovernError("E_USAGE", "--attestation checks one run: give at most one RUN, and not --all, --log or --checkpoint")
        from govern.cli.attest_cmd import verify_attestation

        checked = verify_attestation(state, attestation, list(vkeys or []), str(run_dirs[0]) if run_dirs else None)
        state.output.show(VerifyResult((), runs_asked=False, attestation=checked))
        return
    result = run_verify(state, list(run_dirs or []), all_runs, log, checkpoints=list(checkpoints or []), vkeys=list(vkeys or []), changed=changed)
    state.output.show(result)
    if strict and result.uncommitted_builds:
        from govern.cli.strict import fail_if_strict

        fail_if_strict(0, 0, len(result.uncommitted_builds))


def run_verify(
    state: CliState,
    run_dirs: list[Path],
    all_runs: bool,
    log: bool,
    *,
    checkpoints: list[Path] | None = None,
    vkeys: list[str] | None = None,
    changed: bool = False,
) -> VerifyResult:
    """Check the runs asked for (and with --all the recorded snapshots, with --log the log and
    its tree heads: the builds' own and the ``checkpoints`` given, opened with ``vkeys``);
    with ``changed``, ``run_dirs`` are changed files and the runs those holding them."""
    from govern.runtime.progress import NO_PROGRESS
    from govern.seal.sealing import reseal_staging

    if (checkpoints or vkeys) and not log:
        raise GovernError("E_USAGE", "--checkpoint and --vkey check the delta log: give them with --log")
    if checkpoints and not vkeys:
        raise GovernError("E_USAGE", "--checkpoint needs --vkey KEY: a checkpoint means nothing until a trusted key's signature is checked")
    given = _checkpoint_inputs(checkpoints or [], vkeys or []) if log else None
    host = state.plugins()
    targets, warnings = _resolve_run_dirs(state, run_dirs, all_runs, changed)
    for warning in warnings:
        state.output.warn(warning)
    # --all over a runs root with no runs is a clean answer ("0 runs"), not a usage error;
    # so is --changed when no changed file is in a run (a commit that touches no run).
    if not targets and not log and not all_runs and not changed:
        raise GovernError("E_USAGE", "nothing to verify: give RUN_DIR..., --all or --log")
    runs: list[RunVerification] = []
    with state.output.progress() as progress:
        for run_dir in targets:
            if isinstance(run_dir, str):  # a run id in an object-storage runs root
                holder = _workspace(state)
                runs.append(_verify_stored_run(workspace_runs(holder), holder.run_location(run_dir), run_dir, progress))
                continue
            if (all_runs or changed) and not host.verify_seal(run_dir, False, NO_PROGRESS).sealed:
                state.output.warn(f"{run_dir.name}: unsealed (no MANIFEST.sha256); not verified")
                runs.append(RunVerification(run_dir, "unsealed"))
                continue
            check = host.verify_seal(run_dir, True, progress)
            runs.append(
                RunVerification(
                    run_dir,
                    "ok" if check.ok else "failed",
                    root_sha256=check.root_sha256,
                    files=len(check.manifest.files) if check.manifest else 0,
                    problems=tuple(check.problems),
                    reseal_staged=not check.ok and reseal_staging(run_dir).exists(),
                )
            )
    workspace = _workspace(state) if all_runs else None
    listed = None
    if workspace is not None and not workspace.runs_root_is_local:
        stored = _verify_stored_runs(state, workspace)
        runs.extend(stored)
        listed = [run.run_id for run in stored]  # object storage: the one listing is reused
    recorded = leftovers = None
    if all_runs:
        from govern.log.delta_log import uncommitted_builds

        # The seals just checked are not read again: their roots are handed over.
        recorded = _verify_recorded_snapshots(state, {run.run_id: run.root_sha256 for run in runs}, listed)
        leftovers = tuple(uncommitted_builds(workspace_runs(_workspace(state)), listed))
        for run_id in leftovers:
            state.output.warn(f"{run_id}: a delta-log build run never committed (no head object): a leftover; 'govern gc --older-than D' removes it")
    log_check = _verify_log(state) if log else None
    heads = None
    if log_check is not None and given is not None:
        heads = _verify_tree_heads(state, *given, builds=[build.run_id for build in log_check.builds])
    return VerifyResult(
        tuple(runs),
        runs_asked=bool(targets or all_runs or changed),
        recorded=recorded,
        log=log_check,
        uncommitted_builds=leftovers,
        checkpoints=heads,
    )


def _checkpoint_inputs(paths: list[Path], vkeys: list[str]) -> tuple[list[tuple[str, bytes]], list[Any]]:
    """The checkpoint files' bytes and the verifier keys, read before any check runs, so a
    missing file or a bad key is a usage error (exit 2), not a half-made report."""
    from govern.config.keys import load_verifiers
    from govern.log.checkpoints import read_checkpoint_files

    return read_checkpoint_files(paths), list(load_verifiers(vkeys))


def _verify_tree_heads(state: CliState, given: list[tuple[str, bytes]], verifiers: list[Any], *, builds: list[str]) -> CheckpointVerification:
    """Hold the checkpoints given and the stored tree heads of ``builds`` (the committed builds
    ``verify --log`` checked) to the current log."""
    from govern.log.checkpoints import verify_checkpoints

    return verify_checkpoints(_workspace(state), given, verifiers, builds)


def _verify_stored_runs(state: CliState, workspace: Workspace) -> list[RunVerification]:
    """--all on object storage: every run of the store, its seal and every object streamed
    and hashed against the manifest (threads); an unsealed run is listed, not checked."""
    from govern.log.gc import abandoned_uploads

    store = workspace_runs(workspace)
    checked: list[RunVerification] = []
    listing = store.list_runs()  # one listing of the runs root
    for warning in _not_runs(listing.ignored):
        state.output.warn(warning)
    for name, _moment in abandoned_uploads(listing.staging):
        state.output.warn(f"{name}: the temporary object of a large upload (a publish or build cut short, or one in flight); 'govern gc --older-than D' removes it once old")
    with state.output.progress() as progress:
        for run_id, check in store.check_stored_runs(listing.names, progress):
            where = workspace.run_location(run_id)
            if check is None:
                if not store.exists(run_id):
                    continue  # a name with no object left under it (see RunStore.exists): no run
                state.output.warn(f"{run_id}: unsealed (no MANIFEST.sha256); not verified")
                checked.append(RunVerification(where, "unsealed"))
                continue
            checked.append(_stored_verification(where, check))
    return checked


def _verify_stored_run(store: RunStore, where: str, run_id: str, progress: Progress) -> RunVerification:
    """One run of an object-storage runs root: its seal, and every object streamed and hashed
    against the manifest."""
    return _stored_verification(where, store.check_stored_run(run_id, progress))


def _stored_verification(where: str, check: SealCheck) -> RunVerification:
    """The verification line of a run checked in its object store."""
    files = len(check.manifest.files) if check.manifest else 0
    return RunVerification(where, "ok" if check.ok else "failed", root_sha256=check.root_sha256, files=files, problems=tuple(check.problems))


def _verify_recorded_snapshots(state: CliState, roots: dict[str, str | None], run_ids: list[str] | None = None) -> RecordedSnapshotsCheck:
    """--all: every snapshot the delta log records still exists with its recorded manifest hash
    (a deleted or re-sealed one fails; a loss a build acknowledged is listed, not a failure)."""
    from govern.log.recorded_snapshots import check_recorded_snapshots

    workspace = _workspace(state)
    artifact = workspace.config.workspace.delta_log_artifact
    problems, lost = check_recorded_snapshots(workspace_runs(workspace), artifact, roots, run_ids)
    return RecordedSnapshotsCheck(tuple(problems), tuple(lost))


def _verify_log(state: CliState) -> LogVerification:
    """Run the delta-log chain check."""
    from govern.log.validation import delta_record_checker
    from govern.log.verification import verify_log

    with state.output.progress() as progress:
        return verify_log(_workspace(state), state.plugins(), validate=delta_record_checker(), progress=progress)


@text_renderer(VerifyResult)
def verify_text(result: VerifyResult) -> list[str]:
    """One line per run checked (its problems indented), the summary, then the log's checks."""
    lines: list[str] = []
    for run in result.runs:
        if run.status == "ok":
            lines.append(OkLine(run_ok_line(run.run_id, run.files, run.root_sha256)))
        elif run.status == "failed":
            lines.append(f"FAILED  {run.run_id}  {plural(len(run.problems), 'problem')}")
            lines.extend(f"  {p}" for p in run.problems)
            if run.reseal_staged:
                # A --reseal killed between its two renames: the staged seal pins the new manifest.
                lines.append(f"  note: an interrupted --reseal is staged beside it; 'govern seal {run.run_dir}' finishes it")
    if result.runs_asked:
        unsealed = len(result.runs) - result.verified
        lines.append(runs_summary_line(len(result.runs), result.verified - result.failed, result.failed, unsealed))
    if result.recorded is not None:
        lines.extend(f"FAILED  recorded snapshot {p.where}: {p.code}: {p.message}" for p in result.recorded.problems)
        lines.extend(
            f"LOST    recorded snapshot {where}: no longer exists (loss acknowledged by a delta-log build)"
            for where in result.recorded.acknowledged_missing
        )
    if result.log is not None:
        lines.extend(_log_text(result.log, result.checkpoints))
    if result.attestation is not None:
        from govern.cli.attest_cmd import attestation_check_lines

        lines.extend(attestation_check_lines(result.attestation))
    if result.checkpoints is not None:
        lines.extend(_given_checkpoints_text(result.checkpoints))
    return lines


def _head_lines(heads: Sequence[TreeHeadCheck]) -> list[str]:
    """One line per tree head (its problems indented)."""
    lines: list[str] = []
    for head in heads:
        if head.problems:
            lines.append(f"FAILED  {head.source}")
            lines.extend(f"  {p}" for p in head.problems)
        else:
            signed = f", signed by {', '.join(head.signed_by)}" if head.signed_by else ""
            lines.append(OkLine(f"OK      {head.source}  size {head.size}, the log extends it{signed}"))
    return lines


def _stored_heads_text(found: CheckpointVerification) -> list[str]:
    """The builds' own tree heads: each one that fails, or one line for all (two per build:
    a line each would double the log's report)."""
    failed = [head for head in found.stored if head.problems]
    if failed:
        return _head_lines(failed)
    if not found.stored:
        return []
    return [OkLine(f"OK      tree heads  {plural(len(found.stored), 'stored tree head')} (checkpoint, run.json log_tree): the log extends each")]


def _given_checkpoints_text(found: CheckpointVerification) -> list[str]:
    """One line per checkpoint given, then whether the log extends them all."""
    if not found.given:
        return []
    status = "extends" if all(head.ok for head in found.given) else "does NOT extend"
    now = f" ({plural(found.records, 'record')} now)" if found.records is not None else ""
    return [*_head_lines(found.given), f"delta log {status} {plural(len(found.given), 'checkpoint')} given{now}"]


def _log_text(log: LogVerification, heads: CheckpointVerification | None) -> list[str]:
    """The builds' chain, the head chain, the builds' tree heads, then whether the log is intact."""
    lines: list[str] = []
    for build in log.builds:
        if build.problems:
            lines.append(f"FAILED  {build.run_id}  {plural(len(build.problems), 'problem')}")
            lines.extend(f"  {p}" for p in build.problems)
        else:
            lines.append(OkLine(f"OK      {build.run_id}  {plural(build.records, 'record')}  ROOT_SHA256 {build.root_sha256}"))
    lines.extend(f"  {p}" for p in log.snapshot_problems)
    if log.head_problems:
        lines.append(f"FAILED  head chain  {plural(len(log.head_problems), 'problem')}")
        lines.extend(f"  {p}" for p in log.head_problems)
    elif log.heads:
        lines.append(OkLine(f"OK      head chain  _log/ genesis and {plural(log.heads - 1, 'commit')}, linked, each matching its build's seal"))
    lines.extend(f"  lost (acknowledged): {where}" for where in log.acknowledged_missing)
    if heads is not None:
        lines.extend(_stored_heads_text(heads))
    intact = log.ok and (heads is None or all(head.ok for head in heads.stored))
    status = "intact" if intact else "NOT intact"
    lines.append(f"delta log {status}: {plural(len(log.builds), 'build')}, {plural(log.records, 'record')}")
    return lines


@json_renderer(VerifyResult)
def verify_json(result: VerifyResult) -> dict[str, Any]:
    """``runs`` with the counts; ``recorded_snapshots`` with --all; ``log`` with --log; ``attestation`` with --attestation."""
    data: dict[str, Any] = {
        "runs": [_run_json(run) for run in result.runs],
        "verified": result.verified,
        "ok": result.verified - result.failed,
        "failed": result.failed,
        "unsealed": len(result.runs) - result.verified,
    }
    if result.recorded is not None:
        data["recorded_snapshots"] = {
            "problems": [problem_json(p) for p in result.recorded.problems],
            "acknowledged_missing": list(result.recorded.acknowledged_missing),
        }
    if result.uncommitted_builds is not None:
        data["uncommitted_builds"] = list(result.uncommitted_builds)
    if result.log is not None:
        log = result.log
        data["log"] = {
            "ok": log.ok,
            "records": log.records,
            "builds": [
                {
                    "run_id": b.run_id,
                    "root_sha256": b.root_sha256,
                    "records": b.records,
                    "problems": [problem_json(p) for p in b.problems],
                }
                for b in log.builds
            ],
            "snapshot_problems": [problem_json(p) for p in log.snapshot_problems],
            "acknowledged_missing": list(log.acknowledged_missing),
            "heads": log.heads,
            "head_problems": [problem_json(p) for p in log.head_problems],
        }
    if result.attestation is not None:
        from govern.cli.attest_cmd import attestation_check_json

        data["attestation"] = attestation_check_json(result.attestation)
    if result.checkpoints is not None:
        data["checkpoints"] = {
            "ok": result.checkpoints.ok,
            "records": result.checkpoints.records,
            "given": [_tree_head_json(head) for head in result.checkpoints.given],
            "stored": [_tree_head_json(head) for head in result.checkpoints.stored],
        }
    return data


def _tree_head_json(head: TreeHeadCheck) -> dict[str, Any]:
    """A tree head as the agreed checkpoint JSON (``origin``, ``size``, base64 ``root``,
    ``signed_by``), with where it came from and its problems."""
    import base64

    return {
        "source": head.source,
        "origin": head.origin,
        "size": head.size,
        "root": base64.b64encode(head.root).decode("ascii") if head.root is not None else None,
        "signed_by": list(head.signed_by),
        "ok": head.ok,
        "problems": [problem_json(p) for p in head.problems],
    }


def _run_json(run: RunVerification) -> dict[str, Any]:
    if run.status == "unsealed":
        return {"run_id": run.run_id, "status": "unsealed", "root_sha256": None, "problems": []}
    return {
        "run_id": run.run_id,
        "status": run.status,
        "root_sha256": run.root_sha256,
        "files": run.files,
        "problems": [problem_json(p) for p in run.problems],
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("verify", short_help="Verify sealed runs, or the delta log with --log")(verify)
