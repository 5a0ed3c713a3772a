"""``govern registry list | show ID | add ID | remove ID``: the configured registries, their
evidence, adding and removing one. Parse, call :mod:`govern.governance.registry_admin`, report — nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.governance.registry_admin import RegistryAddition, RegistryOverview, RegistryRemovalResult, RegistryStatus

registry_app = typer.Typer(help="Configured registries: kind, snapshots, covered or excluded and why; add one.", no_args_is_help=True)

# One line per paragraph: the help formatter re-wraps them.
ADD_HELP = (
    "Add a registry: append a new registries.ID table to registry_config.toml.\n\n"
    "The table is appended at the end of the file, so comments and formatting elsewhere in it are kept "
    "exactly as they are. The result is checked first: it must parse, its kind must be installed "
    "(see 'govern plugins list') and the kind's required keys must be set (kind 'sealed' needs --artifact). "
    "Then it is written atomically, under the workspace lock. An id that already exists is refused "
    "(E_REGISTRY_EXISTS); nothing is written on any refusal.\n\n"
    "A sql_table registry takes --dsn and --table (or --query with --key); a collection covers its member runs "
    "once --pattern or --op-id selects them; an ocfl_object registry takes --path (and --object-id in a storage root), "
    "a bagit registry --path (and --order-by), a git registry --repo and --ref (and --path) (docs/registry-kinds.md). "
    "A key its kind does not use is refused."
)


def _snapshot_summary(status: RegistryStatus) -> str:
    if status.snapshots is None:  # a registry kept outside the runs root: its versions are not listed
        last = status.history.last_recorded if status.history else None
        recorded = f"; last recorded {last.label} ({plural(status.history.records, 'record')})" if status.history and last else "; not recorded yet"
        return f"{status.reason}{recorded}"
    snapshots = status.snapshots or ()
    counts = status.status_counts()
    odd = [f"{counts[s]} {s}" for s in ("broken", "unsealed") if counts[s]]
    text = plural(len(snapshots), "snapshot") + (f" ({', '.join(odd)})" if odd else "")
    history = status.history
    if history is None or history.last_recorded is None:
        return f"{text}; not recorded yet"
    new = len(status.new_snapshots)
    late = [snapshot.run_id for snapshot in status.late_snapshots]
    # Named (a few), so that --strict's "listed above" is true and the operator knows what to accept.
    late_text = f", {len(late)} late: {', '.join(late[:3])}{' …' if len(late) > 3 else ''}" if late else ""
    return f"{text}; last recorded {history.last_recorded.label} ({plural(history.records, 'record')}, {new} new{late_text})"


def _status_line(status: RegistryStatus) -> str:
    head = f"  {status.registry.id:<28} {status.registry.kind:<14}"
    if status.status == "excluded":
        return f"{head} excluded by design: {status.reason}"
    if status.status == "skipped":
        return f"{head} skipped: {status.reason}"
    return f"{head} covered: {_snapshot_summary(status)}"


def _log_problem(state: CliState, overview: RegistryOverview) -> None:
    if overview.log_problem is not None:
        state.output.warn(f"the delta log could not be read, recorded history not shown: {overview.log_problem}")


@registry_app.command("list", short_help="Every registry: kind, covered or excluded, snapshots")
def list_registries(
    ctx: typer.Context,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 (E_STRICT, after the list) when there are unsealed or late snapshots (for CI).")
    ] = False,
) -> None:
    """Every configured registry: kind, covered / excluded by design / skipped (and why),
    snapshot count, and the last snapshot the delta log records (with how many are new, and
    how many late: ordered before it and not recorded — see 'delta build --accept-late')."""
    from govern.governance.registry_admin import registry_overview

    state: CliState = ctx.obj
    workspace = state.workspace()
    overview = registry_overview(workspace, state.plugins())
    _log_problem(state, overview)
    state.output.show(RegistryListResult(workspace.root, overview))
    if strict:
        from govern.cli.strict import fail_if_strict

        unsealed = {s.run_id for status in overview.registries for s in status.snapshots or () if s.status == "unsealed"}
        late = {(status.registry.id, s.run_id) for status in overview.registries for s in status.late_snapshots}
        fail_if_strict(len(unsealed), len(late))


@registry_app.command("show", short_help="One registry in detail, with its snapshots")
def show(
    ctx: typer.Context,
    registry_id: Annotated[str, typer.Argument(metavar="ID", help="The registry's id.", show_default=False)],
) -> None:
    """One registry in detail: its configuration, kind and plugin, status, every snapshot
    (and whether the delta log records it) and its recorded history."""
    from govern.governance.registry_admin import registry_overview

    state: CliState = ctx.obj
    workspace = state.workspace()
    overview = registry_overview(workspace, state.plugins(), only=registry_id)
    _log_problem(state, overview)
    state.output.show(RegistryShowResult(overview.registries[0]))


def _parse_options(values: list[str]) -> dict[str, str]:
    from govern.cli.key_values import parse_key_values

    return parse_key_values("--option", values)


#: Help panels of the built-in kinds' keys (docs/registry-kinds.md).
SQL_PANEL = "Kind sql_table"
COLLECTION_PANEL = "Kind collection"
OCFL_PANEL = "Kind ocfl_object"
BAGIT_PANEL = "Kind bagit"
GIT_PANEL = "Kind git"
#: The panel of --path, a key three kinds share.
SOURCE_PANEL = "Kinds ocfl_object, bagit, git"


@registry_app.command("add", help=ADD_HELP, short_help="Add a registry to registry_config.toml")
def add(
    ctx: typer.Context,
    registry_id: Annotated[str, typer.Argument(metavar="ID", help="The new registry's id: lowercase letters, digits and _, starting with a letter.", show_default=False)],
    kind: Annotated[str, typer.Option("--kind", metavar="K", help="Its kind, e.g. sealed, external, collection, presentation.", show_default=False)],
    artifact: Annotated[
        Optional[str], typer.Option("--artifact", metavar="A", help="File or folder inside a run that makes it a snapshot.")
    ] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="R", help="Why it is excluded by design (excluded kinds).")] = None,
    schema: Annotated[Optional[str], typer.Option("--schema", metavar="S", help="JSON Schema for 'govern validate', relative to the workspace.")] = None,
    description: Annotated[Optional[str], typer.Option("--description", metavar="D", help="What the registry holds.")] = None,
    option: Annotated[
        Optional[list[str]], typer.Option("--option", metavar="KEY=VALUE", help="An entry of the kind's options table (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show the table; write nothing.")] = False,
    dsn: Annotated[
        Optional[str],
        typer.Option("--dsn", metavar="DSN", help="sqlite:///file or postgresql://user@host:port/db (never a password).", rich_help_panel=SQL_PANEL),
    ] = None,
    password_env: Annotated[
        Optional[str], typer.Option("--password-env", metavar="VAR", help="The environment variable holding the password.", rich_help_panel=SQL_PANEL)
    ] = None,
    table_name: Annotated[Optional[str], typer.Option("--table", metavar="T", help="The table to snapshot.", rich_help_panel=SQL_PANEL)] = None,
    query: Annotated[
        Optional[str], typer.Option("--query", metavar="SQL", help="Instead of --table: a deterministic query (needs --key).", rich_help_panel=SQL_PANEL)
    ] = None,
    key: Annotated[
        Optional[list[str]],
        typer.Option("--key", metavar="COLUMN", help="A key column, in order (repeatable; default: the primary key).", rich_help_panel=SQL_PANEL),
    ] = None,
    part_bytes: Annotated[
        Optional[int], typer.Option("--part-bytes", metavar="N", min=1, help="Rows are written in parts of about N bytes.", rich_help_panel=SQL_PANEL)
    ] = None,
    pattern: Annotated[
        Optional[str], typer.Option("--pattern", metavar="GLOB", help="Member runs: a glob over run ids.", rich_help_panel=COLLECTION_PANEL)
    ] = None,
    op_id: Annotated[
        Optional[str], typer.Option("--op-id", metavar="OP", help="Member runs: the op_id their run.json names.", rich_help_panel=COLLECTION_PANEL)
    ] = None,
    marker: Annotated[
        Optional[str], typer.Option("--marker", metavar="PATH", help="Member runs: a file every member holds.", rich_help_panel=COLLECTION_PANEL)
    ] = None,
    path: Annotated[
        Optional[str],
        typer.Option(
            "--path",
            metavar="PATH",
            help="ocfl_object: the object's or storage root's folder; bagit: the folder of bags; git: a folder of the repository.",
            rich_help_panel=SOURCE_PANEL,
        ),
    ] = None,
    object_id: Annotated[
        Optional[str], typer.Option("--object-id", metavar="ID", help="The object's id, when --path is a storage root.", rich_help_panel=OCFL_PANEL)
    ] = None,
    order_by: Annotated[
        Optional[str],
        typer.Option("--order-by", metavar="TAG", help="The bag-info tag ordering the bags (default Bagging-Date), or 'name'.", rich_help_panel=BAGIT_PANEL),
    ] = None,
    repo: Annotated[
        Optional[str], typer.Option("--repo", metavar="DIR", help="The git repository (working tree or bare).", rich_help_panel=GIT_PANEL)
    ] = None,
    ref: Annotated[
        Optional[str], typer.Option("--ref", metavar="REF", help="The branch, tag or commit whose first-parent history is read.", rich_help_panel=GIT_PANEL)
    ] = None,
) -> None:
    from govern.governance.registry_admin import add_registry, registry_table

    state: CliState = ctx.obj
    workspace = state.workspace()
    kind_keys = {
        "dsn": dsn,
        "password_env": password_env,
        "table": table_name,
        "query": query,
        "key": key or None,
        "part_bytes": part_bytes,
        "pattern": pattern,
        "op_id": op_id,
        "marker": marker,
        "path": path,
        "object_id": object_id,
        "order_by": order_by,
        "repo": repo,
        "ref": ref,
    }
    table = registry_table(
        kind, artifact=artifact, schema=schema, reason=reason, description=description, options=_parse_options(option or []), kind_keys=kind_keys
    )
    addition = add_registry(workspace, state.plugins(), registry_id, table, lock_timeout=state.lock_timeout, dry_run=dry_run)
    for warning in addition.warnings:
        state.output.warn(warning)
    state.output.show(RegistryAddResult(addition, dry_run))


REMOVE_HELP = (
    "Remove a registry: cut its registries.ID table out of registry_config.toml and take it out of the governance books.\n\n"
    "The rest of the file (comments, order, formatting) is kept exactly as it is. "
    "The registry catalog (unless frozen: a frozen document is never modified) or its addendum gets a new version whose changelog "
    "records the removal, the scorecard is re-derived, and the config and the books are written in one journaled transaction, "
    "all or none. History is untouched: sealed runs and the delta log are never modified, so the records the log already holds "
    "for the registry stay in it; later builds simply no longer add any. An id that is not configured is refused."
)


@registry_app.command("remove", help=REMOVE_HELP, short_help="Remove a registry from registry_config.toml and the books")
def remove(
    ctx: typer.Context,
    registry_id: Annotated[str, typer.Argument(metavar="ID", help="The registry's id.", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show what would change; write nothing.")] = False,
    at: Annotated[
        Optional[str], typer.Option("--at", metavar="T", help="Changelog date, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")
    ] = None,
) -> None:
    from govern.governance.registry_admin import remove_registry
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    # No kind's code runs: removing the registry of a plugin that was uninstalled is exactly
    # when an unknown kind is expected (a warning, not an error).
    workspace = state.workspace(needs_kind_plugins=False)
    result = remove_registry(
        workspace, state.plugins(), registry_id, resolve_clock(at), lock_timeout=state.lock_timeout, dry_run=dry_run
    )
    state.output.show(RegistryRemoveResult(result, workspace.config.workspace.governance_dir, dry_run))


@attrs.frozen
class RegistryListResult(CommandResult):
    """``registry list``: every configured registry's status in the workspace."""

    workspace_root: Path
    overview: RegistryOverview

    @property
    def counts(self) -> dict[str, int]:
        """How many registries are covered, excluded by design and skipped."""
        return {status: self.overview.count(status) for status in ("covered", "excluded", "skipped")}


