"""``govern delta build | show``: append to the sealed delta log, and query it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.checkpoint_json import checkpoint_json, checkpoint_line
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import GovernError
from govern.format.plurals import plural
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.log.build import BuildPlan
    from govern.log.query import Transition
    from govern.log.registry_snapshots import TakenSnapshot

delta_app = typer.Typer(help="The append-only, sealed registry delta log.", no_args_is_help=True)


@attrs.frozen
class DeltaBuildResult(CommandResult):
    """What ``delta build`` did (or, with --dry-run, would do): the plan, and the new build's
    ROOT_SHA256 when one was written."""

    plan: BuildPlan
    dry_run: bool
    root_sha256: str | None
    #: Who signed the checkpoint the build wrote: the signing key's name, None for an
    #: unsigned checkpoint (and when no run was written).
    signed_by: str | None = None
    #: The collection index runs written first (``--snapshot-collections``; None without it).
    collection_snapshots: tuple[TakenSnapshot, ...] | None = None


@text_renderer(DeltaBuildResult)
def delta_build_text(result: DeltaBuildResult) -> list[str]:
    """What was appended, the decisions recorded, one line per registry, the new root."""
    plan, dry_run = result.plan, result.dry_run
    lines = [
        f"{taken.run_id}: collection index of {taken.registry_id} written (ROOT_SHA256 {taken.root_sha256})"
        for taken in result.collection_snapshots or ()
    ]
    if plan.up_to_date:
        lines.append(f"up to date: nothing new since {plan.previous.run_id if plan.previous else 'the start'}; no run created")
    else:
        appended, holds = ("would append", "would hold") if dry_run else ("appended", "holds")
        lines.append(f"{plan.run_id}: {appended} {plural(len(plan.records), 'record')}; the log {holds} {plan.state.records_total}")
    for decision in plan.accepted_late:
        lines.append(f"accepted late snapshot {decision.run_id} for {decision.registry_id}: {decision.reason}")
    for decision in plan.acknowledged_missing:
        lines.append(f"acknowledged lost snapshot {decision.run_id} of {decision.registry_id}: {decision.reason}")
    if plan.enforced:
        lines.append(f"policies enforced: {plural(len(plan.allowed_violations), 'violation')} allowed by the operator")
    for allowed in plan.allowed_violations:
        lines.append(f"allowed violation {allowed.violation.violation_id}: {allowed.reason}")
    covered = [o for o in plan.outcomes if o.status == "covered"]
    excluded = [o for o in plan.outcomes if o.status == "excluded"]
    skipped = [o for o in plan.outcomes if o.status == "skipped"]
    lines.append(f"{plural(len(plan.outcomes), 'registry', 'registries')}: {len(covered)} covered, {len(skipped)} skipped, {len(excluded)} excluded by design")
    for outcome in covered:
        unknown = f", {outcome.unknown} unknown" if outcome.unknown else ""
        pending = f", {len(outcome.pending)} pending behind the active pointer" if outcome.pending else ""
        late = f", {len(outcome.late)} late (not recorded)" if outcome.late else ""
        lines.append(
            f"  {outcome.registry_id:<28} {plural(outcome.records_total, 'record'):>12}  "
            f"(+{outcome.bootstrap} bootstrap, +{plural(outcome.transitions, 'transition')}{unknown}{pending}{late})"
        )
    for outcome in skipped:
        lines.append(f"  {outcome.registry_id:<28} skipped: {outcome.reason}")
    for outcome in excluded:
        lines.append(f"  {outcome.registry_id:<28} excluded by design: {outcome.reason}")
    if result.root_sha256:
        lines.append(f"ROOT_SHA256 {result.root_sha256}")
    if result.root_sha256:
        lines.append(checkpoint_line(plan.checkpoint, _signed_by(result)))
    return lines


@json_renderer(DeltaBuildResult)
def delta_build_json(result: DeltaBuildResult) -> dict[str, Any]:
    """The build's run id and root, the counts, per registry outcome, the runs passed over;
    with --dry-run the records that would be appended."""
    plan, dry_run = result.plan, result.dry_run
    data: dict[str, Any] = {
        "run_id": None if plan.up_to_date or dry_run else plan.run_id,
        "dry_run": dry_run,
        "up_to_date": plan.up_to_date,
        "root_sha256": result.root_sha256,
        "records_appended": len(plan.records),
        "records_total": plan.state.records_total,
        "covered": sum(o.status == "covered" for o in plan.outcomes),
        "skipped": sum(o.status == "skipped" for o in plan.outcomes),
        "excluded": sum(o.status == "excluded" for o in plan.outcomes),
        "registries": [o.to_json() for o in plan.outcomes],
        "unsealed_runs": list(plan.unsealed_runs),
        "late_runs": list(plan.late_runs),
        "accepted_late": [decision.to_json() for decision in plan.accepted_late],
        "acknowledged_missing": [decision.to_json() for decision in plan.acknowledged_missing],
        "enforced": plan.enforced,
        "allowed_violations": [allowed.to_json() for allowed in plan.allowed_violations],
    }
    if dry_run:
        data["would_append"] = [record.to_json() for record in plan.records]
    if result.collection_snapshots is not None:
        data["collection_snapshots"] = [attrs.asdict(taken) for taken in result.collection_snapshots]
    data["checkpoint"] = checkpoint_json(plan.checkpoint, _signed_by(result)) if result.root_sha256 else None
    return data


def _signed_by(result: DeltaBuildResult) -> list[str]:
    """The key names that signed the build's checkpoint (none: unsigned)."""
    return [result.signed_by] if result.signed_by else []


