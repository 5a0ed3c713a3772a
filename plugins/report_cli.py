"""``govern report validation | completion [--out FILE] [--at T]``: Markdown, every number derived;
``govern report html --out DIR [--at T]``: the same evidence as a static, self-contained site.

Each report runs its checks now (seals, ``verify --log``, schema validation, a rebuild on a
copy, reconciliation, ``governance check``) under the workspace lock, then renders. Without
``--out`` the Markdown goes to stdout; with it, the file is written atomically. Exit 1 when a
check behind a criterion failed; criteria that could not be proven are shown as such and
warned about, exit 0.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import attrs
import typer

from govern.cli.rendering import CommandResult, json_renderer, text_renderer
from govern.errors import ExitCode
from govern.format.plurals import plural

if TYPE_CHECKING:
    from govern.cli.state import CliState
    from govern.config.workspace import Workspace
    from govern.governance.evidence import Evidence
    from govern.governance.html_site import SiteData
    from govern.governance.reports import Report
    from govern.host.manager import PluginHost

report_app = typer.Typer(help="Generated reports: every number derived, every criterion with its evidence.", no_args_is_help=True)

OUT_OPTION = typer.Option("--out", metavar="FILE", help="Write the Markdown to FILE (default: stdout).")
AT_OPTION = typer.Option("--at", metavar="T", help="The report's date, YYYY-MM-DDTHH:MM:SSZ (default SOURCE_DATE_EPOCH, else now).")


@contextlib.contextmanager
def _gathered_evidence(state: CliState, workspace: Workspace, host: PluginHost) -> Iterator[Evidence]:
    """Under the workspace lock, the books opened (their notes shown as warnings): the
    evidence every report shows, its checks run with progress. The lock is held for the block."""
    from govern.governance.evidence import gather_evidence
    from govern.governance.store import open_books

    with open_books(workspace, state.lock_timeout) as notes:
        for note in notes:
            state.output.warn(note)
        with state.output.progress():
            evidence = gather_evidence(workspace, host)
        yield evidence


def _report(ctx: typer.Context, name: str, out: Path | None, at: str | None) -> None:
    from govern.governance.reports import NOT_PROVEN, build_report
    from govern.runtime import interrupts
    from govern.runtime.clock import resolve_clock
    from govern.store.atomic import write_atomic

    state: CliState = ctx.obj
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    with _gathered_evidence(state, workspace, host) as evidence:
        report = build_report(name, workspace, host, evidence, clock)
    unproven = [c.name for c in report.criteria if c.status == NOT_PROVEN]
    if unproven:
        state.output.warn(f"{plural(len(unproven), 'criterion', 'criteria')} not proven: {'; '.join(unproven)}")
    if out is not None:
        with interrupts.commit_point():
            write_atomic(out, report.markdown.encode("utf-8"))
    state.output.show(ReportResult(name, report, out))


@attrs.frozen
class ReportResult(CommandResult):
    """``govern report NAME``: the report built, and the file it was written to (None: stdout)."""

    name: str
    report: Report
    out: Path | None

    @property
    def exit_code(self) -> int:
        """1 when a check behind a criterion failed."""
        return ExitCode.PROBLEMS if self.report.failed else ExitCode.OK


@text_renderer(ReportResult)
def report_text(result: ReportResult) -> list[str]:
    """The Markdown itself, or (with --out) where it was written."""
    if result.out is not None:
        return [f"wrote {result.out}: {result.name} report, {result.report.status}"]
    return result.report.markdown.rstrip("\n").split("\n")


@json_renderer(ReportResult)
def report_json(result: ReportResult) -> dict[str, Any]:
    """The report's status, each criterion with its evidence, its data; the Markdown unless --out."""
    report = result.report
    data = {
        "report": result.name,
        "status": report.status,
        "out": None if result.out is None else str(result.out),
        "criteria": [{"name": c.name, "status": c.status, "evidence": c.evidence} for c in report.criteria],
        "context": report.data,
    }
    if result.out is None:
        data["markdown"] = report.markdown
    return data


@report_app.command("validation", short_help="The validation report: every check, per build")
def validation(
    ctx: typer.Context,
    out: Annotated[Optional[Path], OUT_OPTION] = None,
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """The validation report: every check run, per build and per registry, every problem."""
    _report(ctx, "validation", out, at)


@report_app.command("completion", short_help="The completion report, every criterion with evidence")
def completion(
    ctx: typer.Context,
    out: Annotated[Optional[Path], OUT_OPTION] = None,
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """The completion report in the seed's shape, every criterion with its evidence.

    Artifacts, build summary, governance updates, schema summary, success criteria and hard constraints.
    """
    _report(ctx, "completion", out, at)


HTML_OUT_OPTION = typer.Option("--out", metavar="DIR", help="The folder to write the site into: must not exist, or be empty.")


@attrs.frozen
class HtmlReportResult(CommandResult):
    """``govern report html``: the site written, where, and the figures it leads with."""

    out: Path
    site: SiteData
    files: int

    @property
    def exit_code(self) -> int:
        """1 when a check the site shows failed (the site is written all the same)."""
        return ExitCode.PROBLEMS if any(check.status == "failed" for check in self.site.evidence.checks()) else ExitCode.OK


@text_renderer(HtmlReportResult)
def html_report_text(result: HtmlReportResult) -> list[str]:
    """Where the site is, and the page to open."""
    from govern.governance.html_site import site_summary

    summary = site_summary(result.site)
    failed = [f"check failed: {check.name}: {check.summary}" for check in result.site.evidence.checks() if check.status == "failed"]
    return [
        f"wrote {result.out}: HTML report, {plural(result.files, 'file')} "
        f"({plural(summary['registries_covered'], 'registry', 'registries')} covered, {plural(summary['records'], 'record')})",
        *failed,
        f"open {result.out / 'index.html'}",
    ]


@json_renderer(HtmlReportResult)
def html_report_json(result: HtmlReportResult) -> dict[str, Any]:
    """The folder, its index page, the number of files, the overview's figures and the checks."""
    from govern.governance.html_site import site_summary

    return {
        "report": "html",
        "out": str(result.out),
        "index": str(result.out / "index.html"),
        "files": result.files,
        "summary": site_summary(result.site),
        "checks": [{"name": c.name, "status": c.status, "summary": c.summary} for c in result.site.evidence.checks()],
    }


@report_app.command("html", short_help="A static, self-contained HTML site: timelines, paths, evidence")
def html(
    ctx: typer.Context,
    out: Annotated[Path, HTML_OUT_OPTION],
    at: Annotated[Optional[str], AT_OPTION] = None,
) -> None:
    """The delta log as a static site in DIR (opens from file://, no network): an overview,
    a timeline and tables per registry, each path's history, every number linked to its record.

    DIR must not exist or be empty (E_OUTPUT_EXISTS); the site is written whole or not at all.
    """
    from govern.governance.html_site import build_site, gather_site
    from govern.runtime.clock import resolve_clock
    from govern.store.atomic_folder import check_output_folder, write_folder_atomic

    state: CliState = ctx.obj
    what = "HTML report"
    check_output_folder(out, what)  # before the checks run: a wrong --out fails at once
    workspace = state.workspace()
    host = state.plugins()
    clock = resolve_clock(at)
    with _gathered_evidence(state, workspace, host) as evidence:
        site = gather_site(workspace, host, evidence, clock)
    files = build_site(site)
    write_folder_atomic(out, files, what=what)  # staged, then renamed into place: all or nothing
    state.output.show(HtmlReportResult(out, site, len(files)))


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(report_app, name="report", short_help="Generated reports, every number derived")
