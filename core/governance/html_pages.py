"""The pages of ``govern report html``: the overview, a registry's pages, its paths' histories.

Every text that comes from data — registry ids, paths, run ids, reasons — goes through
:func:`html.escape` (quotes too) before it is written, whatever characters it holds. Every
number links to where it comes from: a record's anchor (``#rec-<line>``, its line in the
latest build's log), the copy of that log or of a governance document under ``evidence/``.

Large logs: a registry's transitions are shown at most :data:`TRANSITIONS_PER_PAGE` to a page
(its timeline, records and changed paths) and at most :data:`CHANGES_PER_PAGE` changed paths to
a page (one transition that changed more — a bootstrap of a million files — has a page of its
own listing the first of them, the rest on its paths pages and in the log), and its paths'
histories :data:`PATHS_PER_PAGE` paths to a page — never a page per path — so a registry of
10,000 transitions is 20 small pages (docs/governance.md, "The HTML report").
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from govern.format.models import ref_label
from govern.format.paths import is_run_id
from govern.governance.figures import Figures, figure_rows
from govern.governance.html_assets import filter_box, page
from govern.governance.html_site import LoggedTransition, RegistrySite, SiteData
from govern.governance.html_timeline import BARS, TimelinePoint, timeline_svg
from govern.log.query import UNKNOWN_LETTER, path_histories
from govern.log.transparency import b64
from govern.runtime.clock import format_utc

TRANSITIONS_PER_PAGE = 500
CHANGES_PER_PAGE = 5000
PATHS_PER_PAGE = 1000
#: Words for the letters of ``delta show``'s name-status lines.
CHANGE_WORDS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", UNKNOWN_LETTER: "unknown"}
STATUS_WORDS = {"passed": "✔ passed", "failed": "✘ failed", "not_run": "– not run"}


def e(value: object) -> str:
    """``value`` as escaped HTML text (attribute-safe: quotes escaped too)."""
    return escape(str(value), quote=True)


def snapshot_label(ref: object) -> str:
    """A snapshot's short label: the time of a run id (``2026-02-05 03:10:05``), else its ref label."""
    label = ref_label(ref) or ""
    if is_run_id(label):
        day, clock = label.split("__")[:2]
        return f"{day} {clock[0:2]}:{clock[2:4]}:{clock[4:6]}"
    return label


def _table(table_id: str, headers: Sequence[tuple[str, bool]], rows: list[str], *, caption: str, interactive: bool = False, foot: str = "") -> list[str]:
    """A table with a caption and header cells (``(text, numeric)``); ``rows`` are ``<tr>`` HTML."""
    marker = " data-table" if interactive else ""
    head = "".join(f'<th scope="col"{" class=num" if numeric else ""}>{e(text)}</th>' for text, numeric in headers)
    return [
        f'<table id="{e(table_id)}"{marker}><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>',
        *rows,
        f"</tbody>{foot}</table>",
    ]


def _num(value: object, href: str, sort: object | None = None) -> str:
    """A numeric cell linking to ``href``, where the number comes from."""
    key = f' data-sort="{e(sort)}"' if sort is not None else ""
    return f'<td class="num"{key}><a href="{e(href)}">{e(value)}</a></td>'


# -------------------------------------------------------------------------------------------
# The overview
# -------------------------------------------------------------------------------------------


def _registry_href(registry: RegistrySite, anchor: str = "") -> str:
    return f"registries/{registry.slug}.html{anchor}"


def _summary(site: SiteData) -> list[str]:
    latest = site.evidence.latest
    covered = [r for r in site.registries if r.status == "covered"]
    excluded = [r for r in site.registries if r.status == "excluded"]
    records = len(latest.records) if latest else 0
    log_href = site.evidence_path(latest.artifact) if latest else "#build"
    return [
        '<section id="summary" aria-labelledby="summary-title"><h2 id="summary-title">At a glance</h2><dl class="figures">',
        f'<dt>Registries covered</dt><dd><a href="#covered" data-figure="registries_covered">{len(covered)}</a></dd>',
        f'<dt>Registries excluded (by design)</dt><dd><a href="#excluded" data-figure="registries_excluded">{len(excluded)}</a></dd>',
        f'<dt>Delta records</dt><dd><a href="{e(log_href)}" data-figure="records">{records}</a> (lines of the latest build\'s log)</dd>',
        f'<dt>Delta-log builds</dt><dd><a href="#builds" data-figure="builds">{len(site.evidence.builds)}</a></dd>',
        "</dl></section>",
    ]


