"""``govern governance add-op | remove-op | sync | freeze | addendum | scorecard | check``.

Parse, call :mod:`govern.governance`, report through ``ctx.obj.output`` — nothing else. Every
command holds the workspace lock while it reads and writes the books (and first completes or
undoes a change a crash interrupted); every writing command takes ``--at`` for its changelog
date and writes all its documents or none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.errors import ExitCode, GovernError, problem_json
from govern.format.plurals import plural
from govern.runs.run_store import workspace_runs

if TYPE_CHECKING:
    from govern.cli.state import CliState
    from govern.config.workspace import Workspace
    from govern.governance.check import CheckResult
    from govern.governance.documents import Scorecard
    from govern.governance.figures import Figures
    from govern.governance.revision import Update
    from govern.governance.sync import SyncPlan

governance_app = typer.Typer(
    help="The governance books: allowed operations, coverage matrix, scorecard, registry catalog and addenda.",
    no_args_is_help=True,
)

AT_OPTION = typer.Option("--at", metavar="T", help="Changelog date, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")


def _relative(workspace: Workspace, relpath: str) -> str:
    """A document's path as shown to people: relative to the workspace."""
    return f"{workspace.config.workspace.governance_dir}/{relpath}"


@attrs.frozen
class BooksWritten:
    """An update written to the books: every command that changes them reports one."""

    #: The governance folder as configured: documents are shown relative to the workspace.
    governance_dir: str
    update: Update
    #: The documents written, relative to the governance folder.
    written: tuple[str, ...]

    def path(self, relpath: str) -> str:
        """A document's path as shown to people: relative to the workspace."""
        return f"{self.governance_dir}/{relpath}"


def _write(workspace: Workspace, update: Update) -> BooksWritten:
    """Write an update (inside ``open_books``)."""
    from govern.governance.store import write_documents

    written = write_documents(workspace.governance_dir, list(update.documents))
    return BooksWritten(workspace.config.workspace.governance_dir, update, tuple(written))


def _written_json(books: BooksWritten | None) -> dict[str, Any]:
    """The documents written, each with its version and changes, and the figures after."""
    if books is None:
        return {"written": [], "documents": {}}
    documents = {
        books.path(document.relpath): {"version": document.version, "changes": [c.to_json() for c in document.changelog[-1].changes]}
        for document in books.update.documents
    }
    return {
        "written": [books.path(path) for path in books.written],
        "documents": documents,
        "figures": books.update.books.scorecard.figures.to_json(),
    }


def _written_text(books: BooksWritten | None) -> list[str]:
    """Each document written with its changes; the scorecard's figures when it changed."""
    from govern.governance.figures import figure_rows

    if books is None:
        return []
    lines = []
    for document in books.update.documents:
        lines.append(f"wrote {books.path(document.relpath)} v{document.version}")
        lines.extend(f"  {change.change}: {change.details}" for change in document.changelog[-1].changes)
    scorecard = books.update.books.scorecard
    if any(document.NAME == scorecard.NAME for document in books.update.documents):
        lines.append(f"scorecard v{scorecard.version} (previous v{scorecard.previous_version}):")
        lines.extend(f"  {label:<20} {text}" for label, text in figure_rows(scorecard.previous, scorecard.figures))
    return lines


@attrs.frozen
class OperationAddedResult(CommandResult):
    """``governance add-op``: the operation allowed, and the books written."""

    op_id: str
    title: str
    books: BooksWritten


@text_renderer(OperationAddedResult)
def operation_added_text(result: OperationAddedResult) -> list[str]:
    """The operation added, then each document written."""
    return [f"added {result.op_id} ({result.title.strip()})", *_written_text(result.books)]


@json_renderer(OperationAddedResult)
def operation_added_json(result: OperationAddedResult) -> dict[str, Any]:
    """The op id and the documents written."""
    return {"op_id": result.op_id, **_written_json(result.books)}


@attrs.frozen
class OperationRemovedResult(CommandResult):
    """``governance remove-op``: the operation removed, and the books written."""

    op_id: str
    books: BooksWritten


@text_renderer(OperationRemovedResult)
def operation_removed_text(result: OperationRemovedResult) -> list[str]:
    """The operation removed, then each document written."""
    return [f"removed {result.op_id}; sealed runs and the delta log are untouched", *_written_text(result.books)]