@text_renderer(RegistryListResult)
def registry_list_text(result: RegistryListResult) -> list[str]:
    """The counts and the latest build, then one line per registry."""
    overview, counts = result.overview, result.counts
    lines = [
        f"{plural(len(overview.registries), 'registry', 'registries')}: {counts['covered']} covered, {counts['skipped']} skipped, "
        f"{counts['excluded']} excluded by design"
        + (f" (delta log: {overview.latest_build})" if overview.latest_build else " (no delta log yet)")
    ]
    lines.extend(_status_line(status) for status in overview.registries)
    return lines


@json_renderer(RegistryListResult)
def registry_list_json(result: RegistryListResult) -> dict[str, Any]:
    """The workspace, the latest build, the counts, and every registry's status."""
    return {
        "workspace": str(result.workspace_root),
        "latest_build": result.overview.latest_build,
        "counts": result.counts,
        "registries": [status.to_json() for status in result.overview.registries],
    }


@attrs.frozen
class RegistryShowResult(CommandResult):
    """``registry show ID``: one registry's status in detail."""

    status: RegistryStatus


@text_renderer(RegistryShowResult)
def registry_show_text(result: RegistryShowResult) -> list[str]:
    """Its configuration, kind, status and recorded history, then one line per snapshot."""
    status = result.status
    data = status.to_json(detail=True)
    config = status.registry.config
    lines = [f"{status.registry.id}"]
    rows: list[tuple[str, Any]] = [
        ("kind", f"{status.registry.kind}" + (f" (plugin {status.provider}: {status.kind.summary})" if status.kind else "")),
        ("description", config.description),
        ("artifact", config.artifact),
        ("schema", config.schema),
        ("keys", ", ".join(f"{k} = {v!r}" for k, v in config.kind_key_values().items()) or None),
        ("options", ", ".join(f"{k} = {v!r}" for k, v in sorted(config.options.items())) or None),
    ]
    if status.status == "excluded":
        rows.append(("status", f"excluded by design: {status.reason}"))
    elif status.status == "skipped":
        rows.append(("status", f"skipped: {status.reason}"))
    else:
        rows.append(("status", f"covered: {_snapshot_summary(status)}"))
    history = status.history
    rows.append(("recorded", f"{plural(history.records, 'record')} in {history.build}" if history else "no records"))
    lines.extend(f"  {label:<12} {value}" for label, value in rows if value is not None)
    if status.snapshots:
        lines.append("  snapshots:")
        width = max(len(snapshot["run_id"]) for snapshot in data["snapshot_list"])
        late = set(data["late_snapshots"] or ())
        for snapshot in data["snapshot_list"]:
            mark = "recorded" if snapshot["recorded"] else "late" if snapshot["run_id"] in late else "new"
            problem = f"  {snapshot['problem']}" if snapshot["problem"] else ""
            lines.append(f"    {snapshot['run_id']:<{width}}  {snapshot['status']:<8} {mark:<8}{problem}".rstrip())
    return lines