def _build_section(site: SiteData) -> list[str]:
    latest = site.evidence.latest
    lines = ['<section id="build" aria-labelledby="build-title"><h2 id="build-title">Latest build</h2>']
    if latest is None:
        why = site.evidence.latest_problem or "no delta-log build yet (run 'govern delta build')"
        return [*lines, f"<p>No build: {e(why)}.</p></section>"]
    lines += [
        '<dl class="figures">',
        f"<dt>Build run</dt><dd><code>{e(latest.run_id)}</code> (<a href=\"{e(site.evidence_path('run.json'))}\">run.json</a>)</dd>",
        f"<dt>ROOT_SHA256</dt><dd><a href=\"{e(site.evidence_path('MANIFEST.sha256'))}\"><code>{e(latest.root_sha256 or 'none')}</code></a>"
        f" (pins <a href=\"{e(site.evidence_path('manifest.json'))}\">manifest.json</a>)</dd>",
        f'<dt>Delta log</dt><dd><a href="{e(site.evidence_path(latest.artifact))}"><code>{e(latest.artifact)}</code></a>, '
        f"{len(latest.records)} records, sha256 <code>{e(latest.log_sha256)}</code></dd>",
    ]
    checkpoint = site.checkpoint
    if checkpoint is None:
        lines.append("<dt>Checkpoint</dt><dd>none in this build</dd>")
    else:
        cp = checkpoint.checkpoint
        signed = ", ".join(checkpoint.signers) if checkpoint.signers else "unsigned"
        href = site.evidence_path("checkpoint")
        lines += [
            f"<dt>Checkpoint origin</dt><dd><code>{e(cp.origin)}</code></dd>",
            f'<dt>Checkpoint tree size</dt><dd><a href="{e(href)}" data-figure="checkpoint_size">{cp.size}</a></dd>',
            f"<dt>Checkpoint root</dt><dd><code>{e(b64(cp.root_hash))}</code> (base64, as in the checkpoint)</dd>",
            f"<dt>Checkpoint signatures</dt><dd>{e(signed)} (not verified here: <code>govern verify --log --checkpoint</code>)</dd>",
        ]
    lines.append("</dl>")
    rows = [
        f"<tr><td><code>{e(b.run_id)}</code></td>{_num(b.records, '#build')}<td><code>{e(b.root_sha256 or 'none')}</code></td>"
        f"<td>{'✔ intact' if b.ok else '✘ problems'}</td></tr>"
        for b in site.evidence.builds
    ]
    lines += _table("builds", [("Build", False), ("Records", True), ("ROOT_SHA256", False), ("verify --log", False)], rows, caption="Every build of the log, oldest first")
    return [*lines, "</section>"]


def _checks_section(site: SiteData) -> list[str]:
    rows = [
        f'<tr><td>{e(c.name)}</td><td class="status-{e(c.status)}">{e(STATUS_WORDS[c.status])}</td><td>{e(c.summary)}'
        + (f"<ul>{''.join(f'<li>{e(p)}</li>' for p in c.problems)}</ul>" if c.problems else "")
        + "</td></tr>"
        for c in site.evidence.checks()
    ]
    return [
        '<section id="verification" aria-labelledby="verification-title"><h2 id="verification-title">Verification</h2>',
        "<p>Each check ran when this report was generated (the checks of <code>govern report validation</code>).</p>",
        *_table("checks", [("Check", False), ("Status", False), ("What it found", False)], rows, caption="Checks run for this report"),
        "</section>",
    ]


