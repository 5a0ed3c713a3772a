"""``govern check [--since BUILD]``: the policies over the delta log, and the governance books."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.output import OkLine
from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.cli.state import CliState
from govern.errors import ExitCode, problem_json
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.governance.check import CheckResult
    from govern.log.policy_check import PolicyFindings


def check(
    ctx: typer.Context,
    since: Annotated[
        Optional[str],
        typer.Option("--since", metavar="BUILD", help="Judge only the records appended after this build (a build's run id)."),
    ] = None,
) -> None:
    """Check the policies of registry_config.toml over the delta log, and the governance books.

    Every record of the latest build's log (with --since BUILD: those appended after that
    build) is judged by the policies ([policies], [registries.ID.policy]; docs/policies.md);
    each violation is listed with its id (<registry>@<to-snapshot>:<rule>), the transition,
    the rule and the offending paths. A violation an operator allowed when the build was made
    (delta build --enforce --allow ID --reason TEXT) is listed as allowed, not as a violation.
    Then the governance books are checked as 'govern governance check' does (when the
    workspace has its governance folder). Exit 0 when nothing is wrong, 1 when a policy is
    broken or the books disagree.
    """
    from govern.governance.check import check_books
    from govern.governance.registries import known_registries
    from govern.governance.store import open_books
    from govern.log.policy_check import check_log
    from govern.runs.run_store import workspace_runs

    state: CliState = ctx.obj
    workspace = state.workspace()
    findings = check_log(workspace, since)
    books = None
    if workspace.governance_dir.is_dir():
        host = state.plugins()
        with open_books(workspace, state.lock_timeout) as notes:
            for note in notes:
                state.output.warn(note)
            books = check_books(workspace.governance_dir, known_registries(workspace, host), host.operations(), workspace_runs(workspace))
        for warning in books.warnings:
            state.output.warn(warning)
    state.output.show(WorkspaceCheckResult(findings, books, workspace.config.workspace.governance_dir))


@attrs.frozen
class WorkspaceCheckResult(CommandResult):
    """``govern check``: the policies' findings over the log, and the books' check (None when
    the workspace has no governance folder)."""

    policies: PolicyFindings
    books: CheckResult | None
    #: The governance folder as configured.
    governance_dir: str

    @property
    def ok(self) -> bool:
        """True when no policy is broken and the books agree."""
        return not self.policies.violations and (self.books is None or self.books.ok)

    @property
    def exit_code(self) -> int:
        """1 when a policy is broken or the books disagree."""
        return ExitCode.OK if self.ok else ExitCode.PROBLEMS


@text_renderer(WorkspaceCheckResult)
def check_text(result: WorkspaceCheckResult) -> list[str]:
    """Each violation (id, then the transition, rule and paths), each allowed one, the books, a verdict."""
    from govern.log.policy_check import violation_summary

    findings = result.policies
    lines: list[str] = []
    if findings.build is None:
        lines.append("policies: no delta log yet (nothing to judge)")
    else:
        scope = f" appended after {findings.since}" if findings.since else ""
        lines.append(f"policies: {plural(findings.records_judged, 'record')}{scope} of {findings.build} judged")
    for violation in findings.violations:
        lines.append(f"VIOLATION  {violation.violation_id}")
        lines.append(f"  {violation_summary(violation)}")
    for allowed in findings.allowed:
        lines.append(OkLine(f"ALLOWED    {allowed.violation.violation_id} (by {allowed.build}: {allowed.reason})"))
    if findings.violations:
        lines.append(f"{plural(len(findings.violations), 'policy violation')}, {len(findings.allowed)} allowed")
    else:
        lines.append(OkLine(f"no violations ({len(findings.allowed)} allowed)"))
    books = result.books
    if books is None:
        lines.append(f"governance books: none ({result.governance_dir}/ does not exist); not checked")
    elif books.ok:
        assert books.books is not None
        lines.append(OkLine(f"governance check passed: {plural(len(books.books.documents()), 'document')} agree"))
    else:
        lines.extend(f"  {problem}" for problem in books.problems)
        lines.append(f"governance check FAILED: {plural(len(books.problems), 'problem')}")
    return lines


@json_renderer(WorkspaceCheckResult)
def check_json(result: WorkspaceCheckResult) -> dict[str, Any]:
    """The build judged, the violations and allowed ones (every path), the books' problems."""
    findings, books = result.policies, result.books
    return {
        "ok": result.ok,
        "policies": {
            "build": findings.build,
            "since": findings.since,
            "records_judged": findings.records_judged,
            "violations": [violation.to_json() for violation in findings.violations],
            "allowed": [allowed.to_json() for allowed in findings.allowed],
        },
        "governance": None
        if books is None
        else {"ok": books.ok, "problems": [problem_json(p) for p in books.problems], "warnings": list(books.warnings)},
    }


def register(app: typer.Typer) -> None:
    """Mount the command on the root app."""
    app.command("check", short_help="Check the policies over the delta log, and the governance books")(check)
