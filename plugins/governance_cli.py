"""``govern governance add-op | remove-op | sync | freeze | addendum | scorecard | check``.

Parse, call :mod:`govern.governance`, report through ``ctx.obj.output`` — nothing else. Every
command holds the workspace lock while it reads and writes the books (and first completes or
undoes a change a crash interrupted); every writing command takes ``--at`` for its changelog
date and writes all its documents or none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from govern.errors import ExitCode, GovernError, problem_json
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.cli.state import CliState
    from govern.config.workspace import Workspace
    from govern.governance.revision import Update

governance_app = typer.Typer(
    help="The governance books: allowed operations, coverage matrix, scorecard, registry catalog and addenda.",
    no_args_is_help=True,
)

AT_OPTION = typer.Option("--at", metavar="T", help="Changelog date, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")


def _relative(workspace: Workspace, relpath: str) -> str:
    """A document's path as shown to people: relative to the workspace."""
    return f"{workspace.config.workspace.governance_dir}/{relpath}"


def _write(workspace: Workspace, update: Update) -> tuple[dict[str, Any], list[str]]:
    """Write an update (inside ``open_books``); its JSON and text description."""
    from govern.governance.figures import figure_rows
    from govern.governance.store import write_documents

    written = write_documents(workspace.governance_dir, list(update.documents))
    lines = []
    documents = {}
    for document in update.documents:
        path = _relative(workspace, document.relpath)
        entry = document.changelog[-1]
        documents[path] = {"version": document.version, "changes": [c.to_json() for c in entry.changes]}
        lines.append(f"wrote {path} v{document.version}")
        lines.extend(f"  {change.change}: {change.details}" for change in entry.changes)
    scorecard = update.books.scorecard
    data = {
        "written": [_relative(workspace, path) for path in written],
        "documents": documents,
        "figures": scorecard.figures.to_json(),
    }
    if any(document.NAME == scorecard.NAME for document in update.documents):
        lines.append(f"scorecard v{scorecard.version} (previous v{scorecard.previous_version}):")
        lines.extend(f"  {label:<20} {text}" for label, text in figure_rows(scorecard.previous, scorecard.figures))
    return data, lines


def _warn_all(state: CliState, notes: list[str]) -> None:
    for note in notes:
        state.output.warn(note)