#: How many times ``delta build --retry`` plans again after losing the commit race.
RACE_RETRIES = 5


@delta_app.command("build", short_help="Append the records of every new snapshot transition")
def build(
    ctx: typer.Context,
    registry: Annotated[
        Optional[list[str]], typer.Option("--registry", metavar="ID", help="Build only this registry (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be appended; write nothing.")] = False,
    allow_unknown: Annotated[
        bool,
        typer.Option(
            "--allow-unknown",
            help="Record snapshots whose seal fails, and unsealed legacy folders, with basis 'unknown' instead of stopping.",
        ),
    ] = False,
    at: Annotated[Optional[str], typer.Option("--at", metavar="T", help="Build clock, YYYY-MM-DDTHH:MM:SSZ.")] = None,
    accept_late: Annotated[
        Optional[list[str]],
        typer.Option(
            "--accept-late",
            metavar="RUN",
            help="Record this late snapshot (ordered before its registry's last recorded one) as the next transition (repeatable; needs --reason).",
        ),
    ] = None,
    acknowledge_missing: Annotated[
        Optional[list[str]],
        typer.Option(
            "--acknowledge-missing",
            metavar="RUN",
            help="Acknowledge that this recorded snapshot is lost for good, so the log can continue (repeatable; needs --reason).",
        ),
    ] = None,
    enforce: Annotated[
        bool,
        typer.Option(
            "--enforce",
            help="Judge the records the build would append by the policies of registry_config.toml; any violation: exit 1, nothing written.",
        ),
    ] = False,
    allow: Annotated[
        Optional[list[str]],
        typer.Option(
            "--allow",
            metavar="VIOLATION-ID",
            help="With --enforce: override this one violation (repeatable; needs --reason; recorded in the build's run.json).",
        ),
    ] = None,
    reason: Annotated[
        Optional[str], typer.Option("--reason", metavar="TEXT", help="Why: recorded in the build's run.json with the decision.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 (E_STRICT, after the summary) when there are unsealed or late runs (for CI).")
    ] = False,
    key: Annotated[
        Optional[Path],
        typer.Option("--key", metavar="FILE", help="Sign the build's checkpoint, and attest the build, with this signer key file (default: the file GOVERN_SIGNING_KEY names)."),
    ] = None,
    retry: Annotated[
        bool,
        typer.Option(
            "--retry", help=f"When another build commits first (E_COMMIT_RACE_LOST), rebuild on the new head (up to {RACE_RETRIES} times)."
        ),
    ] = False,
    snapshot_collections: Annotated[
        bool,
        typer.Option(
            "--snapshot-collections",
            help="First write a collection index run of every configured collection whose members changed since its latest index.",
        ),
    ] = False,
) -> None:
    """Append the records of every new snapshot transition to the delta log, as a new sealed run.

    Nothing new: "up to date", exit 0, no run. A snapshot whose seal fails stops the build
    (exit 1) unless --allow-unknown. A recorded snapshot that changed is a history conflict,
    and one that no longer exists stops the build naming every such snapshot, unless its loss
    is acknowledged (--acknowledge-missing RUN --reason TEXT); exit 1, nothing written. A late
    snapshot (ordered before its registry's last recorded one) is reported, not recorded,
    and blocks nothing; --accept-late RUN --reason TEXT records it as the next transition.
    Another build committing first exits 3 (E_COMMIT_RACE_LOST), this one taken back; with
    --retry the build is planned again on the new head. The build's run holds the log's
    checkpoint, signed with --key or GOVERN_SIGNING_KEY, unsigned (and said so) without; with a
    signer key the build run is also published with its own attestation
    (attestation.dsse.json, docs/attestations.md). With --snapshot-collections the index runs
    of the configured collections whose members changed are written first, at the build's
    clock (docs/registry-kinds.md (collection)). With --enforce the records the build would
    append are judged by the policies (docs/policies.md): a violation stops the build (exit 1,
    E_POLICY_VIOLATION, nothing written) unless overridden with --allow VIOLATION-ID --reason TEXT.
    """
    from govern.config.keys import configured_signer
    from govern.log.build import plan_build, remove_stale_staging, write_build
    from govern.runs.listing import LOCK_NAME
    from govern.runtime.clock import resolve_clock
    from govern.runtime.faults import no_lock
    from govern.seal.sealing import RESEAL_STAGING_PREFIX
    from govern.store.locking import exclusive_lock

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    signer, _source = configured_signer(key)  # a bad key stops the build before anything is read
    if snapshot_collections and dry_run:
        raise GovernError("E_USAGE", "--snapshot-collections writes collection index runs; a --dry-run writes nothing (drop one of them)")
    root = None
    taken: tuple[TakenSnapshot, ...] | None = None
    # A dry run only reads sealed (immutable) runs, so it takes no lock: locking would create
    # the runs root and the lock file, or rewrite the holder's pid in it — a dry run writes nothing.
    # On object storage there is no lock file: the create-if-absent put of the build's head is
    # what keeps two builders from both committing (docs/object-storage.md). Without the lock
    # (GOVERN_FAULT_NO_LOCK, tests), debris is left for 'govern gc': only the lock makes it safe
    # to remove, as a build run without its head may be one being committed.
    locked = workspace.runs_root_is_local and not dry_run and not no_lock()
    lock = exclusive_lock(workspace.runs_root / LOCK_NAME, state.lock_timeout) if locked else contextlib.nullcontext()
    with lock:
        if locked:
            for name in remove_stale_staging(workspace.runs_root):
                what = "reseal" if name.startswith(RESEAL_STAGING_PREFIX) else "build"
                state.output.warn(f"removed {name}: staging folder left by an interrupted {what}")
        if snapshot_collections:
            from govern.log.registry_snapshots import snapshot_collections as take_collection_snapshots

            with state.output.progress() as progress:
                taken = tuple(take_collection_snapshots(workspace, host, clock, progress))
        for attempt in range(RACE_RETRIES + 1):
            plan = plan_build(
                workspace,
                host,
                clock=clock,
                allow_unknown=allow_unknown,
                only=registry,
                accept_late=accept_late or (),
                acknowledge_missing=acknowledge_missing or (),
                reason=reason,
                enforce=enforce,
                allow=allow or (),
            )
            if plan.up_to_date or dry_run:
                break
            try:
                with state.output.progress() as progress:
                    root = write_build(plan, workspace, host, clock, progress, signer=signer)
                break
            except GovernError as error:
                if error.code != "E_COMMIT_RACE_LOST" or not retry or attempt == RACE_RETRIES:
                    raise
                state.output.warn(f"{error.message}: retrying on the new head ({attempt + 1} of {RACE_RETRIES})")
    for run_id in plan.unsealed_runs:
        state.output.warn(f"{run_id}: unsealed (no MANIFEST.sha256): not a snapshot yet; seal it, or --allow-unknown for legacy folders")
    for outcome in plan.outcomes:
        for warning in outcome.warnings:
            state.output.warn(f"{outcome.registry_id} @ {warning}")
        for run_id in outcome.late:
            state.output.warn(
                f"{run_id}: late snapshot of {outcome.registry_id} (ordered before its last recorded snapshot): not recorded; "
                f"'govern delta build --accept-late {run_id} --reason TEXT' records it"
            )
    state.output.show(DeltaBuildResult(plan, dry_run, root, signer.name if signer and root else None, taken))
    if strict:
        from govern.cli.strict import fail_if_strict

        fail_if_strict(len(plan.unsealed_runs), len(plan.late_runs))