def _registries_section(site: SiteData) -> list[str]:
    covered = [r for r in site.registries if r.status == "covered"]
    rows = []
    for r in covered:
        f = r.figures
        page_href = _registry_href(r)
        figures = (f.snapshots, f.records, f.bootstrap, f.transitions, f.unknown) if f else (0, 0, 0, 0, 0)
        link = f'<a href="{e(page_href)}"><code>{e(r.registry_id)}</code></a>' if r.transitions else f"<code>{e(r.registry_id)}</code>"
        rows.append(
            f"<tr><td>{link}</td><td>{e(r.kind)}</td>"
            + "".join(_num(value, _registry_href(r, "#records") if r.transitions else "#covered") for value in figures)
            + "</tr>"
        )
    totals = [sum((r.figures.snapshots, r.figures.records, r.figures.bootstrap, r.figures.transitions, r.figures.unknown)[i] for r in covered if r.figures) for i in range(5)]
    foot = "<tfoot><tr><th scope=\"row\">Total</th><td></td>" + "".join(f'<td class="num"><a href="#covered">{t}</a></td>' for t in totals) + "</tr></tfoot>"
    lines = [
        '<section id="registries" aria-labelledby="registries-title"><h2 id="registries-title">Registries</h2>',
        '<h3 id="covered">Covered</h3>',
        *_table(
            "covered-table",
            [("Registry", False), ("Kind", False), ("Snapshots", True), ("Records", True), ("Bootstrap", True), ("Transitions", True), ("Unknown basis", True)],
            rows,
            caption="Registries the delta log covers (records per registry: 1 bootstrap + 1 per transition)",
            foot=foot,
        ),
        '<h3 id="excluded">Excluded (by design)</h3>',
    ]
    excluded = [r for r in site.registries if r.status == "excluded"]
    lines += _table(
        "excluded-table",
        [("Registry", False), ("Kind", False), ("Reason", False)],
        [f"<tr><td><code>{e(r.registry_id)}</code></td><td>{e(r.kind)}</td><td>{e(r.reason or '')}</td></tr>" for r in excluded],
        caption="Registries excluded, each with its reason",
    )
    others = [r for r in site.registries if r.status not in ("covered", "excluded")]
    if others:
        lines.append('<h3 id="other">Skipped, not selected or not in the latest build</h3>')
        lines += _table(
            "other-table",
            [("Registry", False), ("Kind", False), ("Status", False), ("Reason", False)],
            [f"<tr><td><code>{e(r.registry_id)}</code></td><td>{e(r.kind)}</td><td>{e(r.status)}</td><td>{e(r.reason or '')}</td></tr>" for r in others],
            caption="Registries the latest build did not cover",
        )
    return [*lines, "</section>"]


def _scorecard_section(site: SiteData) -> list[str]:
    books = site.evidence.books
    lines = ['<section id="scorecard" aria-labelledby="scorecard-title"><h2 id="scorecard-title">Scorecard</h2>']
    if books is None:
        return [*lines, "<p>The governance books could not be read (see the governance check above).</p></section>"]
    scorecard = books.scorecard
    href = f"evidence/governance/{scorecard.relpath}"
    lines.append(f'<p>From <a href="{e(href)}"><code>{e(scorecard.relpath)}</code></a> v{e(scorecard.version)}, derived from the books (<code>govern governance check</code> recomputes it).</p>')
    rows = [f'<tr><th scope="row">{e(label)}</th><td><a href="{e(href)}">{e(text)}</a></td></tr>' for label, text in figure_rows(scorecard.previous, scorecard.figures)]
    lines += _table("scorecard-figures", [("Figure", False), ("Value", False)], rows, caption=f"Scorecard v{scorecard.version} against v{scorecard.previous_version or '—'}")
    history = []
    for entry in scorecard.changelog:
        figures = Figures.from_json(entry.after)
        history.append(
            f"<tr><td>{e(entry.version)}</td><td>{e(entry.date)}</td>{_num(figures.executables, href)}{_num(figures.operations, href)}"
            f'<td><a href="{e(href)}">{e(figures.sealed_text)}</a></td><td><a href="{e(href)}">{e(figures.share_text)}</a></td>'
            f"<td>{e('; '.join(f'{c.change}: {c.details}' for c in entry.changes))}</td></tr>"
        )
    threshold = scorecard.figures.threshold_label
    lines += _table(
        "scorecard-history",
        [("Version", False), ("Date", False), ("Executables", True), ("Operations", True), ("Sealed registries", False), (f"{threshold} operations", False), ("Changes", False)],
        history,
        caption="The scorecard's history, one row per version (from its changelog)",
    )
    return [*lines, "</section>"]


def overview_page(site: SiteData) -> bytes:
    """``index.html``: registries, scorecard and its history, the latest build, checkpoint, checks."""
    evidence = site.evidence
    latest = evidence.latest
    status = "no build" if latest is None else ("all checks passed" if all(c.status != "failed" for c in evidence.checks()) else "checks FAILED")
    body = [
        "<h1>Registry delta log — report</h1>",
        f"<p>Workspace <code>{e(evidence.workspace_name)}</code> · report time {e(format_utc(site.clock))} (the build clock: "
        f"<code>--at</code>, else <code>SOURCE_DATE_EPOCH</code>) · status: <strong>{e(status)}</strong></p>",
        *_summary(site),
        *_registries_section(site),
        *_scorecard_section(site),
        *_build_section(site),
        *_checks_section(site),
    ]
    return page("govern — registry delta log report", body, home=None)


# -------------------------------------------------------------------------------------------
# A registry's pages
# -------------------------------------------------------------------------------------------