@json_renderer(OperationRemovedResult)
def operation_removed_json(result: OperationRemovedResult) -> dict[str, Any]:
    """The op id and the documents written."""
    return {"op_id": result.op_id, **_written_json(result.books)}


@attrs.frozen
class SyncResult(CommandResult):
    """``governance sync``: what was added to the books (``books`` None: nothing to add)."""

    plan: SyncPlan
    books: BooksWritten | None


@text_renderer(SyncResult)
def sync_text(result: SyncResult) -> list[str]:
    """Up to date, or how many operations and registries were added; each document written."""
    plan = result.plan
    summary = "up to date: nothing to add" if plan.update.empty else (
        f"synced: {plural(len(plan.operations), 'operation')} and {plural(len(plan.registries), 'registry', 'registries')} added"
    )
    return [summary, *_written_text(result.books)]


@json_renderer(SyncResult)
def sync_json(result: SyncResult) -> dict[str, Any]:
    """The documents written, the operations and registries added, the registries pending."""
    plan = result.plan
    return {
        **_written_json(result.books),
        "operations_added": [op.op_id for op in plan.operations],
        "registries_added": [item.entry.registry_id for item in plan.registries],
        "registries_pending": [item.entry.registry_id for item in plan.pending],
    }


@attrs.frozen
class FreezeResult(CommandResult):
    """``governance freeze``: the books written, or (``books`` None) the catalog already frozen."""

    books: BooksWritten | None
    #: The registry catalog (path as shown, version) when it was already frozen.
    already_frozen: tuple[str, str] | None = None


@text_renderer(FreezeResult)
def freeze_text(result: FreezeResult) -> list[str]:
    """Frozen (and the documents written), or already frozen."""
    if result.already_frozen is not None:
        path, version = result.already_frozen
        return [f"{path} v{version} is already frozen; nothing written"]
    return ["registry catalog frozen", *_written_text(result.books)]


@json_renderer(FreezeResult)
def freeze_json(result: FreezeResult) -> dict[str, Any]:
    """The documents written (none when already frozen); ``frozen`` is always true."""
    if result.books is None:
        return {"written": [], "frozen": True}
    return {**_written_json(result.books), "frozen": True}


@attrs.frozen
class AddendumResult(CommandResult):
    """``governance addendum``: the addendum written, or (``books`` None) why nothing was."""

    label: str
    books: BooksWritten | None
    #: The current addendum (path as shown, version) when it is up to date; None when none exists.
    up_to_date: tuple[str, str] | None = None


@text_renderer(AddendumResult)
def addendum_text(result: AddendumResult) -> list[str]:
    """The documents written, or that the addendum is up to date, or that none is needed."""
    if result.books is not None:
        return _written_text(result.books)
    if result.up_to_date is not None:
        path, version = result.up_to_date
        return [f"{path} v{version} is up to date; nothing written"]
    return [f"no registry is missing from the frozen catalog; no addendum {result.label!r} written"]


@json_renderer(AddendumResult)
def addendum_json(result: AddendumResult) -> dict[str, Any]:
    """The documents written (none when up to date) and the label."""
    if result.books is None:
        return {"written": [], "label": result.label}
    return {**_written_json(result.books), "label": result.label}


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
        written = _write(workspace, update)
    state.output.show(OperationAddedResult(op_id, operation.title, written))


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
        made_runs = tuple(runs_by_operation(workspace_runs(workspace)).get(op_id, ()))
        update = plan_remove_op(load_books(workspace.governance_dir), op_id, clock, declared_by=declared_by, made_runs=made_runs)
        written = _write(workspace, update)
    state.output.show(OperationRemovedResult(op_id, written))


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
        written = None if plan.update.empty else _write(workspace, plan.update)
    for item in plan.pending:
        state.output.warn(
            f"{item.entry.registry_id}: the registry catalog is frozen; add it with 'govern governance addendum --label L' (or sync --label L)"
        )
    state.output.show(SyncResult(plan, written))


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
            state.output.show(FreezeResult(None, already_frozen=(path, books.registry_catalog.version)))
            return
        written = _write(workspace, update)
    state.output.show(FreezeResult(written))


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
            up_to_date = None if current is None else (_relative(workspace, current.relpath), current.version)
            state.output.show(AddendumResult(chosen, None, up_to_date))
            return
        written = _write(workspace, update)
    state.output.show(AddendumResult(chosen, written))


