"""``govern report html`` in a real browser (issue 17 point 1): headless Chromium — Debian's
``chromium`` package, installed by scripts/ensure-chromium.sh — driven by Playwright, never
``playwright install``. One browser for the session; the site is the reference workspace's,
built at the seed's clock. Every request a page makes is recorded (and any that is not
``file://`` aborted): none may leave ``file://``. Screenshots are kept in
``test-artifacts/report-html/`` (ignored by git) for a person or CI to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import launch_chromium
from governance_books import CHANGE_AT, gov, reference_copy

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts" / "report-html"
REPORT_AT = "2026-02-05T03:20:00Z"
BUILD = "2026-02-05__031005__registry_delta_log_build"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference workspace's HTML report, its log built at the seed's moment."""
    root = reference_copy(tmp_path_factory.mktemp("html-browser") / "ws")
    assert gov(root, "delta", "build", "--at", CHANGE_AT).returncode == 0
    out = root.parent / "site"
    result = gov(root, "report", "html", "--out", str(out), "--at", REPORT_AT)
    assert result.returncode == 0, result.stderr
    return out


class Watched:
    """A page, with every request it made, every request aborted and every console problem."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.aborted: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.context.set_default_timeout(5_000)  # a static page: anything slower is a failure
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.problems.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri())
        return self.page

    def assert_clean(self) -> None:
        assert self.problems == []
        assert self.aborted == []
        assert self.requests and all(url.startswith("file://") for url in self.requests), self.requests


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = Watched(browser)
    yield page
    page.assert_clean()
    page.context.close()


def _log_records(site: Path) -> list[dict[str, Any]]:
    data = (site / "evidence" / BUILD / "REGISTRY_DELTA_LOG_v0_1.jsonl").read_bytes()
    return [json.loads(line) for line in data.splitlines()]


def test_the_overview_shows_the_seeds_figures(site: Path, watched: Watched):
    page = watched.open(site / "index.html")
    figures = {key: page.locator(f"[data-figure={key}]").inner_text() for key in ("registries_covered", "registries_excluded", "records", "builds")}
    assert figures == {"registries_covered": "8", "registries_excluded": "4", "records": "24", "builds": "1"}
    assert page.locator("#covered-table tbody tr").count() == 8
    assert page.locator("#excluded-table tbody tr").count() == 4
    assert page.locator("#covered-table tfoot td.num").all_inner_texts() == ["24", "24", "8", "16", "0"]
    history = [row.split("\t") for row in page.locator("#scorecard-history tbody tr").all_inner_texts()]
    assert [cells[:6] for cells in history] == [
        ["0.1", "2026-02-03T18:00:00Z", "164", "35", "8/12", "30/35 (85.7%)"],
        ["0.2", "2026-02-05T03:10:05Z", "165", "36", "9/13", "31/36 (86.1%)"],
    ]
    assert "30/35 (85.7%) → 31/36 (86.1%) (+0.4pp)" in page.locator("#scorecard-figures").inner_text()
    assert page.locator("[data-figure=checkpoint_size]").inner_text() == "24"
    checkpoint = (site / "evidence" / BUILD / "checkpoint").read_text(encoding="utf-8").split("\n")
    assert checkpoint[1] == "24" and checkpoint[2] in page.locator("#build").inner_text()
    assert page.locator("#checks tbody tr").count() == 10
    assert page.locator("#checks .status-passed").count() == 10
    # Every number of the covered table links to where it comes from.
    assert page.locator("#covered-table td.num:not(:has(a))").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    assert (ARTIFACTS / "overview.png").stat().st_size > 10_000


def test_the_run_registry_timeline_has_a_snapshot_per_record_and_its_counts(site: Path, watched: Watched):
    page = watched.open(site / "index.html")
    page.get_by_role("link", name="run_registry", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Registry run_registry"
    records = [(line, r) for line, r in enumerate(_log_records(site), start=1) if r["registry_id"] == "run_registry"]
    snapshots = page.locator("svg.timeline g.snapshot")
    assert snapshots.count() == len(records) == 8
    for index, (line, record) in enumerate(records):
        group = snapshots.nth(index)
        assert group.get_attribute("data-line") == str(line)
        bars = group.locator("rect.bar")
        drawn = {bars.nth(i).get_attribute("data-kind"): int(bars.nth(i).get_attribute("data-count")) for i in range(bars.count())}
        assert drawn == record["counts"]
        # The count is written as text over each bar (colour is not the only carrier).
        assert [int(t) for t in group.locator("text.count").all_text_contents()] == [record["counts"][k] for k in ("added", "removed", "modified")]
        # …and each bar links to its record's row, which shows the same counts.
        assert group.locator("a").first.get_attribute("href") == f"#rec-{line}"
        row = page.locator(f"#rec-{line} td.num").all_inner_texts()
        assert [int(n) for n in row] == [record["counts"][k] for k in ("added", "removed", "modified")]
    page.screenshot(path=str(ARTIFACTS / "run_registry.png"), full_page=True)


def test_the_path_table_filters_and_sorts(site: Path, watched: Watched):
    page = watched.open(site / "index.html")
    page.get_by_role("link", name="run_registry", exact=True).click()
    page.wait_for_load_state()
    visible = page.locator("#paths tbody tr:visible")
    assert visible.count() == 8
    box = page.get_by_label("Filter paths:")
    box.fill("2026-01-1")  # the snapshots of 2026-01-14 and 2026-01-16
    assert visible.count() == 2
    assert page.locator("[data-count-for=paths]").inner_text() == "2 of 8 rows shown"
    assert [row.split("\t")[1] for row in visible.all_inner_texts()] == ["2026-01-14 16:20:45", "2026-01-16 11:07:30"]
    box.fill("no such path")
    assert visible.count() == 0
    box.fill("")
    assert visible.count() == 8
    header = page.locator("#paths thead th").first
    header.get_by_role("button").click()
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert visible.first.inner_text().startswith("line 23")


def test_every_page_loads_without_console_errors_or_requests_off_file(site: Path, watched: Watched):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 17  # the overview, and two pages of each of the 8 covered registries
    for path in pages:
        page = watched.open(path)
        assert page.locator("h1").count() == 1
        assert page.locator("table thead th").count() > 0
    watched.assert_clean()