@delta_app.command("show", short_help="Show recorded history: changed paths per transition, filtered")
def show(
    ctx: typer.Context,
    registry: Annotated[Optional[str], typer.Option("--registry", metavar="ID", help="Only this registry.")] = None,
    path: Annotated[
        Optional[str],
        typer.Option(
            "--path",
            metavar="P",
            help="Only transitions touching this path (a file, or a folder): x, ./x, x/, RUNS_ROOT/RUN/x, or absolute inside the workspace.",
        ),
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option("--since", metavar="T", help="Only transitions to snapshots at or after T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or a run id."),
    ] = None,
    until: Annotated[
        Optional[str],
        typer.Option("--until", metavar="T", help="Only transitions to snapshots at or before T (a date covers the whole day)."),
    ] = None,
    run: Annotated[Optional[str], typer.Option("--run", metavar="RUN", help="Only transitions to or from this run (a run id).")] = None,
    limit: Annotated[
        Optional[int], typer.Option("--limit", metavar="N", min=1, help="Only the latest N of the transitions the other filters keep.")
    ] = None,
) -> None:
    """Show the recorded history, git log --name-status style: a header per transition
    (registry, from -> to run, basis, counts) and an A/D/M line per changed path.

    A transition's time is its snapshot's (the time in the run id it leads to), not the
    build's. An 'unknown' transition says so, with its reason, never "no changes". Before the
    first build there is no log: "no delta log yet", exit 0.
    """
    from govern.cli.path_argument import in_run_path
    from govern.format.paths import is_run_id
    from govern.log.delta_log import parse_log_lines
    from govern.log.query import select_transitions, time_bound
    from govern.log.recorded_snapshots import read_latest_build

    state: CliState = ctx.obj
    # Reading the log runs no registry kind's code: an auditor needs no pipeline plugin.
    workspace = state.workspace(needs_kind_plugins=False)
    if registry is not None:
        workspace.registry(registry)
    local_root = workspace.runs_root if workspace.runs_root_is_local else None
    query_path = None if path is None else in_run_path(path, workspace_root=workspace.root, runs_root=local_root)
    since_key = None if since is None else time_bound("--since", since, upper=False)
    until_key = None if until is None else time_bound("--until", until, upper=True)
    if run is not None and not is_run_id(run):
        raise GovernError("E_USAGE", f"--run {run!r}: not a run id (YYYY-MM-DD__HHMMSS__slug)")
    filters = {"registry": registry, "path": query_path, "since": since, "until": until, "run": run, "limit": limit}
    artifact = workspace.config.workspace.delta_log_artifact
    latest = read_latest_build(workspace_runs(workspace), artifact)
    if latest is None:
        state.output.show(DeltaShowResult(local_root or workspace.runs_location, filters, query_path))
        return
    records = parse_log_lines(latest.log_bytes, f"{latest.run_id}/{artifact}")
    shown = select_transitions(
        records, registry=registry, path=query_path, since=since_key, until=until_key, run=run, limit=limit
    )
    state.output.show(DeltaShowResult(local_root or workspace.runs_location, filters, query_path, latest.run_id, len(records), tuple(shown)))


