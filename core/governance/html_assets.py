"""The HTML report's page shell: its one stylesheet and one small script, inlined in every page.

Every page of ``govern report html`` is a file that stands alone: no CDN, no web font, no
request of any kind (it opens from ``file://``); the system font stack is used. The script
only adds behaviour to what the HTML already shows — a filter box and sortable columns for
each table marked ``data-table`` — so every page reads the same without JavaScript (the
filter box is ``hidden`` until the script shows it).
"""

from __future__ import annotations

from html import escape

STYLE = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --added: #1a7f37;
  --removed: #cf222e; --modified: #9a6700; --unknown: #6e7781; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 78rem; padding: 1rem 1.5rem 3rem; line-height: 1.45; }
nav.crumbs { font-size: .9rem; margin-bottom: .5rem; }
h1 { font-size: 1.6rem; margin: .3rem 0 .8rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.unknown td { background: #eef0f2; font-style: italic; }
th button { all: unset; cursor: pointer; font-weight: 600; } th button:focus-visible { outline: 2px solid #0969da; }
th[aria-sort=ascending] button::after { content: " \\25B2"; } th[aria-sort=descending] button::after { content: " \\25BC"; }
.filter { margin: .5rem 0; } .filter input { font: inherit; padding: .25rem .4rem; width: 24rem; max-width: 100%; }
dl.figures { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.figures dt { font-weight: 600; } dl.figures dd { margin: 0; }
.status-passed { color: var(--added); } .status-failed { color: var(--removed); font-weight: 600; } .status-not_run { color: var(--muted); }
.chart { overflow-x: auto; border: 1px solid var(--line); padding: .3rem; background: #fff; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: var(--ink); }
svg .bar-added { fill: var(--added); } svg .bar-removed { fill: url(#pattern-removed); stroke: var(--removed); }
svg .bar-modified { fill: url(#pattern-modified); stroke: var(--modified); }
svg .bar-unknown { fill: #fff; stroke: var(--unknown); stroke-dasharray: 4 3; }
svg a:focus rect, svg a:hover rect { stroke: #0969da; stroke-width: 2; }
.pages a, .pages strong { margin-right: .6rem; }
.note { color: var(--muted); font-size: .9rem; }
"""

SCRIPT = """
(function () {
  "use strict";
  function cellKey(row, column) {
    var cell = row.cells[column];
    if (!cell) { return ""; }
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim() : key;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  document.querySelectorAll("table[data-table]").forEach(function (table) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var total = body.rows.length;
    var box = document.querySelector("input[data-filter-for='" + table.id + "']");
    var counter = document.querySelector("[data-count-for='" + table.id + "']");
    function count(shown) { if (counter) { counter.textContent = shown + " of " + total + " rows shown"; } }
    if (box) {
      box.closest(".filter").hidden = false;
      box.addEventListener("input", function () {
        var needle = box.value.toLowerCase(), shown = 0;
        Array.prototype.forEach.call(body.rows, function (row) {
          var keep = needle === "" || row.textContent.toLowerCase().indexOf(needle) !== -1;
          row.hidden = !keep;
          if (keep) { shown += 1; }
        });
        count(shown);
      });
    }
    table.querySelectorAll("thead th").forEach(function (th, column) {
      var label = th.textContent;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.title = "Sort by " + label;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { var c = compare(cellKey(a, column), cellKey(b, column)); return ascending ? c : -c; });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (row) { fragment.appendChild(row); });
        body.appendChild(fragment);
      });
    });
  });
})();
"""


def page(title: str, body: list[str], *, home: str | None) -> bytes:
    """One complete, self-contained HTML page: ``title`` (text, escaped here), ``body`` (HTML
    already escaped by its maker), a link back to the overview at ``home`` (None: this is it)."""
    crumbs = "" if home is None else f'<nav class="crumbs"><a href="{escape(home)}">Overview</a></nav>'
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No request may leave the page: nothing is loaded from anywhere, not even a favicon.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">",
        '<link rel="icon" href="data:,">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        crumbs,
        "<main>",
        *body,
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")


def filter_box(table_id: str, label: str) -> str:
    """The filter box of table ``table_id`` (hidden until the script runs) and its row counter."""
    tid = escape(table_id)
    return (
        f'<div class="filter" hidden><label>{escape(label)} <input type="search" data-filter-for="{tid}" '
        f'aria-controls="{tid}"></label> <span role="status" data-count-for="{tid}"></span></div>'
    )