@governance_app.command("add-op", short_help="Allow a new operation (catalog, matrix, scorecard)")
def add_op(
    ctx: typer.Context,
    op_id: Annotated[str, typer.Argument(metavar="OP-ID", help="The new operation's id, e.g. OP-QA11.", show_default=False)],
    title: Annotated[str, typer.Option("--title", metavar="T", help="Human name of the operation.", show_default=False)],
    executable: Annotated[
        list[str], typer.Option("--executable", metavar="E", help="A script or command that implements it (repeatable).", show_default=False)
    ],
    coverage: Annotated[str, typer.Option("--coverage", metavar="LEVEL", help="Its coverage level, e.g. C3.", show_default=False)],
    enforcement: Annotated[
        str, typer.Option("--enforcement", metavar="E1,E2,…", help="Its enforcement points, comma-separated.")
    ] = "",
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """Allow a new operation: catalog, matrix and scorecard are updated together, all or none.

    Refuses (exit 2, nothing written) a duplicate op id, an unknown coverage level or enforcement point, and a level whose required enforcement points are not all given.
    """
    from govern.format.models import Operation
    from govern.governance.operations import add_op as plan_add_op
    from govern.governance.store import load_books, open_books
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    workspace = state.workspace()
    clock = resolve_clock(at)
    points = tuple(point.strip() for point in enforcement.split(",") if point.strip())
    operation = Operation(op_id, title, tuple(executable), coverage, points)
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        update = plan_add_op(load_books(workspace.governance_dir), operation, clock)
        data, lines = _write(workspace, update)
    state.output.emit({"op_id": op_id, **data}, [f"added {op_id} ({operation.title.strip()})", *lines])


@governance_app.command("remove-op", short_help="Remove an operation (catalog, matrix, scorecard); history untouched")
def remove_op(
    ctx: typer.Context,
    op_id: Annotated[str, typer.Argument(metavar="OP-ID", help="The operation to remove, e.g. OP-QA12.", show_default=False)],
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """Remove an operation: catalog, matrix and scorecard are re-derived together, all or none
    (each a new version whose changelog records before -> after).

    History is untouched: sealed runs and the delta log are never modified. So an operation
    still referenced is refused (exit 2, nothing written): one a loaded plugin declares
    (OP-QA11 comes from the delta_log plugin), or one sealed runs were made by. An unknown op
    id is refused too (E_OP_UNKNOWN).
    """
    from govern.governance.operations import remove_op as plan_remove_op
    from govern.governance.run_operations import runs_by_operation
    from govern.governance.store import load_books, open_books
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    declared_by = host.operation_providers().get(op_id)
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        made_runs = tuple(runs_by_operation(workspace.runs_root).get(op_id, ()))
        update = plan_remove_op(load_books(workspace.governance_dir), op_id, clock, declared_by=declared_by, made_runs=made_runs)
        data, lines = _write(workspace, update)
    state.output.emit(
        {"op_id": op_id, **data},
        [f"removed {op_id}; sealed runs and the delta log are untouched", *lines],
    )


@governance_app.command("sync", short_help="Add what govern knows but the books lack")
def sync(
    ctx: typer.Context,
    label: Annotated[
        Optional[str],
        typer.Option("--label", metavar="L", help="With a frozen registry catalog: put the registries it lacks into addendum L."),
    ] = None,
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """Add what govern knows but the books lack, as one change.

    Operations plugins declare, and registries configured or contributed by plugins: into an
    unfrozen registry catalog, or with --label into an addendum of a frozen one.
    """
    from govern.governance.store import load_books, open_books
    from govern.governance.sync import plan_sync
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        plan = plan_sync(load_books(workspace.governance_dir), workspace, host, clock, label)
        data, lines = _write(workspace, plan.update) if not plan.update.empty else ({"written": [], "documents": {}}, [])
    for item in plan.pending:
        state.output.warn(
            f"{item.entry.registry_id}: the registry catalog is frozen; add it with 'govern governance addendum --label L' (or sync --label L)"
        )
    summary = "up to date: nothing to add" if plan.update.empty else (
        f"synced: {plural(len(plan.operations), 'operation')} and {plural(len(plan.registries), 'registry', 'registries')} added"
    )
    data.update(
        {
            "operations_added": [op.op_id for op in plan.operations],
            "registries_added": [item.entry.registry_id for item in plan.registries],
            "registries_pending": [item.entry.registry_id for item in plan.pending],
        }
    )
    state.output.emit(data, [summary, *lines])


@governance_app.command("freeze", short_help="Freeze the registry catalog; later registries go to addenda")
def freeze(ctx: typer.Context, at: Annotated[Optional[str], AT_OPTION] = None) -> None:
    """Freeze the registry catalog: it is never modified again; later registries go into addenda."""
    from govern.governance.registries import freeze_update
    from govern.governance.store import load_books, open_books
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    workspace = state.workspace()
    clock = resolve_clock(at)
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        books = load_books(workspace.governance_dir)
        update = freeze_update(books, clock)
        if update.empty:
            path = _relative(workspace, books.registry_catalog.relpath)
            state.output.emit({"written": [], "frozen": True}, [f"{path} v{books.registry_catalog.version} is already frozen; nothing written"])
            return
        data, lines = _write(workspace, update)
    state.output.emit({**data, "frozen": True}, ["registry catalog frozen", *lines])


@governance_app.command("addendum", short_help="Regenerate the addendum to the frozen registry catalog")
def addendum(
    ctx: typer.Context,
    label: Annotated[
        Optional[str], typer.Option("--label", metavar="L", help="The addendum's label (default: the latest addendum's).")
    ] = None,
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """Regenerate the addendum to the frozen registry catalog.

    It holds every registry govern knows (configured, or contributed by a plugin) that the
    catalog and the other addenda lack. Regenerating an up-to-date addendum writes nothing
    (identical bytes).
    """
    from govern.governance.registries import addendum_update, default_label, known_registries
    from govern.governance.store import load_books, open_books
    from govern.runtime.clock import resolve_clock

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        books = load_books(workspace.governance_dir)
        chosen = label or default_label(books)
        if chosen is None:
            raise GovernError("E_USAGE", "there is no addendum yet: name the first one with --label L (e.g. --label phase_2_2_3)")
        update = addendum_update(books, known_registries(workspace, host), chosen, clock)
        if update.empty:
            current = books.addendum(chosen)
            line = (
                f"{_relative(workspace, current.relpath)} v{current.version} is up to date; nothing written"
                if current is not None
                else f"no registry is missing from the frozen catalog; no addendum {chosen!r} written"
            )
            state.output.emit({"written": [], "label": chosen}, [line])
            return
        data, lines = _write(workspace, update)
    state.output.emit({**data, "label": chosen}, lines)


@governance_app.command("scorecard", short_help="Show the scorecard, every figure derived now")
def scorecard(ctx: typer.Context) -> None:
    """Show the scorecard: figures derived now, the previous version's, and the deltas.

    Exit 1 when the stored scorecard disagrees with the figures the books give.
    """
    from govern.governance.figures import figure_deltas, figure_rows
    from govern.governance.scorecard import derive_figures, scorecard_disagreements
    from govern.governance.store import load_books, open_books

    state: CliState = ctx.obj
    workspace = state.workspace()
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        books = load_books(workspace.governance_dir)
    card = books.scorecard
    derived = derive_figures(books)
    disagreements = scorecard_disagreements(books)
    previous = f" (previous v{card.previous_version})" if card.previous is not None else " (first version)"
    lines = [f"{card.NAME} v{card.version}{previous}"]
    lines.extend(f"  {label:<20} {text}" for label, text in figure_rows(card.previous, derived))
    for name, stored, figure in disagreements:
        lines.append(f"  DISAGREES: the stored scorecard says {name} {stored}; the books give {figure}")
    state.output.emit(
        {
            "version": card.version,
            "figures": derived.to_json(),
            "previous": None if card.previous is None else {"version": card.previous_version, "figures": card.previous.to_json()},
            "deltas": None if card.previous is None else figure_deltas(card.previous, derived),
            "stored_matches": not disagreements,
        },
        lines,
        ExitCode.PROBLEMS if disagreements else ExitCode.OK,
    )


@governance_app.command("check", short_help="Recompute everything derivable; name every disagreement")
def check(ctx: typer.Context) -> None:
    """Recompute everything derivable and name every disagreement (exit 1 if any)."""
    from govern.governance.check import check_books
    from govern.governance.registries import known_registries
    from govern.governance.store import open_books

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        result = check_books(workspace.governance_dir, known_registries(workspace, host), host.operations(), workspace.runs_root)
    _warn_all(state, list(result.warnings))
    problems = [problem_json(p) for p in result.problems]
    data: dict[str, Any] = {"ok": result.ok, "problems": problems, "warnings": list(result.warnings)}
    if result.books is not None:
        data["documents"] = {_relative(workspace, d.relpath): d.version for d in result.books.documents()}
    if result.ok:
        books = result.books
        assert books is not None
        lines = [
            f"governance check passed: {plural(len(books.documents()), 'document')} agree "
            f"({plural(books.scorecard.figures.operations, 'operation')}, {books.scorecard.figures.sealed_text} sealed registries)"
        ]
    else:
        lines = [f"  {problem}" for problem in result.problems]
        lines.append(f"governance check FAILED: {plural(len(result.problems), 'problem')}")
    state.output.emit(data, lines, ExitCode.OK if result.ok else ExitCode.PROBLEMS)


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(governance_app, name="governance", short_help="The governance books: operations, coverage, scorecard")