@json_renderer(RegistryShowResult)
def registry_show_json(result: RegistryShowResult) -> dict[str, Any]:
    """The registry's status with its snapshot list."""
    return result.status.to_json(detail=True)


@attrs.frozen
class RegistryAddResult(CommandResult):
    """``registry add``: the table appended (or, with --dry-run, that would be)."""

    addition: RegistryAddition
    dry_run: bool


@text_renderer(RegistryAddResult)
def registry_add_text(result: RegistryAddResult) -> list[str]:
    """Where the table goes, then its lines."""
    addition = result.addition
    verb = "would append" if result.dry_run else "appended"
    lines = [f"{verb} [registries.{addition.registry_id}] to {addition.config_path}:"]
    lines.extend(f"  {line}" for line in addition.appended.splitlines() if line.strip())
    return lines


@json_renderer(RegistryAddResult)
def registry_add_json(result: RegistryAddResult) -> dict[str, Any]:
    """The registry, the config file, the table and its TOML text, whether it was written."""
    addition = result.addition
    return {
        "registry_id": addition.registry_id,
        "config": str(addition.config_path),
        "table": addition.table,
        "appended": addition.appended,
        "written": addition.written,
        "dry_run": result.dry_run,
    }


@attrs.frozen
class RegistryRemoveResult(CommandResult):
    """``registry remove``: the table cut out, the books rewritten, the history kept."""

    removal: RegistryRemovalResult
    #: The governance folder, as configured (documents are shown relative to the workspace).
    governance_dir: str
    dry_run: bool