@governance_app.command("scorecard", short_help="Show the scorecard, every figure derived now")
def scorecard(ctx: typer.Context) -> None:
    """Show the scorecard: figures derived now, the previous version's, and the deltas.

    Exit 1 when the stored scorecard disagrees with the figures the books give.
    """
    from govern.governance.scorecard import derive_figures, scorecard_disagreements
    from govern.governance.store import load_books, open_books

    state: CliState = ctx.obj
    workspace = state.workspace()
    with open_books(workspace, state.lock_timeout) as notes:
        _warn_all(state, notes)
        books = load_books(workspace.governance_dir)
    state.output.show(ScorecardResult(books.scorecard, derive_figures(books), tuple(scorecard_disagreements(books))))


@attrs.frozen
class ScorecardResult(CommandResult):
    """``governance scorecard``: the stored scorecard, the figures derived now, and where they disagree."""

    card: Scorecard
    derived: Figures
    #: ``(figure, stored, derived)`` for each figure the stored scorecard gets wrong.
    disagreements: tuple[tuple[str, Any, Any], ...]

    @property
    def exit_code(self) -> int:
        """1 when the stored scorecard disagrees with the books."""
        return ExitCode.PROBLEMS if self.disagreements else ExitCode.OK


@text_renderer(ScorecardResult)
def scorecard_text(result: ScorecardResult) -> list[str]:
    """The version, a row per figure (previous -> now), then each disagreement."""
    from govern.governance.figures import figure_rows

    card = result.card
    previous = f" (previous v{card.previous_version})" if card.previous is not None else " (first version)"
    lines = [f"{card.NAME} v{card.version}{previous}"]
    lines.extend(f"  {label:<20} {text}" for label, text in figure_rows(card.previous, result.derived))
    for name, stored, figure in result.disagreements:
        lines.append(f"  DISAGREES: the stored scorecard says {name} {stored}; the books give {figure}")
    return lines


@json_renderer(ScorecardResult)
def scorecard_json(result: ScorecardResult) -> dict[str, Any]:
    """The figures derived now, the previous version's and the deltas, whether the stored ones match."""
    from govern.governance.figures import figure_deltas

    card, derived = result.card, result.derived
    return {
        "version": card.version,
        "figures": derived.to_json(),
        "previous": None if card.previous is None else {"version": card.previous_version, "figures": card.previous.to_json()},
        "deltas": None if card.previous is None else figure_deltas(card.previous, derived),
        "stored_matches": not result.disagreements,
    }


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
        result = check_books(workspace.governance_dir, known_registries(workspace, host), host.operations(), workspace_runs(workspace))
    _warn_all(state, list(result.warnings))
    state.output.show(GovernanceCheckResult(result, workspace.config.workspace.governance_dir))


@attrs.frozen
class GovernanceCheckResult(CommandResult):
    """``governance check``: every disagreement found in the books."""

    check: CheckResult
    #: The governance folder as configured: documents are shown relative to the workspace.
    governance_dir: str

    @property
    def exit_code(self) -> int:
        """1 when anything disagrees."""
        return ExitCode.OK if self.check.ok else ExitCode.PROBLEMS


@text_renderer(GovernanceCheckResult)
def governance_check_text(result: GovernanceCheckResult) -> list[str]:
    """Passed, with the documents and headline figures; or each problem, then FAILED."""
    check = result.check
    if check.ok:
        books = check.books
        assert books is not None
        return [
            f"governance check passed: {plural(len(books.documents()), 'document')} agree "
            f"({plural(books.scorecard.figures.operations, 'operation')}, {books.scorecard.figures.sealed_text} sealed registries)"
        ]
    lines = [f"  {problem}" for problem in check.problems]
    lines.append(f"governance check FAILED: {plural(len(check.problems), 'problem')}")
    return lines


@json_renderer(GovernanceCheckResult)
def governance_check_json(result: GovernanceCheckResult) -> dict[str, Any]:
    """Whether it passed, the problems and warnings, and each document's version."""
    check = result.check
    data: dict[str, Any] = {"ok": check.ok, "problems": [problem_json(p) for p in check.problems], "warnings": list(check.warnings)}
    if check.books is not None:
        data["documents"] = {f"{result.governance_dir}/{d.relpath}": d.version for d in check.books.documents()}
    return data


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(governance_app, name="governance", short_help="The governance books: operations, coverage, scorecard")