@attrs.frozen
class DeltaShowResult(CommandResult):
    """The transitions ``delta show`` kept from the latest build's log (``build`` None: no log yet)."""

    #: The runs root: its folder, or its s3:// URL.
    runs_root: Path | str
    filters: dict[str, Any]
    path: str | None
    build: str | None = None
    records_total: int = 0
    transitions: tuple[Transition, ...] = ()


@text_renderer(DeltaShowResult)
def delta_show_text(result: DeltaShowResult) -> list[str]:
    """A header, then each transition ``git log --name-status`` style, then how many were shown."""
    from govern.cli.change_text import transition_lines

    if result.build is None:
        return [f"no delta log yet under {result.runs_root} (run 'govern delta build')"]
    lines = [f"delta log {result.build} ({plural(result.records_total, 'record')})"]
    for transition in result.transitions:
        lines.append("")
        lines.extend(transition_lines(transition, result.path))
    lines.append("")
    lines.append(f"{plural(len(result.transitions), 'transition')} shown")
    return lines


@json_renderer(DeltaShowResult)
def delta_show_json(result: DeltaShowResult) -> dict[str, Any]:
    """The build read, the filters, and the kept records and transitions."""
    # No log yet is not tampering: nothing has been built (exit 0, as 'git log' in a new
    # repository says so rather than failing a check).
    return {
        "build": result.build,
        "filters": result.filters,
        "records": [transition.record for transition in result.transitions],
        "transitions": [transition.to_json() for transition in result.transitions],
    }


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(delta_app, name="delta", short_help="The append-only, sealed registry delta log")