def registry_page_name(registry: RegistrySite, number: int) -> str:
    """The file name (in ``registries/``) of the registry's page ``number`` (1-based)."""
    return f"{registry.slug}.html" if number == 1 else f"{registry.slug}-{number}.html"


def paths_page_name(registry: RegistrySite, number: int) -> str:
    """The file name (in ``registries/``) of the registry's paths page ``number`` (1-based)."""
    return f"{registry.slug}-paths.html" if number == 1 else f"{registry.slug}-paths-{number}.html"


def _pager(names: list[str], current: int, what: str) -> str:
    if len(names) < 2:
        return ""
    links = [f"<strong>{n}</strong>" if n == current else f'<a href="{e(name)}">{n}</a>' for n, name in enumerate(names, start=1)]
    return f'<nav class="pages" aria-label="{e(what)}">{e(what)}: {"".join(links)}</nav>'


def _counts_cells(item: LoggedTransition) -> str:
    record = item.transition.record
    if item.transition.unknown:
        reason = record.get("unknown_reason") or "no reason recorded"
        return f'<td colspan="3">unknown — {e(reason)}</td>'
    target = f"#chg-{item.line}" if item.transition.changes else f"#rec-{item.line}"
    return "".join(_num(record["counts"][key], target) for key, _, _ in BARS)


def _record_rows(items: Sequence[LoggedTransition], log_href: str | None) -> list[str]:
    rows = []
    for item in items:
        record = item.transition.record
        line = f'<a href="{e(log_href)}">line {item.line}</a>' if log_href else f"line {item.line}"
        css = ' class="unknown"' if item.transition.unknown else ""
        rows.append(
            f'<tr id="rec-{item.line}"{css}><td data-sort="{item.line}">{line}</td>'
            f"<td><code>{e(ref_label(record['from_ref']) or '— (bootstrap)')}</code></td>"
            f"<td><code>{e(ref_label(record['to_ref']) or '')}</code></td><td>{e(record['delta_basis'])}</td>{_counts_cells(item)}</tr>"
        )
    return rows


def transition_pages(items: Sequence[LoggedTransition]) -> list[list[LoggedTransition]]:
    """``items`` cut into pages, in order: a page ends before :data:`TRANSITIONS_PER_PAGE`
    transitions or :data:`CHANGES_PER_PAGE` changed paths would be exceeded (a transition alone
    above the latter has a page of its own). Always at least one page."""
    pages: list[list[LoggedTransition]] = [[]]
    changes = 0
    for item in items:
        size = len(item.transition.changes)
        if pages[-1] and (len(pages[-1]) == TRANSITIONS_PER_PAGE or changes + size > CHANGES_PER_PAGE):
            pages.append([])
            changes = 0
        pages[-1].append(item)
        changes += size
    return pages


def _change_rows(items: Sequence[LoggedTransition], path_pages: dict[str, str]) -> list[str]:
    rows = []
    for item in items:
        record = item.transition.record
        when = e(snapshot_label(record["to_ref"]))
        cell = f'<td data-sort="{item.line}"><a href="#rec-{item.line}">line {item.line}</a></td><td>{when}</td>'
        if item.transition.unknown:
            where = record["to_ref"].get("relpath") or "(the whole snapshot)"
            rows.append(f'<tr id="chg-{item.line}" class="unknown">{cell}<td>? unknown</td><td><code>{e(where)}</code></td></tr>')
            continue
        changes = item.transition.changes
        for index, (letter, *paths) in enumerate(changes[:CHANGES_PER_PAGE]):
            anchor = f' id="chg-{item.line}"' if index == 0 else ""
            # A rename (record v0.2) names where the path was and where it went: both link to their history.
            link = " → ".join(f'<a href="{e(path_pages[path])}"><code>{e(path)}</code></a>' for path in paths)
            rows.append(f"<tr{anchor}>{cell}<td>{letter} {CHANGE_WORDS[letter]}</td><td>{link}</td></tr>")
        if len(changes) > CHANGES_PER_PAGE:
            rest = len(changes) - CHANGES_PER_PAGE
            rows.append(f"<tr>{cell}<td>…</td><td>and {rest} more paths: see the paths pages, or line {item.line} of the log</td></tr>")
    return rows