@text_renderer(RegistryRemoveResult)
def registry_remove_text(result: RegistryRemoveResult) -> list[str]:
    """The table's lines, each document written and its changes, what history keeps."""
    removal, governance, dry_run = result.removal, result.governance_dir, result.dry_run
    verb = "would remove" if dry_run else "removed"
    lines = [f"{verb} [registries.{removal.registry_id}] from {removal.config_path}:"]
    lines.extend(f"  - {line}" for line in removal.removed.splitlines() if line.strip())
    for document in removal.documents:
        entry = document.changelog[-1]
        lines.append(f"{'would write' if dry_run else 'wrote'} {governance}/{document.relpath} v{document.version}")
        lines.extend(f"  {change.change}: {change.details}" for change in entry.changes)
    for place in removal.kept_in:
        lines.append(f"still listed in {governance}/{place}: a frozen document is never modified")
    if removal.recorded:
        lines.append(
            f"the delta log keeps its {plural(removal.recorded, 'record')} for {removal.registry_id} "
            f"(latest build {removal.latest_build}): history is never modified; later builds add none"
        )
    return lines


@json_renderer(RegistryRemoveResult)
def registry_remove_json(result: RegistryRemoveResult) -> dict[str, Any]:
    """The registry, the config file and the table removed, the documents written, the records kept."""
    removal, governance = result.removal, result.governance_dir
    return {
        "registry_id": removal.registry_id,
        "config": str(removal.config_path),
        "removed": removal.removed,
        "documents": {
            f"{governance}/{d.relpath}": {"version": d.version, "changes": [c.to_json() for c in d.changelog[-1].changes]}
            for d in removal.documents
        },
        "kept_in": [f"{governance}/{place}" for place in removal.kept_in],
        "records_kept": removal.recorded,
        "written": removal.written,
        "dry_run": result.dry_run,
    }


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(registry_app, name="registry", short_help="Configured registries: list, show, add, remove")