def registry_pages(registry: RegistrySite, build: tuple[str, str] | None) -> dict[str, bytes]:
    """The registry's pages (``registries/…``): its transitions as :func:`transition_pages`
    cuts them, and its paths' histories :data:`PATHS_PER_PAGE` to a page. ``build``: the latest
    build's run id and log artifact (the evidence copy record lines link to)."""
    items = list(registry.transitions)
    chunks = transition_pages(items)
    names = [registry_page_name(registry, n) for n in range(1, len(chunks) + 1)]
    page_of_line = {item.line: names[number] for number, chunk in enumerate(chunks) for item in chunk}
    histories = path_histories(item.transition for item in items)
    line_of = {id(item.transition): item.line for item in items}
    paths = list(histories)
    path_chunks = [paths[i : i + PATHS_PER_PAGE] for i in range(0, len(paths), PATHS_PER_PAGE)] or [[]]
    path_names = [paths_page_name(registry, n) for n in range(1, len(path_chunks) + 1)]
    path_pages = {path: f"{path_names[index // PATHS_PER_PAGE]}#path-{index}" for index, path in enumerate(paths)}
    log_href = f"../evidence/{build[0]}/{build[1]}" if build else None
    files: dict[str, bytes] = {}
    title = f"Registry {registry.registry_id}"
    f = registry.figures
    facts = (
        f"<p>Kind <strong>{e(registry.kind)}</strong> · {e(registry.status)}"
        + (f" ({e(registry.reason)})" if registry.reason else "")
        + (f" · {f.snapshots} snapshots, {f.records} records ({f.bootstrap} bootstrap, {f.transitions} transitions, {f.unknown} with basis unknown)" if f else "")
        + "</p>"
    )
    for number, chunk in enumerate(chunks, start=1):
        name = names[number - 1]
        first, last = (chunk[0].line, chunk[-1].line) if chunk else (0, 0)
        points = [
            TimelinePoint(
                label=snapshot_label(item.transition.record["to_ref"]),
                href=f"#rec-{item.line}",
                line=item.line,
                counts=None if item.transition.unknown else dict(item.transition.record["counts"]),
                reason=item.transition.record.get("unknown_reason"),
            )
            for item in chunk
        ]
        body = [
            f"<h1>Registry <code>{e(registry.registry_id)}</code></h1>",
            facts,
            _pager(names, number, "Transition pages"),
            f'<p><a href="{e(path_names[0])}">History of each path</a> ({len(paths)} paths)</p>',
            '<h2 id="timeline">Timeline</h2>',
            f'<p class="note">One snapshot per record (lines {first}–{last} of the log on this page), oldest first, evenly spaced in time order. '
            "Each count links to its record.</p>",
            f'<div class="chart">{timeline_svg(points, f"Timeline of {registry.registry_id}: added, removed and modified per snapshot")}</div>',
            '<h2 id="records">Transitions</h2>',
            *_table(
                "transitions",
                [("Record", False), ("From", False), ("To", False), ("Basis", False), ("Added", True), ("Removed", True), ("Modified", True)],
                _record_rows(chunk, log_href),
                caption="Each record: its line in the latest build's log, its snapshots and counts",
                interactive=True,
            ),
            '<h2 id="changes">Paths changed</h2>',
            filter_box("paths", "Filter paths:"),
            *_table(
                "paths",
                [("Record", False), ("Snapshot", False), ("Change", False), ("Path", False)],
                _change_rows(chunk, path_pages),
                caption="Every path each transition on this page changed (A added, D removed, M modified; ? unknown)",
                interactive=True,
            ),
        ]
        files[f"registries/{name}"] = page(title, [line for line in body if line], home="../index.html")
    for number, chunk_paths in enumerate(path_chunks, start=1):
        start = (number - 1) * PATHS_PER_PAGE
        rows = []
        for offset, path in enumerate(chunk_paths):
            history = histories[path]
            links = ", ".join(
                f'<a href="{e(page_of_line[line_of[id(t)]])}#rec-{line_of[id(t)]}">{letter} {e(snapshot_label(t.record["to_ref"]))}</a>'
                for t, letter in history
            )
            rows.append(f'<tr id="path-{start + offset}"><td><code>{e(path)}</code></td><td class="num">{len(history)}</td><td>{links}</td></tr>')
        body = [
            f"<h1>Paths of registry <code>{e(registry.registry_id)}</code></h1>",
            f'<p><a href="{e(names[0])}">Timeline and transitions</a> · each path\'s history across transitions, as '
            "<code>govern delta show --path</code> shows it (? = a transition whose basis is unknown, which may have touched it)</p>",
            _pager(path_names, number, "Path pages"),
            filter_box("path-history", "Filter paths:"),
            *_table(
                "path-history",
                [("Path", False), ("Transitions", True), ("History (oldest first)", False)],
                rows,
                caption="Each path and the transitions that touched it",
                interactive=True,
            ),
        ]
        files[f"registries/{path_names[number - 1]}"] = page(f"Paths of {registry.registry_id}", [line for line in body if line], home="../index.html")
    return files
